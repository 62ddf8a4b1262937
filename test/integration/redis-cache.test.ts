/**
 * MultiLayerCache against a real Debian redis-server on a loopback port: coalescing across both
 * layers, pattern invalidation in both layers, TTLs per layer, the versioned envelope, and Redis
 * killed / frozen and brought back mid-test with no error reaching a caller.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { MultiLayerCache } from '../../src/cache/multi-layer-cache.js';
import { RedisConnection } from '../../src/cache/redis-connection.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { waitFor } from '../helpers/ports.js';
import { RedisServer } from '../helpers/redis.js';

interface Metric {
  readonly model: string;
  readonly kv: number;
}
const parseMetric = (raw: unknown): Metric | undefined => {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  return typeof r.model === 'string' && typeof r.kv === 'number' ? { model: r.model, kv: r.kv } : undefined;
};

let server: RedisServer;
let raw: Redis; // an independent client to look at what is really in Redis
const connections: RedisConnection[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  raw = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  raw.on('error', () => undefined);
});
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await server.start(); // a previous test may have stopped it
  await waitFor(async () => (await raw.ping().catch(() => '')) === 'PONG', 5_000, 'raw client');
  await raw.flushall();
});
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

async function connection(metrics?: ScalerMetrics): Promise<RedisConnection> {
  const c = new RedisConnection({ url: server.url, logger: silentLogger(), probeIntervalMs: 50, commandTimeoutMs: 150, ...(metrics ? { metrics } : {}) });
  connections.push(c);
  expect(await c.waitUntilUp(5_000)).toBe(true);
  return c;
}

function cache(redis: RedisConnection, opts: { localTtlMs?: number; redisTtlMs?: number; metrics?: ScalerMetrics } = {}): MultiLayerCache<Metric> {
  return new MultiLayerCache<Metric>({
    name: 'metrics', redis, localTtlMs: opts.localTtlMs ?? 5_000, redisTtlMs: opts.redisTtlMs ?? 60_000,
    parse: parseMetric, logger: silentLogger(), ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
}

const key = (model: string): string => CacheKeys.replica('prod', model);

describe('MultiLayerCache on a real redis-server', () => {
  it('100 concurrent misses make one loader call; a second replica then hits Redis, not the source', async () => {
    const a = cache(await connection());
    let loads = 0;
    const loader = async (): Promise<Metric> => {
      loads++;
      await new Promise((r) => setTimeout(r, 20));
      return { model: 'm', kv: 0.5 };
    };
    const values = await Promise.all(Array.from({ length: 100 }, () => a.getOrSet(key('m'), loader)));
    expect(loads).toBe(1);
    expect(values.every((v) => v.kv === 0.5)).toBe(true);
    expect(JSON.parse((await raw.get(key('m'))) ?? 'null')).toMatchObject({ v: 1, value: { model: 'm', kv: 0.5 } });

    // Another process (own local layer) with 100 concurrent misses: one Redis read, no load.
    const b = cache(await connection());
    const fromRedis = await Promise.all(Array.from({ length: 100 }, () => b.getOrSet(key('m'), loader)));
    expect(loads).toBe(1);
    expect(fromRedis.every((v) => v.kv === 0.5)).toBe(true);
    expect(b.stats().redis.hits).toBe(1);
    expect(b.stats().coalesced).toBe(99);
  });

  it('invalidatePattern removes matching keys from both layers (SCAN, not KEYS) and nothing else', async () => {
    const c = cache(await connection());
    for (let i = 0; i < 1_200; i++) await c.set(key(`model-${i}`), { model: `model-${i}`, kv: i });
    await c.set(CacheKeys.replica('prod-eu', 'x'), { model: 'x', kv: 1 });
    await c.set(CacheKeys.allocation('prod', 'v'), { model: 'v', kv: 1 });
    const removed = await c.invalidatePattern(CacheKeys.prefix('replica', 'prod'));
    expect(removed).toEqual({ local: 1_200, redis: 1_200 });
    expect(await raw.exists(key('model-7'))).toBe(0);
    expect(await raw.exists(CacheKeys.replica('prod-eu', 'x'))).toBe(1);
    expect(await raw.exists(CacheKeys.allocation('prod', 'v'))).toBe(1);
    expect(await c.get(key('model-7'))).toBeUndefined();
    expect((await c.get(CacheKeys.replica('prod-eu', 'x')))?.kv).toBe(1);
    const info = await raw.info('commandstats');
    expect(info).toContain('cmdstat_scan');
    expect(info).not.toContain('cmdstat_keys');
  });

  it('a key name with glob characters is invalidated literally', async () => {
    const c = cache(await connection());
    await c.set(key('a*'), { model: 'a*', kv: 1 });
    await c.set(key('ab'), { model: 'ab', kv: 1 });
    expect(await c.invalidatePattern(key('a*'))).toEqual({ local: 1, redis: 1 });
    expect(await raw.exists(key('ab'))).toBe(1);
  });

  it('expires each layer after its own TTL', async () => {
    const c = cache(await connection(), { localTtlMs: 150, redisTtlMs: 400 });
    await c.set(key('t'), { model: 't', kv: 1 });
    const pttl = await raw.pttl(key('t'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(400);
    await new Promise((r) => setTimeout(r, 250));
    expect(c.peekLocal(key('t'))).toBeUndefined(); // local expired
    expect((await c.get(key('t')))?.kv).toBe(1); // still in Redis (and copied back to local)
    await new Promise((r) => setTimeout(r, 300));
    expect(await raw.exists(key('t'))).toBe(0);
    c.clearLocal();
    expect(await c.get(key('t'))).toBeUndefined();
  });

  it('treats an unknown envelope version or a malformed value in Redis as a miss', async () => {
    const c = cache(await connection());
    await raw.set(key('v2'), JSON.stringify({ v: 2, value: { model: 'v2', kv: 1 }, storedAt: 1 }));
    await raw.set(key('junk'), 'not json');
    await raw.set(key('bad'), JSON.stringify({ v: 1, value: { model: 3 }, storedAt: 1 }));
    expect(await c.get(key('v2'))).toBeUndefined();
    expect(await c.get(key('junk'))).toBeUndefined();
    expect((await c.getOrSet(key('bad'), async () => ({ model: 'bad', kv: 2 }))).kv).toBe(2);
    expect(c.stats().redis.invalid).toBe(3);
    expect(JSON.parse((await raw.get(key('bad'))) ?? 'null')).toMatchObject({ v: 1, value: { model: 'bad', kv: 2 } });
  });

  it('health PINGs Redis and reports per-layer hit rates as metrics', async () => {
    const metrics = new ScalerMetrics();
    const c = cache(await connection(metrics), { metrics });
    const health = await c.health();
    expect(health.redis).toBe('up');
    expect(health.redisLatencyMs).toBeGreaterThanOrEqual(0);
    await c.getOrSet(key('h'), async () => ({ model: 'h', kv: 1 }));
    c.clearLocal();
    await c.get(key('h'));
    await c.get(key('h'));
    const s = c.stats();
    expect(s.local).toMatchObject({ hits: 1, misses: 2 });
    expect(s.redis).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('wva_scaler_cache_requests_total{cache="metrics",layer="redis",result="hit"} 1');
    expect(text).toContain('wva_scaler_cache_layer_up{layer="redis"} 1');
  });

  it('Redis killed and restarted mid-traffic: no caller sees an error, calls stay fast, it recovers by itself', async () => {
    const metrics = new ScalerMetrics();
    const conn = await connection(metrics);
    const c = cache(conn, { localTtlMs: 50, metrics });
    let errors = 0;
    let calls = 0;
    let slowest = 0;
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        const started = performance.now();
        try {
          const k = key(`m-${i % 20}`);
          if (i % 3 === 0) await c.set(k, { model: k, kv: i });
          else await c.getOrSet(k, async () => ({ model: k, kv: i }));
          if (i % 50 === 0) await c.invalidatePattern(CacheKeys.prefix('replica', 'prod'));
        } catch {
          errors++;
        }
        calls++;
        slowest = Math.max(slowest, performance.now() - started);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await server.stop(); // SIGKILL: a crash
    await waitFor(() => conn.state === 'down', 5_000, 'connection marked down');
    expect(await metrics.registry.metrics()).toContain('wva_scaler_cache_layer_up{layer="redis"} 0');
    expect((await c.health()).redis).toBe('down');
    const callsBeforeRestart = calls;
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBeGreaterThan(callsBeforeRestart); // traffic kept flowing while down
    await server.start();
    await waitFor(() => conn.isUp(), 10_000, 'connection back up by itself');
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await traffic;
    expect(errors).toBe(0);
    // Bounded by the 150 ms command timeout (plus scheduling), never a hang.
    expect(slowest).toBeLessThan(1_500);
    // Writes reach Redis again.
    await c.set(key('after'), { model: 'after', kv: 1 });
    expect(await raw.exists(key('after'))).toBe(1);
    expect(await metrics.registry.metrics()).toContain('wva_scaler_cache_layer_up{layer="redis"} 1');
  });

  it('a frozen (slow) Redis costs at most one timeout, then local only; back when it answers again', async () => {
    const conn = await connection();
    const c = cache(conn);
    await c.set(key('s'), { model: 's', kv: 1 });
    server.pause();
    try {
      const started = performance.now();
      expect((await c.getOrSet(key('fresh'), async () => ({ model: 'fresh', kv: 2 }))).kv).toBe(2);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(conn.isUp()).toBe(false);
      expect((await c.get(key('s')))?.kv).toBe(1); // local layer still answers
    } finally {
      server.resume();
    }
    await waitFor(() => conn.isUp(), 5_000, 'connection up after resume');
  });

  it('logs each transition once, not once per failed call', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const conn = new RedisConnection({ url: server.url, logger, probeIntervalMs: 50, commandTimeoutMs: 150 });
    connections.push(conn);
    await conn.waitUntilUp(5_000);
    const c = new MultiLayerCache<Metric>({ name: 'log', redis: conn, localTtlMs: 1, redisTtlMs: 1_000, parse: parseMetric, logger });
    await server.stop();
    await waitFor(() => !conn.isUp(), 5_000, 'down');
    for (let i = 0; i < 50; i++) await c.getOrSet(key(`l${i}`), async () => ({ model: 'l', kv: i }));
    await new Promise((r) => setTimeout(r, 300)); // several failed probes
    await server.start();
    await waitFor(() => conn.isUp(), 10_000, 'up');
    const downs = lines.filter((l) => l.includes('redis unreachable'));
    const ups = lines.filter((l) => l.includes('redis reachable'));
    expect(downs, lines.join("")).toHaveLength(1);
    expect(ups).toHaveLength(2); // first connect, then recovery
    expect(lines.join('')).not.toContain(server.url); // the URL (may hold a password) is never logged
  });
});
