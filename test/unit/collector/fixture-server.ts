/** A tiny real HTTP server for collector unit tests: routes answer from a mutable table. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FixtureResponse {
  readonly status?: number;
  readonly body: string;
  readonly contentType?: string;
  readonly delayMs?: number;
}

export type Handler = (req: IncomingMessage, body: string) => FixtureResponse;

export class FixtureServer {
  readonly requests: { path: string; method: string; headers: IncomingMessage['headers']; body: string }[] = [];
  private readonly routes = new Map<string, Handler>();
  private server: Server | undefined;
  private port = 0;

  route(path: string, handler: Handler | FixtureResponse): void {
    this.routes.set(path, typeof handler === 'function' ? handler : () => handler);
  }

  url(path = ''): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        this.requests.push({ path, method: req.method ?? 'GET', headers: req.headers, body });
        const handler = this.routes.get(path);
        const r = handler ? handler(req, body) : { status: 404, body: 'not found' };
        const send = (): void => {
          if (res.destroyed) return;
          res.writeHead(r.status ?? 200, { 'content-type': r.contentType ?? 'text/plain' });
          res.end(r.body);
        };
        if (r.delayMs) setTimeout(send, r.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A Prometheus API JSON success body with a vector result. */
export function vectorBody(
  samples: { labels: Record<string, string>; value: string }[],
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: samples.map((s) => ({ metric: s.labels, value: [1700000000, s.value] })) },
    ...extra,
  });
}
