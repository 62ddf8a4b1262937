import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the HTTP front needs from the fleet. */
export interface FleetHttpSource {
  /** All ready pods' exposition, or one pod's (undefined: unknown; 'not-ready': pending). */
  allPodsExposition(): Iterable<string>;
  podExposition(namespace: string, pod: string): Iterable<string> | 'not-ready' | undefined;
  gatewayExposition(): string;
  /** Prometheus http_sd target groups, one per ready pod. */
  targets(hostPort: string): unknown;
}

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

/** Serves the fleet's endpoints on a loopback port. */
export class FleetHttpServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly source: FleetHttpSource,
    private readonly host: string,
    private readonly port: number,
  ) {}

  get address(): string {
    if (!this.server) throw new Error('fleet emulator is not started: call start() first');
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fleet emulator error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') return this.stream(res, this.source.allPodsExposition());
    if (path === '/gateway/metrics') {
      res.writeHead(200, { 'content-type': TEXT_FORMAT }).end(this.source.gatewayExposition());
      return;
    }
    if (path === '/targets') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.source.targets(this.address)));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const m = /^\/pods\/([^/]+)\/([^/]+)\/metrics$/.exec(path);
    if (m) {
      const found = this.source.podExposition(decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? ''));
      if (found === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no pod ${m[1]}/${m[2]}\n`);
        return;
      }
      if (found === 'not-ready') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`pod ${m[1]}/${m[2]} is not ready\n`);
        return;
      }
      return this.stream(res, found);
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found; endpoints: /metrics, /pods/<namespace>/<pod>/metrics, /gateway/metrics, /targets, /healthz\n');
  }

  /** Writes chunks with backpressure, so a huge exposition never sits in memory at once. */
  private async stream(res: ServerResponse, chunks: Iterable<string>): Promise<void> {
    res.writeHead(200, { 'content-type': TEXT_FORMAT });
    for (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk))
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
    }
    res.end();
  }
}
