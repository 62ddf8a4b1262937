/**
 * One list+watch informer over one resource, on @kubernetes/client-node's ListWatch, with what the
 * library leaves to its caller:
 *  - a watch that ends with an error (connection reset, 5xx) is restarted after a backoff (1 s
 *    doubling to 30 s, reset after a successful list); the library only restarts on a clean end;
 *  - 410 Gone (as an HTTP status or a watch ERROR event) makes the library re-list, which also
 *    reports objects deleted while we were not watching, so nothing is lost or duplicated;
 *  - a periodic resync hands the whole cache to `onResync` so owners can reconcile against it;
 *  - errors after `stop()` (the abort of our own watch) are not reported.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { collectionPath, requireVerb, type ApiCall } from './api-calls.js';

export interface ResourceInformerOptions {
  readonly kubeConfig: KubeConfig;
  readonly call: ApiCall;
  /** undefined = all namespaces. */
  readonly namespace: string | undefined;
  readonly fieldSelector?: string;
  readonly logger: Logger;
  readonly resyncMs?: number;
  readonly maxBackoffMs?: number;
}

export interface InformerHandlers<T> {
  onUpsert?(obj: T): void;
  onDelete?(obj: T): void;
  onResync?(all: readonly T[]): void;
}

export class ResourceInformer<T extends KubernetesObject> {
  private readonly listWatch: ListWatch<T>;
  private stopped = true;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncedOnce = false;
  private lastErrorText: string | undefined;
  private readonly syncWaiters: (() => void)[] = [];
  /** Lists done so far (first list and every re-list): tests and /debug. */
  lists = 0;

  constructor(
    private readonly opts: ResourceInformerOptions,
    private readonly handlers: InformerHandlers<T>,
  ) {
    requireVerb(opts.call, 'list');
    requireVerb(opts.call, 'watch');
    const path = collectionPath(opts.call, opts.namespace);
    const list = listFunction<T>(opts.kubeConfig, opts.call, opts.namespace, opts.fieldSelector);
    const countedList = async (): Promise<KubernetesListObject<T>> => {
      const result = await list();
      this.lists++;
      this.backoffMs = 1000;
      this.lastErrorText = undefined;
      // Resolve sync waiters after the library has applied the list (in the microtasks that
      // follow this promise; a macrotask runs after them).
      setImmediate(() => this.markSynced());
      return result;
    };
    this.listWatch = new ListWatch<T>(
      path,
      new Watch(opts.kubeConfig),
      countedList,
      false,
      undefined,
      opts.fieldSelector,
    );
    this.listWatch.on('add', (o) => this.safe(() => handlers.onUpsert?.(o)));
    this.listWatch.on('update', (o) => this.safe(() => handlers.onUpsert?.(o)));
    this.listWatch.on('delete', (o) => this.safe(() => handlers.onDelete?.(o)));
    this.listWatch.on('error', (err) => this.onError(err));
  }

  get resource(): string {
    return this.opts.call.resource;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.listWatch.start();
    const resyncMs = this.opts.resyncMs ?? 300_000;
    this.resyncTimer = setInterval(() => this.resync(), resyncMs);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.restartTimer = undefined;
    this.resyncTimer = undefined;
    await this.listWatch.stop();
    this.markSynced();
  }

  /** Resolves true once the first list is applied, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.syncedOnce) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.syncedOnce);
      });
    });
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  get(name: string, namespace: string | undefined): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  /** Hands the whole cache to `onResync` (also run on a timer). */
  resync(): void {
    if (this.syncedOnce) this.safe(() => this.handlers.onResync?.(this.listWatch.list()));
  }

  private markSynced(): void {
    if (!this.stopped) this.syncedOnce = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    // A missing CRD fails the same way every time: say it once at warn, then at debug.
    const text = describe(err);
    const level = text === this.lastErrorText ? 'debug' : 'warn';
    this.lastErrorText = text;
    this.opts.logger[level](
      { resource: this.opts.call.resource, err: text, retryInMs: delay },
      'kubernetes list/watch failed; restarting',
    );
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.listWatch.start();
    }, delay);
    this.restartTimer.unref();
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error(
        { resource: this.opts.call.resource, err: describe(err) },
        'kubernetes event handler failed',
      );
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { statusCode?: unknown; code?: unknown }).statusCode ?? (err as { code?: unknown }).code;
    return typeof code === 'number' || typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

type ListFn<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;

/** The list half of list+watch, for the resources in KUBE_API_CALLS. */
function listFunction<T extends KubernetesObject>(
  kc: KubeConfig,
  call: ApiCall,
  namespace: string | undefined,
  fieldSelector: string | undefined,
): ListFn<T> {
  const plural = call.resource;
  if (call.group !== '') {
    // CustomObjectsApi builds /apis/<group>/<version>[/namespaces/<ns>]/<plural>, which is also the
    // path of built-in grouped resources such as apps/v1 deployments.
    const api = kc.makeApiClient(CustomObjectsApi);
    const base = { group: call.group, version: call.version, plural, fieldSelector };
    return async () =>
      (namespace === undefined
        ? await api.listClusterCustomObject(base)
        : await api.listNamespacedCustomObject({ ...base, namespace })) as KubernetesListObject<T>;
  }
  const core = kc.makeApiClient(CoreV1Api);
  switch (plural) {
    case 'pods':
      return async () =>
        (namespace === undefined
          ? await core.listPodForAllNamespaces({ fieldSelector })
          : await core.listNamespacedPod({ namespace, fieldSelector })) as KubernetesListObject<T>;
    case 'configmaps':
      return async () =>
        (namespace === undefined
          ? await core.listConfigMapForAllNamespaces({ fieldSelector })
          : await core.listNamespacedConfigMap({ namespace, fieldSelector })) as KubernetesListObject<T>;
    case 'resourcequotas':
      return async () =>
        (namespace === undefined
          ? await core.listResourceQuotaForAllNamespaces({ fieldSelector })
          : await core.listNamespacedResourceQuota({ namespace, fieldSelector })) as KubernetesListObject<T>;
    case 'nodes':
      return async () => (await core.listNode({ fieldSelector })) as KubernetesListObject<T>;
    default:
      throw new Error(`no list function for core resource ${plural}`);
  }
}
