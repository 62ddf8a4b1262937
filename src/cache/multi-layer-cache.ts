/**
 * MultiLayerCache<T>: a local LRU (per process), then Redis (shared by every scaler replica,
 * optional), then the source.
 *
 * Contract:
 *  - `getOrSet(key, loader)`: local hit → value; else Redis hit → value (copied to local);
 *    else `loader()` once, stored in both layers. Concurrent calls for the same key share ONE
 *    lookup: the Redis read and the loader run once and every caller gets the same result
 *    (or the loader's error, which is not cached).
 *  - Redis never makes a call fail or wait long: every Redis op goes through RedisConnection,
 *    which bounds it with a short timeout and turns errors into "Redis down" (local layer only).
 *  - Values are JSON in Redis inside a versioned envelope (redis-envelope.ts); an unknown
 *    version or a value that fails `parse` is a miss. The local layer keeps the value itself:
 *    callers must treat returned values as read-only (freeze them if you hand them out).
 *  - `delete` and `invalidatePattern` also cancel the write-back of loads in flight for the
 *    keys they cover, so a load that started before an invalidation cannot store a stale value.
 *  - Per-layer counts go to `wva_scaler_cache_requests_total{cache,layer,result}` and `stats()`.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { escapeRedisGlob } from './cache-keys.js';
import type { RedisConnection } from './redis-connection.js';
import { decodeEnvelope, encodeEnvelope, type ValueParser } from './redis-envelope.js';

export interface MultiLayerCacheOptions<T> {
  /** The `cache` label of the metrics, e.g. `decisions`, `metrics`. */
  readonly name: string;
  /** Absent: local layer only (one process is the whole truth). */
  readonly redis?: RedisConnection | undefined;
  /** WVA_LOCAL_CACHE_TTL. */
  readonly localTtlMs: number;
  /** WVA_REDIS_TTL. */
  readonly redisTtlMs: number;
  /** Max entries in the local LRU (default 10,000). */
  readonly maxLocalEntries?: number;
  /** Validates a value read from Redis (anything else is a miss). */
  readonly parse: ValueParser<T>;
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  /** Wall clock for `storedAt` (default Date.now). */
  readonly now?: () => number;
  /** Monotonic clock of the local TTLs (default performance.now); tests pass a fake one. */
  readonly monotonicNow?: () => number;
  /** SCAN and UNLINK budget of one `invalidatePattern` (default 2 s). */
  readonly scanTimeoutMs?: number;
}

export interface SetOptions {
  readonly localTtlMs?: number;
  readonly redisTtlMs?: number;
}

export type CacheLayer = 'local' | 'redis' | 'source';

export interface LayerStats {
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses); NaN before the first lookup. */
  readonly hitRate: number;
}

export interface MultiLayerCacheStats {
  readonly local: LayerStats;
  /** `skipped`: lookups that did not ask Redis because it was down (or not configured). */
  readonly redis: LayerStats & { readonly skipped: number; readonly invalid: number };
  readonly source: { readonly loads: number; readonly errors: number };
  /** getOrSet calls that joined a lookup already in flight. */
  readonly coalesced: number;
  /** Share of lookups answered without the source: (local hits + redis hits) / lookups. */
  readonly overallHitRate: number;
  readonly localEntries: number;
}

export interface CacheHealth {
  readonly local: 'up';
  readonly redis: 'up' | 'down' | 'disabled';
  readonly redisLatencyMs?: number;
  readonly redisError?: string;
}

interface Box<T> {
  readonly value: T;
}

interface LoadToken {
  /** Set by delete/invalidatePattern: the load must not write its result back. */
  cancelled: boolean;
}

interface InFlight<T> {
  readonly promise: Promise<T>;
  readonly token: LoadToken;
}

interface Counts {
  localHits: number;
  localMisses: number;
  redisHits: number;
  redisMisses: number;
  redisSkipped: number;
  redisInvalid: number;
  sourceLoads: number;
  sourceErrors: number;
  coalesced: number;
}

