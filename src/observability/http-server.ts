/**
 * HTTP surface on WVA_HTTP_PORT: /metrics (prom-client), /healthz (process alive), /readyz (ready
 * to answer KEDA), /debug/decisions and /debug/variants (JSON snapshots).
 *
 * It shares the event loop with the gRPC hot path (GetMetrics), so no HTTP client may hold it up:
 *  - the /metrics exposition is rendered at most once per `metricsCacheMs`, shared by every scrape
 *    in that window (rendering 2,000 variants' series is milliseconds of CPU; 200 at once was
 *    seconds);
 *  - at most `maxConcurrentScrapes` /metrics responses are in flight; beyond that 503 Retry-After;
 *  - slow clients are cut off: headers within `headersTimeoutMs`, the whole request within
 *    `requestTimeoutMs`, an idle socket (one that never reads) after `idleTimeoutMs`;
 *  - a request target that is not a path (`GET //[`) is a 400, not a handler error.
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
  /** How long one rendering of /metrics is served (default 1000 ms; 0 = render every scrape). */
  readonly metricsCacheMs?: number;
  /** /metrics responses in flight at once before 503 (default 8). */
  readonly maxConcurrentScrapes?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Clock for the exposition cache (tests). */
  readonly now?: () => number;
}

/** One rendering of the exposition, shared by every scrape until it expires. */
class ExpositionCache {
  private rendered: { body: Promise<string>; at: number } | undefined;
  constructor(
    private readonly render: () => Promise<string>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}
  get(): Promise<string> {
    const t = this.now();
    const r = this.rendered;
    if (r && t - r.at < this.ttlMs) return r.body;
    const body = this.render();
    this.rendered = { body, at: t };
    body.catch(() => {
      if (this.rendered?.body === body) this.rendered = undefined;
    });
    return body;
  }
}

export class HttpServer {
  private readonly server: Server;
  private boundPort = 0;
  private readonly exposition: ExpositionCache;
  private scrapesInFlight = 0;
  /** Renders of the exposition (a cache miss each). */
  renders = 0;

  constructor(private readonly opts: HttpServerOptions) {
    this.exposition = new ExpositionCache(
      () => {
        this.renders++;
        return opts.metrics.registry.metrics();
      },
      opts.metricsCacheMs ?? 1000,
      opts.now ?? Date.now,
    );
    this.server = createServer(
      {
        headersTimeout: opts.headersTimeoutMs ?? 5000,
        requestTimeout: opts.requestTimeoutMs ?? 10_000,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          opts.logger.error({ err, url: req.url }, 'http handler failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error\n');
        });
      },
    );
    // A socket with nothing moving either way (a client that never reads, or a held-open idle one).
    this.server.setTimeout(opts.idleTimeoutMs ?? 15_000, (socket) => socket.destroy());
    this.server.keepAliveTimeout = 5000;
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
    const url = requestUrl(req.url);
    if (!url) return send(res, 400, 'text/plain', 'bad request target: expected a path such as /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/metrics': {
        if (this.scrapesInFlight >= (this.opts.maxConcurrentScrapes ?? 8)) {
          res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
          res.end('too many concurrent scrapes\n');
          return;
        }
        this.scrapesInFlight++;
        const done = (): void => {
          this.scrapesInFlight--;
        };
        res.once('close', done);
        const body = await this.exposition.get();
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

/** The request target as a URL on this server, or undefined when it is not an origin-form path. */
function requestUrl(target: string | undefined): URL | undefined {
  const t = target ?? '/';
  if (!t.startsWith('/') || t.startsWith('//')) return undefined;
  try {
    return new URL(t, 'http://localhost');
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(
    res,
    status,
    'application/json',
    `${JSON.stringify(body, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`,
  );
}
