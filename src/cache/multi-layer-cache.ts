/**
 * MultiLayerCache<T>: a local LRU (per process), then Redis (shared by every scaler replica,
 * optional). The shared decisions are its one user: the leader writes each decision through both
 * layers, followers read local then Redis, and a restarted replica warms itself with `scanRedis`.
 *
 * Contract:
 *  - `get(key)`: local hit → value; else Redis hit → value (copied to local); else undefined.
 *  - Redis never makes a call fail or wait long: every Redis op goes through RedisConnection,
 *    which bounds it with a short timeout and turns errors into "Redis down" (local layer only).
 *  - Values are JSON in Redis inside a versioned envelope (redis-envelope.ts); an unknown
 *    version or a value that fails `parse` is a miss. The local layer keeps the value itself:
 *    callers must treat returned values as read-only (freeze them if you hand them out).
 *  - There is no load-through (get-or-set) and no pattern invalidation: nothing loads a decision
 *    on a miss (the engine computes it and coalesces its own runs) and decisions are removed one
 *    variant at a time.
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
  /** SCAN and MGET budget of one `scanRedis` (default 2 s). */
  readonly scanTimeoutMs?: number;
}

export type CacheLayer = 'local' | 'redis';

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
  /** Share of lookups answered by either layer: (local hits + redis hits) / lookups. */
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

interface Counts {
  localHits: number;
  localMisses: number;
  redisHits: number;
  redisMisses: number;
  redisSkipped: number;
  redisInvalid: number;
}

export class MultiLayerCache<T> {
  private readonly local: LRUCache<string, Box<T>>;
  private readonly counts: Counts = {
    localHits: 0,
    localMisses: 0,
    redisHits: 0,
    redisMisses: 0,
    redisSkipped: 0,
    redisInvalid: 0,
  };
  private readonly redis: RedisConnection | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: MultiLayerCacheOptions<T>) {
    for (const [name, ms] of [
      ['localTtlMs', opts.localTtlMs],
      ['redisTtlMs', opts.redisTtlMs],
    ] as const) {
      if (!Number.isFinite(ms) || ms <= 0)
        throw new Error(`MultiLayerCache ${opts.name}: ${name} must be a duration above 0 ms, got ${ms}`);
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

  /** Local, then Redis (a Redis hit is copied to local). Undefined on a miss. Never throws. */
  async get(key: string): Promise<T | undefined> {
    const local = this.readLocal(key);
    if (local !== undefined) return local.value;
    return this.readRedis(key);
  }

  /** Writes both layers. Redis failures are swallowed (local still has it). */
  async set(key: string, value: T): Promise<void> {
    if (value === undefined) throw new Error(`MultiLayerCache ${this.opts.name}: cannot store undefined under ${key}`);
    this.local.set(key, { value });
    await this.writeRedis(key, value);
  }

  /** Sets the local layer only (e.g. a value that arrived over pub/sub, already in Redis). */
  setLocal(key: string, value: T): void {
    this.local.set(key, { value });
  }

  /** Deletes from both layers; true when the local layer had it. */
  async delete(key: string): Promise<boolean> {
    const had = this.local.delete(key);
    if (this.redis) await this.redis.run((c) => c.unlink(key));
    return had;
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
      redis: {
        hits: c.redisHits,
        misses: c.redisMisses,
        hitRate: rate(c.redisHits, c.redisMisses),
        skipped: c.redisSkipped,
        invalid: c.redisInvalid,
      },
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
      : {
          local: 'up',
          redis: 'down',
          redisLatencyMs: ping.latencyMs,
          ...(ping.error ? { redisError: ping.error } : {}),
        };
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

  private async readRedis(key: string): Promise<T | undefined> {
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
    this.local.set(key, { value: decoded.value });
    return decoded.value;
  }

  private async writeRedis(key: string, value: T): Promise<void> {
    if (!this.redis) return;
    const text = encodeEnvelope(value, this.now());
    const ttl = Math.max(1, Math.round(this.opts.redisTtlMs));
    await this.redis.run((c) => c.set(key, text, 'PX', ttl));
  }

  private count(layer: CacheLayer, result: string): void {
    this.opts.metrics?.cacheRequests.inc({ cache: this.opts.name, layer, result });
  }
}

function rate(hits: number, misses: number): number {
  const total = hits + misses;
  return total === 0 ? Number.NaN : hits / total;
}
