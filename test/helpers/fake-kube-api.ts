/**
 * A small fake Kubernetes API server on 127.0.0.1 for tests that use the real
 * @kubernetes/client-node. It speaks the parts of the API the scaler uses:
 *  - list (`GET` a collection, all namespaces or one, `fieldSelector=metadata.name=...`) with a
 *    list `resourceVersion`;
 *  - watch (`?watch=true&resourceVersion=N`): chunked newline-delimited JSON events replayed from
 *    a history after N, then live; a resourceVersion older than the compacted history gets a
 *    410 Gone ERROR event and the stream ends (the client must re-list);
 *  - `PATCH .../<name>/status` with `application/merge-patch+json` (bodies recorded);
 *  - Leases: `GET`, `POST`, `PUT` with resourceVersion conflicts (409).
 * Failure injection: `expireWatches` (410 on open watches), `dropWatches` (sockets destroyed),
 * `compact` (history forgotten), `failNext` (HTTP errors for matching requests), `hang` (no
 * answer at all to matching requests, as from a blackholed API server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type FakeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: FakeObject;
}

interface OpenWatch {
  readonly plural: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly res: ServerResponse;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

const KINDS: Record<string, { apiVersion: string; kind: string }> = {
  scaledobjects: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
  variantautoscalings: { apiVersion: 'llmd.ai/v1alpha1', kind: 'VariantAutoscaling' },
  deployments: { apiVersion: 'apps/v1', kind: 'Deployment' },
  replicasets: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  pods: { apiVersion: 'v1', kind: 'Pod' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
  leases: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
};

const PATH = /^\/(?:api|apis\/[^/]+)\/v[^/]+(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/(status))?$/;

export class FakeKubeApi {
  private rv = 100;
  private readonly objects = new Map<string, Map<string, FakeObject>>();
  private readonly history = new Map<string, WatchEvent[]>();
  /** Watches from a resourceVersion below this get 410 Gone. */
  private readonly compactedBelow = new Map<string, number>();
  private readonly watches = new Set<OpenWatch>();
  private readonly failures: { match: (r: RecordedRequest) => boolean; status: number; remaining: number }[] = [];
  private hanging: ((r: RecordedRequest) => boolean) | undefined;
  private readonly hung = new Set<ServerResponse>();
  readonly requests: RecordedRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeKubeApi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new FakeKubeApi(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => void api.handle(req, res));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'test', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'test' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- state, as a test drives it ----

  /** Creates or replaces an object; emits ADDED or MODIFIED. Returns the stored copy. */
  upsert(plural: string, obj: FakeObject): FakeObject {
    const store = this.store(plural);
    const id = objectId(obj.metadata.namespace, obj.metadata.name);
    const existed = store.has(id);
    const stored = this.stamp(plural, obj);
    store.set(id, stored);
    this.emit(plural, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(plural: string, namespace: string | undefined, name: string): boolean {
    const store = this.store(plural);
    const id = objectId(namespace, name);
    const obj = store.get(id);
    if (!obj) return false;
    store.delete(id);
    this.rv++;
    this.emit(plural, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } });
    return true;
  }

  get(plural: string, namespace: string | undefined, name: string): FakeObject | undefined {
    return this.store(plural).get(objectId(namespace, name));
  }

  /** Changes an object without telling any watcher (a missed event, as after a network split). */
  upsertSilently(plural: string, obj: FakeObject): void {
    this.store(plural).set(objectId(obj.metadata.namespace, obj.metadata.name), this.stamp(plural, obj));
  }

  removeSilently(plural: string, namespace: string | undefined, name: string): void {
    this.store(plural).delete(objectId(namespace, name));
    this.rv++;
  }

  /** Forgets the watch history: a watch resuming from an older resourceVersion gets 410 Gone. */
  compact(plural: string): void {
    this.compactedBelow.set(plural, this.rv);
    this.history.set(plural, []);
  }

  /** Sends 410 Gone to every open watch of `plural` (and compacts), then ends them. */
  expireWatches(plural: string): number {
    this.compact(plural);
    let n = 0;
    for (const w of [...this.watches]) {
      if (w.plural !== plural) continue;
      w.res.end(`${JSON.stringify(goneEvent())}\n`);
      this.watches.delete(w);
      n++;
    }
    return n;
  }

  /** Destroys the sockets of every open watch of `plural` (a dropped connection, no clean end). */
  dropWatches(plural: string): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (w.plural !== plural) continue;
      w.res.socket?.destroy();
      this.watches.delete(w);
      n++;
    }
    return n;
  }

  /** The next `count` requests matching `match` answer HTTP `status`. */
  failNext(match: (r: RecordedRequest) => boolean, status: number, count = 1): void {
    this.failures.push({ match, status, remaining: count });
  }

  /** Requests matching `match` get no answer (until the client gives up) until `answerAgain()`. */
  hang(match: (r: RecordedRequest) => boolean): void {
    this.hanging = match;
  }

  answerAgain(): void {
    this.hanging = undefined;
  }

  /** Requests held unanswered right now (a client that aborts one closes it). */
  hungRequests(): number {
    return this.hung.size;
  }

  openWatches(plural: string): number {
    return [...this.watches].filter((w) => w.plural === plural).length;
  }

  lists(plural: string): number {
    return this.requests.filter(
      (r) =>
        r.method === 'GET' &&
        r.query['watch'] !== 'true' &&
        pluralOf(r.path) === plural &&
        PATH.exec(r.path)?.[3] === undefined,
    ).length;
  }

  patches(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams.entries());
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return sendStatus(res, 400, 'BadRequest', 'body is not JSON');
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      contentType: req.headers['content-type'],
      body,
    };
    this.requests.push(record);
    if (this.hanging?.(record)) {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    const failure = this.failures.find((f) => f.remaining > 0 && f.match(record));
    if (failure) {
      failure.remaining--;
      return sendStatus(res, failure.status, 'InjectedFailure', `injected ${failure.status}`);
    }
    const m = PATH.exec(url.pathname);
    if (!m || !KINDS[m[2] ?? '']) return sendStatus(res, 404, 'NotFound', `no route for ${url.pathname}`);
    const [, namespace, plural = '', name, sub] = m;
    const fieldName = /^metadata\.name=(.+)$/.exec(query['fieldSelector'] ?? '')?.[1];

    if (req.method === 'GET' && name === undefined) {
      return query['watch'] === 'true'
        ? this.watch(res, plural, namespace, fieldName, query['resourceVersion'])
        : this.list(res, plural, namespace, fieldName);
    }
    if (name === undefined && req.method === 'POST') return this.create(res, plural, namespace, body);
    if (name === undefined) return sendStatus(res, 405, 'MethodNotAllowed', `${req.method} on a collection`);
    const id = objectId(namespace, name);
    const current = this.store(plural).get(id);
    switch (req.method) {
      case 'GET':
        return current
          ? sendJson(res, 200, current)
          : sendStatus(res, 404, 'NotFound', `${plural} "${name}" not found`);
      case 'PUT': {
        if (!current) return sendStatus(res, 404, 'NotFound', `${plural} "${name}" not found`);
        const given = (body as FakeObject | undefined)?.metadata?.resourceVersion;
        if (given !== current.metadata.resourceVersion) {
          return sendStatus(
            res,
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified`,
          );
        }
        return sendJson(res, 200, this.upsert(plural, body as FakeObject));
      }
      case 'PATCH': {
        if (sub !== 'status') return sendStatus(res, 405, 'MethodNotAllowed', 'only status patches are served');
        if (record.contentType !== 'application/merge-patch+json') {
          return sendStatus(
            res,
            415,
            'UnsupportedMediaType',
            `expected application/merge-patch+json, got ${record.contentType}`,
          );
        }
        if (!current) return sendStatus(res, 404, 'NotFound', `${plural} "${name}" not found`);
        const patchStatus = (body as { status?: unknown } | undefined)?.status;
        const merged = { ...current, status: mergePatch(current['status'], patchStatus) };
        return sendJson(res, 200, this.upsert(plural, merged));
      }
      default:
        return sendStatus(res, 405, 'MethodNotAllowed', `${req.method}`);
    }
  }

  private create(res: ServerResponse, plural: string, namespace: string | undefined, body: unknown): void {
    const obj = body as FakeObject | undefined;
    if (!obj?.metadata?.name) return sendStatus(res, 422, 'Invalid', 'metadata.name is required');
    if (this.store(plural).has(objectId(namespace, obj.metadata.name))) {
      return sendStatus(res, 409, 'AlreadyExists', `${plural} "${obj.metadata.name}" already exists`);
    }
    sendJson(res, 201, this.upsert(plural, { ...obj, metadata: { ...obj.metadata, namespace } }));
  }

  private list(res: ServerResponse, plural: string, namespace: string | undefined, name: string | undefined): void {
    const items = [...this.store(plural).values()].filter((o) => matches(o, namespace, name));
    const kind = KINDS[plural] ?? { apiVersion: 'v1', kind: 'Unknown' };
    sendJson(res, 200, {
      apiVersion: kind.apiVersion,
      kind: `${kind.kind}List`,
      metadata: { resourceVersion: String(this.rv) },
      items,
    });
  }

  private watch(
    res: ServerResponse,
    plural: string,
    namespace: string | undefined,
    name: string | undefined,
    fromRaw: string | undefined,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const from = fromRaw === undefined || fromRaw === '' ? Number.NaN : Number(fromRaw);
    if (Number.isFinite(from) && from < (this.compactedBelow.get(plural) ?? 0)) {
      res.end(`${JSON.stringify(goneEvent())}\n`);
      return;
    }
    const w: OpenWatch = { plural, namespace, name, res };
    if (Number.isFinite(from)) {
      for (const e of this.history.get(plural) ?? [])
        if (e.rv > from && matches(e.object, namespace, name)) write(w, e);
    } else {
      for (const o of this.store(plural).values())
        if (matches(o, namespace, name)) write(w, { rv: 0, type: 'ADDED', object: o });
    }
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }

  private stamp(plural: string, obj: FakeObject): FakeObject {
    this.rv++;
    const kind = KINDS[plural];
    return structuredClone({ ...kind, ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } });
  }

  private emit(plural: string, type: WatchEvent['type'], object: FakeObject): void {
    const event: WatchEvent = { rv: Number(object.metadata.resourceVersion), type, object };
    let h = this.history.get(plural);
    if (!h) this.history.set(plural, (h = []));
    h.push(event);
    for (const w of this.watches) if (w.plural === plural && matches(object, w.namespace, w.name)) write(w, event);
  }

  private store(plural: string): Map<string, FakeObject> {
    let s = this.objects.get(plural);
    if (!s) this.objects.set(plural, (s = new Map<string, FakeObject>()));
    return s;
  }
}

function write(w: OpenWatch, e: WatchEvent): void {
  w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
}

function goneEvent(): unknown {
  return {
    type: 'ERROR',
    object: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'too old resource version',
      reason: 'Expired',
      code: 410,
    },
  };
}

function objectId(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function matches(o: FakeObject, namespace: string | undefined, name: string | undefined): boolean {
  return (
    (namespace === undefined || o.metadata.namespace === namespace) && (name === undefined || o.metadata.name === name)
  );
}

function pluralOf(path: string): string | undefined {
  return PATH.exec(path)?.[2];
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}
