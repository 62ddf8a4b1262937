/**
 * Metrics TTL cache between the collector (writer) and the engine (reader).
 *
 * Two clocks matter and they differ on purpose (DESIGN: TTL 30 s, but stale data is usable up to
 * 5 m): the lru-cache TTL (WVA_METRICS_CACHE_TTL) only says an entry *needs a re-fetch*; the
 * last-known value stays readable (`allowStale` + `noDeleteOnStaleGet`) so that, with Prometheus
 * down, the engine sees "stale since 2 m" rather than nothing. Freshness always comes from the
 * value's own `collectedAt` (freshnessOf: fresh < 1 m, stale < 5 m); entries older than
 * `maxStaleMs` (default 5 m = unavailable) are dropped by reads and `cleanup()`.
 *
 * Key: `replica:<namespace>/<modelID>`, one entry per model (its ModelMetrics). The engine reads a
 * model at a time, so nothing is stored per variant; a variant whose pods change (its Deployment
 * was edited or removed) drops the entries of the models whose replicas it had.
 */
import { LRUCache } from 'lru-cache';
import { freshnessOf, STALE_MS, type Freshness, type ModelMetrics } from '../domain/metrics.js';

export interface CacheLookup<T> {
  readonly value: T;
  readonly ageMs: number;
  readonly freshness: Freshness;
  /** True once the TTL has passed: the value is still usable but a re-fetch is due. */
  readonly needsRefresh: boolean;
}

export interface MetricsCache {
  readonly kind: 'memory' | 'noop';
  setModel(metrics: ModelMetrics): void;
  getModel(namespace: string, modelID: string): CacheLookup<ModelMetrics> | undefined;
  /** Drops the entry of every model whose replicas included the variant's (its pod set changed). */
  invalidateVariant(variantKey: string): void;
  /** Removes entries beyond `maxStaleMs`; returns how many. */
  cleanup(): number;
  clear(): void;
  readonly size: number;
}

export function replicaKey(namespace: string, modelID: string): string {
  return `replica:${namespace}/${modelID}`;
}

export interface MemoryCacheOptions {
  /** WVA_METRICS_CACHE_TTL: after this an entry needs a re-fetch (but stays readable). */
  readonly ttlMs: number;
  /** WVA_METRICS_CACHE_MAX. */
  readonly max: number;
  /** Beyond this age (from collectedAt) an entry is gone. Default STALE_MS (5 m). */
  readonly maxStaleMs?: number;
  /** Injectable clock (epoch ms) so tests can age entries without waiting. */
  readonly now?: () => number;
}

export class MemoryCache implements MetricsCache {
  readonly kind = 'memory' as const;
  private readonly lru: LRUCache<string, ModelMetrics>;
  private readonly now: () => number;
  private readonly maxStaleMs: number;
  /** model key → variants whose pods its replicas included since it was last dropped. */
  private readonly variantsOfModel = new Map<string, Set<string>>();

  constructor(opts: MemoryCacheOptions) {
    if (!(opts.ttlMs > 0)) throw new Error(`metrics cache TTL must be > 0 ms, got ${opts.ttlMs}`);
    if (!(opts.max > 0)) throw new Error(`metrics cache max must be > 0 entries, got ${opts.max}`);
    this.now = opts.now ?? Date.now;
    this.maxStaleMs = opts.maxStaleMs ?? STALE_MS;
    const clock = this.now;
    this.lru = new LRUCache<string, ModelMetrics>({
      max: opts.max,
      ttl: opts.ttlMs,
      ttlResolution: 0,
      allowStale: true,
      noDeleteOnStaleGet: true,
      perf: { now: () => clock() },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  setModel(metrics: ModelMetrics): void {
    const mk = replicaKey(metrics.namespace, metrics.modelID);
    this.lru.set(mk, metrics);
    const variants = this.variantsOfModel.get(mk) ?? new Set<string>();
    for (const r of metrics.replicas) if (r.variantKey !== undefined) variants.add(r.variantKey);
    this.variantsOfModel.set(mk, variants);
  }

  getModel(namespace: string, modelID: string): CacheLookup<ModelMetrics> | undefined {
    return this.read(replicaKey(namespace, modelID));
  }

  invalidateVariant(variantKey: string): void {
    for (const [mk, variants] of this.variantsOfModel) {
      if (!variants.has(variantKey)) continue;
      // The model's replica list may still hold the variant's pods: drop it so nobody reads them.
      this.lru.delete(mk);
      this.variantsOfModel.delete(mk);
    }
  }

  cleanup(): number {
    let removed = 0;
    const now = this.now();
    // entries() honours the cache's allowStale, so TTL-expired entries are visited too.
    for (const [key, entry] of [...this.lru.entries()]) {
      if (now - entry.collectedAt >= this.maxStaleMs) {
        this.lru.delete(key);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.lru.clear();
    this.variantsOfModel.clear();
  }

  private read(key: string): CacheLookup<ModelMetrics> | undefined {
    const value = this.lru.get(key);
    if (value === undefined) return undefined;
    const ageMs = Math.max(0, this.now() - value.collectedAt);
    if (ageMs >= this.maxStaleMs) {
      this.lru.delete(key);
      return undefined;
    }
    const remaining = this.lru.getRemainingTTL(key);
    return { value, ageMs, freshness: freshnessOf(ageMs), needsRefresh: remaining <= 0 };
  }
}

/**
 * No caching: every read misses, nothing is kept across fetches. The collector then serves only the
 * result of its latest successful fetch (dropped when a fetch fails): no stale values, ever.
 */
export class NoOpCache implements MetricsCache {
  readonly kind = 'noop' as const;
  readonly size = 0;
  setModel(_metrics: ModelMetrics): void {}
  getModel(_namespace: string, _modelID: string): undefined {
    return undefined;
  }
  invalidateVariant(_variantKey: string): void {}
  cleanup(): number {
    return 0;
  }
  clear(): void {}
}
