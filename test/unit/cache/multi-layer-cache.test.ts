import { describe, expect, it } from 'vitest';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

const parseNumber = (raw: unknown): number | undefined => (typeof raw === 'number' ? raw : undefined);

function localCache(opts: { localTtlMs?: number; clock?: { t: number }; metrics?: ScalerMetrics; max?: number } = {}): MultiLayerCache<number> {
  const clock = opts.clock;
  return new MultiLayerCache<number>({
    name: 'test',
    localTtlMs: opts.localTtlMs ?? 5_000,
    redisTtlMs: 60_000,
    parse: parseNumber,
    logger: silentLogger(),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(clock ? { monotonicNow: () => clock.t } : {}),
    ...(opts.max ? { maxLocalEntries: opts.max } : {}),
  });
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MultiLayerCache without Redis (local only)', () => {
  it('get / set / delete on the local layer', async () => {
    const cache = localCache();
    expect(await cache.get('wva:replica:ns/a')).toBeUndefined();
    await cache.set('wva:replica:ns/a', 7);
    expect(await cache.get('wva:replica:ns/a')).toBe(7);
    expect(cache.peekLocal('wva:replica:ns/a')).toBe(7);
    expect(await cache.delete('wva:replica:ns/a')).toBe(true);
    expect(await cache.get('wva:replica:ns/a')).toBeUndefined();
    expect(await cache.delete('wva:replica:ns/a')).toBe(false);
  });

  it('stores falsy values (0) as hits, not misses', async () => {
    const cache = localCache();
    let loads = 0;
    const loader = async (): Promise<number> => {
      loads++;
      return 0;
    };
    expect(await cache.getOrSet('k', loader)).toBe(0);
    expect(await cache.getOrSet('k', loader)).toBe(0);
    expect(loads).toBe(1);
  });

  it('coalesces 100 concurrent misses of one key into one loader call', async () => {
    const cache = localCache();
    const gate = deferred<number>();
    let calls = 0;
    const loader = (): Promise<number> => {
      calls++;
      return gate.promise;
    };
    const all = Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('wva:replica:ns/m', loader)));
    await new Promise((r) => setImmediate(r));
    gate.resolve(42);
    const values = await all;
    expect(calls).toBe(1);
    expect(new Set(values)).toEqual(new Set([42]));
    expect(cache.stats().coalesced).toBe(99);
    expect(cache.stats().source.loads).toBe(1);
  });

  it('does not coalesce different keys', async () => {
    const cache = localCache();
    const seen: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((k) => cache.getOrSet(k, async () => (seen.push(k), k.charCodeAt(0)))));
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
  });

  it('passes a loader error to every waiter and does not cache it', async () => {
    const cache = localCache();
    const gate = deferred<number>();
    const waiters = Array.from({ length: 5 }, () => cache.getOrSet('k', () => gate.promise));
    gate.reject(new Error('source down'));
    const results = await Promise.allSettled(waiters);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'source down')).toBe(true);
    expect(await cache.getOrSet('k', async () => 5)).toBe(5);
    expect(cache.stats().source).toEqual({ loads: 2, errors: 1 });
  });

  it('expires local entries after the local TTL', async () => {
    const clock = { t: 1_000 };
    const cache = localCache({ localTtlMs: 5_000, clock });
    await cache.set('k', 1);
    clock.t += 4_999;
    expect(await cache.get('k')).toBe(1);
    clock.t += 2;
    expect(await cache.get('k')).toBeUndefined();
    let loads = 0;
    expect(await cache.getOrSet('k', async () => (loads++, 2))).toBe(2);
    expect(loads).toBe(1);
  });

  it('honours a per-call TTL override', async () => {
    const clock = { t: 1_000 }; // lru-cache reads a start time of 0 as "no TTL"
    const cache = localCache({ localTtlMs: 5_000, clock });
    await cache.set('short', 1, { localTtlMs: 100 });
    await cache.set('long', 2);
    clock.t += 200;
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('long')).toBe(2);
  });

  it('invalidatePattern removes exactly the keys with the prefix', async () => {
    const cache = localCache();
    await cache.set('wva:replica:prod/a', 1);
    await cache.set('wva:replica:prod/b', 2);
    await cache.set('wva:replica:prod-eu/c', 3);
    await cache.set('wva:decision:prod/a', 4);
    const removed = await cache.invalidatePattern('wva:replica:prod/');
    expect(removed).toEqual({ local: 2, redis: undefined });
    expect(await cache.get('wva:replica:prod/a')).toBeUndefined();
    expect(await cache.get('wva:replica:prod/b')).toBeUndefined();
    expect(await cache.get('wva:replica:prod-eu/c')).toBe(3);
    expect(await cache.get('wva:decision:prod/a')).toBe(4);
  });

  it('rejects an empty invalidation prefix (it would drop everything)', async () => {
    await expect(localCache().invalidatePattern('')).rejects.toThrow(/non-empty prefix/);
  });

  it('a load in flight during an invalidation does not store its (stale) value', async () => {
    const cache = localCache();
    const gate = deferred<number>();
    const first = cache.getOrSet('wva:replica:ns/m', () => gate.promise);
    await new Promise((r) => setImmediate(r));
    await cache.invalidatePattern('wva:replica:ns/');
    // A caller after the invalidation does not join the old load.
    const second = cache.getOrSet('wva:replica:ns/m', async () => 2);
    gate.resolve(1);
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(await cache.get('wva:replica:ns/m')).toBe(2);
  });

  it('delete during a load in flight also cancels its write-back', async () => {
    const cache = localCache();
    const gate = deferred<number>();
    const load = cache.getOrSet('k', () => gate.promise);
    await new Promise((r) => setImmediate(r));
    await cache.delete('k');
    gate.resolve(9);
    expect(await load).toBe(9);
    expect(cache.peekLocal('k')).toBeUndefined();
  });

  it('bounds the local layer (LRU eviction)', async () => {
    const cache = localCache({ max: 3 });
    for (const k of ['a', 'b', 'c', 'd']) await cache.set(k, 1);
    expect(cache.stats().localEntries).toBe(3);
    expect(cache.peekLocal('a')).toBeUndefined();
    expect(cache.peekLocal('d')).toBe(1);
  });

  it('counts hits and misses per layer as hit rates and Prometheus counters', async () => {
    const metrics = new ScalerMetrics();
    const cache = localCache({ metrics });
    await cache.getOrSet('a', async () => 1); // local miss, redis skipped, source load
    await cache.getOrSet('a', async () => 1); // local hit
    await cache.get('a'); // local hit
    await cache.get('b'); // local miss, redis skipped
    const s = cache.stats();
    expect(s.local).toEqual({ hits: 2, misses: 2, hitRate: 0.5 });
    expect(s.redis.skipped).toBe(2);
    expect(Number.isNaN(s.redis.hitRate)).toBe(true);
    expect(s.overallHitRate).toBe(0.5);
    const text = await metrics.registry.metrics();
    expect(text).toContain('wva_scaler_cache_requests_total{cache="test",layer="local",result="hit"} 2');
    expect(text).toContain('wva_scaler_cache_requests_total{cache="test",layer="local",result="miss"} 2');
    expect(text).toContain('wva_scaler_cache_requests_total{cache="test",layer="source",result="load"} 1');
    expect(text).toContain('wva_scaler_cache_layer_up{layer="local"} 1');
  });

  it('health reports Redis as disabled when not configured', async () => {
    expect(await localCache().health()).toEqual({ local: 'up', redis: 'disabled' });
    expect(localCache().shared).toBe(false);
  });

  it('rejects a TTL that is not above zero, naming it', () => {
    expect(
      () => new MultiLayerCache<number>({ name: 'x', localTtlMs: 0, redisTtlMs: 1, parse: parseNumber, logger: silentLogger() }),
    ).toThrow(/localTtlMs must be a duration above 0 ms, got 0/);
  });

  it('refuses to store undefined (it would read back as a miss)', async () => {
    const cache = new MultiLayerCache<number | undefined>({ name: 'x', localTtlMs: 1, redisTtlMs: 1, parse: () => undefined, logger: silentLogger() });
    await expect(cache.set('k', undefined)).rejects.toThrow(/cannot store undefined/);
  });
});
