/**
 * HTTP surface on WVA_HTTP_PORT: /metrics (prom-client), /healthz (process alive), /readyz (ready
 * to answer KEDA), /debug/decisions and /debug/variants (JSON snapshots).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DecisionCache } from '../cache/decision-cache.js';
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { Logger } from './logger.js';
import type { ScalerMetrics } from './metrics.js';

export interface ReadinessCheck {
  readonly name: string;
  check(): { ok: boolean; detail?: string };
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: ScalerMetrics;
  readonly decisions: DecisionCache;
  readonly registry: VariantRegistry;
  readonly readiness: readonly ReadinessCheck[];
  readonly logger: Logger;
  /** Extra JSON debug endpoints: path -> snapshot. */
  readonly debug?: Readonly<Record<string, () => unknown>>;
}

export class HttpServer {
  private readonly server: Server;
  private boundPort = 0;

  constructor(private readonly opts: HttpServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err, url: req.url }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/metrics': {
        const body = await this.opts.metrics.registry.metrics();
        return send(res, 200, this.opts.metrics.registry.contentType, body);
      }
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz': {
        const results = this.opts.readiness.map((r) => ({ name: r.name, ...r.check() }));
        const ok = results.every((r) => r.ok);
        return json(res, ok ? 200 : 503, { ready: ok, checks: results });
      }
      case '/debug/decisions': {
        const variant = url.searchParams.get('variant');
        const list = this.opts.decisions.list().filter((d) => variant === null || d.variantKey === variant);
        list.sort((a, b) => (a.variantKey < b.variantKey ? -1 : 1));
        return json(res, 200, { count: list.length, decisions: list });
      }
      case '/debug/variants': {
        const list = this.opts.registry.all().sort((a, b) => (a.key < b.key ? -1 : 1));
        return json(res, 200, { count: list.length, variants: list });
      }
      default: {
        const extra = this.opts.debug?.[url.pathname];
        if (extra) return json(res, 200, await extra());
        return send(res, 404, 'text/plain', 'not found\n');
      }
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`);
}