export class MultiLayerCache<T> {
  private readonly local: LRUCache<string, Box<T>>;
  private readonly inFlight = new Map<string, InFlight<T>>();
  private readonly counts: Counts = {
    localHits: 0, localMisses: 0, redisHits: 0, redisMisses: 0, redisSkipped: 0, redisInvalid: 0,
    sourceLoads: 0, sourceErrors: 0, coalesced: 0,
  };
  private readonly redis: RedisConnection | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: MultiLayerCacheOptions<T>) {
    for (const [name, ms] of [['localTtlMs', opts.localTtlMs], ['redisTtlMs', opts.redisTtlMs]] as const) {
      if (!Number.isFinite(ms) || ms <= 0) throw new Error(`MultiLayerCache ${opts.name}: ${name} must be a duration above 0 ms, got ${ms}`);
    }
    this.redis = opts.redis;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'cache', cache: opts.name });
    const monotonic = opts.monotonicNow;
    this.local = new LRUCache<string, Box<T>>({
      max: opts.maxLocalEntries ?? 10_000,
      ttl: opts.localTtlMs,
      // With an injected clock, read it on every check (no cached "now").
      ...(monotonic ? { perf: { now: monotonic }, ttlResolution: 0 } : {}),
    });
    opts.metrics?.cacheLayerUp.set({ layer: 'local' }, 1);
  }

  get name(): string {
    return this.opts.name;
  }

  /** True when a Redis layer is configured (it may be down right now). */
  get shared(): boolean {
    return this.redis !== undefined;
  }

  /** Local, then Redis (a Redis hit is copied to local). Undefined on a miss. Never throws. */
  async get(key: string): Promise<T | undefined> {
    const local = this.readLocal(key);
    if (local !== undefined) return local.value;
    return this.readRedis(key);
  }

  /** The local layer only, synchronously (for hot paths that must not await). */
  peekLocal(key: string): T | undefined {
    return this.local.get(key)?.value;
  }

  /**
   * The cached value, or the loader's, loaded once however many callers miss at the same time.
   * Rejects only with the loader's own error.
   */
  async getOrSet(key: string, loader: () => Promise<T>, options: SetOptions = {}): Promise<T> {
    const local = this.readLocal(key);
    if (local !== undefined) return local.value;
    const pending = this.inFlight.get(key);
    if (pending) {
      this.counts.coalesced++;
      return pending.promise;
    }
    const token: LoadToken = { cancelled: false };
    const entry: InFlight<T> = { promise: this.loadThroughLayers(key, loader, options, token), token };
    this.inFlight.set(key, entry);
    try {
      return await entry.promise;
    } finally {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    }
  }

  /** Writes both layers. Redis failures are swallowed (local still has it). */
  async set(key: string, value: T, options: SetOptions = {}): Promise<void> {
    if (value === undefined) throw new Error(`MultiLayerCache ${this.opts.name}: cannot store undefined under ${key}`);
    this.writeLocal(key, value, options);
    await this.writeRedis(key, value, options);
  }

  /** Sets the local layer only (e.g. a value that arrived over pub/sub, already in Redis). */
  setLocal(key: string, value: T, options: SetOptions = {}): void {
    this.writeLocal(key, value, options);
  }

  /** Deletes from both layers; true when the local layer had it. */
  async delete(key: string): Promise<boolean> {
    this.cancelInFlight((k) => k === key);
    const had = this.local.delete(key);
    if (this.redis) await this.redis.run((c) => c.unlink(key));
    return had;
  }

  /**
   * Deletes every key starting with `prefix` from both layers (local prefix match; Redis
   * `SCAN MATCH <prefix>*` + `UNLINK`, never `KEYS`). Returns how many were removed per layer;
   * `redis` is undefined when Redis was down or not configured.
   */
  async invalidatePattern(prefix: string): Promise<{ local: number; redis: number | undefined }> {
    if (prefix === '') throw new Error(`MultiLayerCache ${this.opts.name}: invalidatePattern needs a non-empty prefix (use a CacheKeys.prefix)`);
    this.cancelInFlight((k) => k.startsWith(prefix));
    let local = 0;
    for (const key of [...this.local.keys()]) {
      if (key.startsWith(prefix) && this.local.delete(key)) local++;
    }
    if (!this.redis) return { local, redis: undefined };
    const match = `${escapeRedisGlob(prefix)}*`;
    const result = await this.redis.run(async (c) => {
      let cursor = '0';
      let removed = 0;
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', match, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) removed += await c.unlink(...keys);
      } while (cursor !== '0');
      return removed;
    }, this.opts.scanTimeoutMs ?? 2000);
    return { local, redis: result.ok ? result.value : undefined };
  }

  /**
   * Every key in Redis under `prefix` with its value (SCAN + MGET, never KEYS), for warming a
   * restarted process. Entries that fail to decode are left out. Undefined when Redis is down.
   */
  async scanRedis(prefix: string, timeoutMs = this.opts.scanTimeoutMs ?? 2000): Promise<Map<string, T> | undefined> {
    if (!this.redis) return undefined;
    const match = `${escapeRedisGlob(prefix)}*`;
    const result = await this.redis.run(async (c) => {
      const found = new Map<string, string>();
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', match, 'COUNT', 500);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await c.mget(...keys);
        keys.forEach((k, i) => {
          const v = values[i];
          if (typeof v === 'string') found.set(k, v);
        });
      } while (cursor !== '0');
      return found;
    }, timeoutMs);
    if (!result.ok) return undefined;
    const out = new Map<string, T>();
    for (const [key, text] of result.value) {
      const decoded = decodeEnvelope(text, this.opts.parse);
      if (decoded.ok) out.set(key, decoded.value);
      else {
        this.counts.redisInvalid++;
        this.log.debug({ key, reason: decoded.reason }, 'ignoring undecodable redis entry');
      }
    }
    return out;
  }

  stats(): MultiLayerCacheStats {
    const c = this.counts;
    const lookups = c.localHits + c.localMisses;
    return {
      local: { hits: c.localHits, misses: c.localMisses, hitRate: rate(c.localHits, c.localMisses) },
      redis: { hits: c.redisHits, misses: c.redisMisses, hitRate: rate(c.redisHits, c.redisMisses), skipped: c.redisSkipped, invalid: c.redisInvalid },
      source: { loads: c.sourceLoads, errors: c.sourceErrors },
      coalesced: c.coalesced,
      overallHitRate: lookups === 0 ? Number.NaN : (c.localHits + c.redisHits) / lookups,
      localEntries: this.local.size,
    };
  }

  /** Local is always up; Redis is PINGed (bounded by the command timeout). Never throws. */
  async health(): Promise<CacheHealth> {
    if (!this.redis) return { local: 'up', redis: 'disabled' };
    const ping = await this.redis.ping();
    return ping.ok
      ? { local: 'up', redis: 'up', redisLatencyMs: ping.latencyMs }
      : { local: 'up', redis: 'down', redisLatencyMs: ping.latencyMs, ...(ping.error ? { redisError: ping.error } : {}) };
  }

  /** Drops the local layer (Redis untouched). */
  clearLocal(): void {
    this.local.clear();
  }

  private async loadThroughLayers(key: string, loader: () => Promise<T>, options: SetOptions, token: LoadToken): Promise<T> {
    const shared = await this.readRedis(key, options, token);
    if (shared !== undefined) return shared;
    this.counts.sourceLoads++;
    this.count('source', 'load');
    let value: T;
    try {
      value = await loader();
    } catch (err) {
      this.counts.sourceErrors++;
      this.count('source', 'error');
      throw err;
    }
    if (value === undefined) throw new Error(`MultiLayerCache ${this.opts.name}: loader for ${key} returned undefined`);
    if (!token.cancelled) {
      this.writeLocal(key, value, options);
      await this.writeRedis(key, value, options);
    }
    return value;
  }

  private readLocal(key: string): Box<T> | undefined {
    const box = this.local.get(key);
    if (box !== undefined) {
      this.counts.localHits++;
      this.count('local', 'hit');
    } else {
      this.counts.localMisses++;
      this.count('local', 'miss');
    }
    return box;
  }

  private async readRedis(key: string, options: SetOptions = {}, token?: LoadToken): Promise<T | undefined> {
    if (!this.redis || !this.redis.isUp()) {
      this.counts.redisSkipped++;
      this.count('redis', 'skipped');
      return undefined;
    }
    const result = await this.redis.run((c) => c.get(key));
    if (!result.ok) {
      this.counts.redisSkipped++;
      this.count('redis', 'skipped');
      return undefined;
    }
    if (result.value === null) {
      this.counts.redisMisses++;
      this.count('redis', 'miss');
      return undefined;
    }
    const decoded = decodeEnvelope(result.value, this.opts.parse);
    if (!decoded.ok) {
      this.counts.redisInvalid++;
      this.counts.redisMisses++;
      this.count('redis', 'invalid');
      this.log.debug({ key, reason: decoded.reason }, 'redis entry not usable: treated as a miss');
      return undefined;
    }
    this.counts.redisHits++;
    this.count('redis', 'hit');
    if (!token?.cancelled) this.writeLocal(key, decoded.value, options);
    return decoded.value;
  }

  private writeLocal(key: string, value: T, options: SetOptions): void {
    this.local.set(key, { value }, { ttl: options.localTtlMs ?? this.opts.localTtlMs });
  }

  private async writeRedis(key: string, value: T, options: SetOptions): Promise<void> {
    if (!this.redis) return;
    const text = encodeEnvelope(value, this.now());
    const ttl = Math.max(1, Math.round(options.redisTtlMs ?? this.opts.redisTtlMs));
    await this.redis.run((c) => c.set(key, text, 'PX', ttl));
  }

  private cancelInFlight(covers: (key: string) => boolean): void {
    for (const [key, entry] of this.inFlight) {
      if (!covers(key)) continue;
      entry.token.cancelled = true;
      // New callers start a fresh load instead of joining one that predates the invalidation.
      this.inFlight.delete(key);
    }
  }

  private count(layer: CacheLayer, result: string): void {
    this.opts.metrics?.cacheRequests.inc({ cache: this.opts.name, layer, result });
  }
}

function rate(hits: number, misses: number): number {
  const total = hits + misses;
  return total === 0 ? Number.NaN : hits / total;
}
