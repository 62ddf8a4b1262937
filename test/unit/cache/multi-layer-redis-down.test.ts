/**
 * Redis configured but unreachable from the start (a closed loopback port): the cache works on
 * its local layer, nothing throws, the layer metric says down. No redis-server needed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { RedisConnection } from '../../../src/cache/redis-connection.js';
import { RedisLock } from '../../../src/cache/redis-lock.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { freePort, waitFor } from '../../helpers/ports.js';

const connections: RedisConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

async function unreachable(metrics?: ScalerMetrics): Promise<RedisConnection> {
  const port = await freePort(); // nothing listens there
  const c = new RedisConnection({
    url: `redis://127.0.0.1:${port}`,
    logger: silentLogger(),
    ...(metrics ? { metrics } : {}),
    probeIntervalMs: 50,
  });
  connections.push(c);
  return c;
}

describe('MultiLayerCache with an unreachable Redis', () => {
  it('serves from the local layer and never throws', async () => {
    const metrics = new ScalerMetrics();
    const redis = await unreachable(metrics);
    const cache = new MultiLayerCache<string>({
      name: 'down',
      redis,
      localTtlMs: 5_000,
      redisTtlMs: 60_000,
      logger: silentLogger(),
      metrics,
      parse: (r) => (typeof r === 'string' ? r : undefined),
    });
    await waitFor(() => redis.state === 'down', 5_000, 'redis marked down');
    expect(await cache.get('wva:decision:ns/a')).toBeUndefined();
    await cache.set('wva:decision:ns/b', 'b');
    expect(await cache.get('wva:decision:ns/b')).toBe('b');
    expect(await cache.delete('wva:decision:ns/b')).toBe(true);
    expect(await cache.scanRedis('wva:')).toBeUndefined();
    const health = await cache.health();
    expect(health.local).toBe('up');
    expect(health.redis).toBe('down');
    expect(health.redisError).toBeTruthy();
    expect(cache.stats().redis.skipped).toBeGreaterThan(0);
    expect(await metrics.registry.metrics()).toContain('wva_scaler_cache_layer_up{layer="redis"} 0');
  });

  it('a RedisLock never becomes leader and never throws', async () => {
    const lock = new RedisLock({
      connection: await unreachable(),
      key: 'wva:lock:ns/engine',
      holderId: 'a',
      ttlMs: 300,
      logger: silentLogger(),
    });
    await lock.tick();
    await lock.tick();
    expect(lock.isLeader()).toBe(false);
    await lock.stop();
  });

  it('RedisLock refuses a renew interval that is not below the TTL', async () => {
    const connection = await unreachable();
    expect(
      () =>
        new RedisLock({
          connection,
          key: 'k',
          holderId: 'a',
          ttlMs: 100,
          renewIntervalMs: 100,
          logger: silentLogger(),
        }),
    ).toThrow(/renewIntervalMs \(100\) < ttlMs \(100\)/);
  });
});
