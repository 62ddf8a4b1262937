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
 * Keys: `replica:<namespace>/<modelID>` (a model's ModelMetrics) and
 * `allocation:<namespace>/<variant>` (the replicas of one variant, for per-variant reads).
 */
import { LRUCache } from 'lru-cache';
import { freshnessOf, STALE_MS, type Freshness, type ModelMetrics, type ReplicaMetrics } from '../domain/metrics.js';

/** The replicas of one variant at one fetch. */
export interface VariantAllocation {
  readonly variantKey: string;
  readonly namespace: string;
  readonly modelID: string;
  readonly replicas: readonly ReplicaMetrics[];
  readonly collectedAt: number;
}

export interface CacheLookup<T> {
  readonly value: T;
  readonly ageMs: number;
  readonly freshness: Freshness;
  /** True once the TTL has passed: the value is still usable but a re-fetch is due. */
  readonly needsRefresh: boolean;
}

export interface MetricsCache {
  readonly kind: 'memory' | 'noop';
  /** Stores a model's metrics and the per-variant allocations derived from its replicas. */
  setModel(metrics: ModelMetrics): void;
  getModel(namespace: string, modelID: string): CacheLookup<ModelMetrics> | undefined;
  getAllocation(variantKey: string): CacheLookup<VariantAllocation> | undefined;
  /** Drops the model's entry and every allocation of its variants. */
  invalidateModel(namespace: string, modelID: string): void;
  /** Drops one variant's allocation and the owning model's entry (its replica set changed). */
  invalidateVariant(variantKey: string): void;
  /** Removes entries beyond `maxStaleMs`; returns how many. */
  cleanup(): number;
  clear(): void;
  readonly size: number;
}

export function replicaKey(namespace: string, modelID: string): string {
  return `replica:${namespace}/${modelID}`;
}

/** `variantKey` is `namespace/name` (see domain/variant.ts), so this is `allocation:<ns>/<variant>`. */
export function allocationKey(variantKey: string): string {
  return `allocation:${variantKey}`;
}

type Entry = { readonly kind: 'model'; readonly value: ModelMetrics } | { readonly kind: 'allocation'; readonly value: VariantAllocation };

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
  private readonly lru: LRUCache<string, Entry>;
  private readonly now: () => number;
  private readonly maxStaleMs: number;
  /** model key → variant keys of its last allocations, for invalidation by model. */
  private readonly variantsOfModel = new Map<string, Set<string>>();

  constructor(opts: MemoryCacheOptions) {
    if (!(opts.ttlMs > 0)) throw new Error(`metrics cache TTL must be > 0 ms, got ${opts.ttlMs}`);
    if (!(opts.max > 0)) throw new Error(`metrics cache max must be > 0 entries, got ${opts.max}`);
    this.now = opts.now ?? Date.now;
    this.maxStaleMs = opts.maxStaleMs ?? STALE_MS;
    const clock = this.now;
    this.lru = new LRUCache<string, Entry>({
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
    this.lru.set(mk, { kind: 'model', value: metrics });
    const byVariant = new Map<string, ReplicaMetrics[]>();
    for (const r of metrics.replicas) {
      if (r.variantKey === undefined) continue;
      byVariant.set(r.variantKey, [...(byVariant.get(r.variantKey) ?? []), r]);
    }
    // Variants that had replicas last time and have none now get an empty allocation, not a stale one.
    const previous = this.variantsOfModel.get(mk) ?? new Set<string>();
    for (const vk of previous) if (!byVariant.has(vk)) byVariant.set(vk, []);
    for (const [variantKey, replicas] of byVariant) {
      this.lru.set(allocationKey(variantKey), {
        kind: 'allocation',
        value: { variantKey, namespace: metrics.namespace, modelID: metrics.modelID, replicas, collectedAt: metrics.collectedAt },
      });
    }
    this.variantsOfModel.set(mk, new Set([...byVariant.keys()]));
  }

  getModel(namespace: string, modelID: string): CacheLookup<ModelMetrics> | undefined {
    const e = this.read(replicaKey(namespace, modelID));
    return e?.entry.kind === 'model' ? { ...e.meta, value: e.entry.value } : undefined;
  }

  getAllocation(variantKey: string): CacheLookup<VariantAllocation> | undefined {
    const e = this.read(allocationKey(variantKey));
    return e?.entry.kind === 'allocation' ? { ...e.meta, value: e.entry.value } : undefined;
  }

  invalidateModel(namespace: string, modelID: string): void {
    const mk = replicaKey(namespace, modelID);
    this.lru.delete(mk);
    for (const vk of this.variantsOfModel.get(mk) ?? []) this.lru.delete(allocationKey(vk));
    this.variantsOfModel.delete(mk);
  }

  invalidateVariant(variantKey: string): void {
    const ak = allocationKey(variantKey);
    const alloc = this.lru.peek(ak, { allowStale: true });
    this.lru.delete(ak);
    for (const [mk, variants] of this.variantsOfModel) {
      if (variants.has(variantKey) || (alloc?.kind === 'allocation' && mk === replicaKey(alloc.value.namespace, alloc.value.modelID))) {
        // The model's replica list still holds the variant's pods: drop it so nobody reads them.
        this.lru.delete(mk);
        variants.delete(variantKey);
      }
    }
  }

  cleanup(): number {
    let removed = 0;
    const now = this.now();
    // entries() honours the cache's allowStale, so TTL-expired entries are visited too.
    for (const [key, entry] of [...this.lru.entries()]) {
      if (now - entry.value.collectedAt >= this.maxStaleMs) {
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

  private read(key: string): { entry: Entry; meta: Omit<CacheLookup<unknown>, 'value'> } | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    const ageMs = Math.max(0, this.now() - entry.value.collectedAt);
    if (ageMs >= this.maxStaleMs) {
      this.lru.delete(key);
      return undefined;
    }
    const remaining = this.lru.getRemainingTTL(key);
    return { entry, meta: { ageMs, freshness: freshnessOf(ageMs), needsRefresh: remaining <= 0 } };
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
  getAllocation(_variantKey: string): undefined {
    return undefined;
  }
  invalidateModel(_namespace: string, _modelID: string): void {}
  invalidateVariant(_variantKey: string): void {}
  cleanup(): number {
    return 0;
  }
  clear(): void {}
}
