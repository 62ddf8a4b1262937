import { describe, expect, it } from 'vitest';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';

const parseNumber = (raw: unknown): number | undefined => (typeof raw === 'number' ? raw : undefined);

function localCache(
  opts: { localTtlMs?: number; clock?: { t: number }; metrics?: ScalerMetrics; max?: number } = {},
): MultiLayerCache<number> {
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

describe('MultiLayerCache without Redis (local only)', () => {
  it('get / set / delete on the local layer', async () => {
    const cache = localCache();
    expect(await cache.get('wva:decision:ns/a')).toBeUndefined();
    await cache.set('wva:decision:ns/a', 7);
    expect(await cache.get('wva:decision:ns/a')).toBe(7);
    cache.setLocal('wva:decision:ns/b', 8);
    expect(await cache.get('wva:decision:ns/b')).toBe(8);
    expect(await cache.delete('wva:decision:ns/a')).toBe(true);
    expect(await cache.get('wva:decision:ns/a')).toBeUndefined();
    expect(await cache.delete('wva:decision:ns/a')).toBe(false);
  });

  it('stores falsy values (0) as hits, not misses', async () => {
    const cache = localCache();
    await cache.set('k', 0);
    expect(await cache.get('k')).toBe(0);
    expect(cache.stats().local.hits).toBe(1);
  });

  it('expires local entries after the local TTL', async () => {
    const clock = { t: 1_000 };
    const cache = localCache({ localTtlMs: 5_000, clock });
    await cache.set('k', 1);
    clock.t += 4_999;
    expect(await cache.get('k')).toBe(1);
    clock.t += 2;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('bounds the local layer (LRU eviction)', async () => {
    const cache = localCache({ max: 3 });
    for (const k of ['a', 'b', 'c', 'd']) await cache.set(k, 1);
    expect(cache.stats().localEntries).toBe(3);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('d')).toBe(1);
  });

  it('counts hits and misses per layer as hit rates and Prometheus counters', async () => {
    const metrics = new ScalerMetrics();
    const cache = localCache({ metrics });
    await cache.get('a'); // local miss, redis skipped
    await cache.set('a', 1);
    await cache.get('a'); // local hit
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
    expect(text).toContain('wva_scaler_cache_layer_up{layer="local"} 1');
  });

  it('health reports Redis as disabled when not configured', async () => {
    expect(await localCache().health()).toEqual({ local: 'up', redis: 'disabled' });
  });

  it('rejects a TTL that is not above zero, naming it', () => {
    expect(
      () =>
        new MultiLayerCache<number>({
          name: 'x',
          localTtlMs: 0,
          redisTtlMs: 1,
          parse: parseNumber,
          logger: silentLogger(),
        }),
    ).toThrow(/localTtlMs must be a duration above 0 ms, got 0/);
  });

  it('refuses to store undefined (it would read back as a miss)', async () => {
    const cache = new MultiLayerCache<number | undefined>({
      name: 'x',
      localTtlMs: 1,
      redisTtlMs: 1,
      parse: () => undefined,
      logger: silentLogger(),
    });
    await expect(cache.set('k', undefined)).rejects.toThrow(/cannot store undefined/);
  });
});
