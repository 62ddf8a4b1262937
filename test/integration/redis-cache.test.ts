/**
 * MultiLayerCache against a real Debian redis-server on a loopback port: values shared between
 * replicas, warm-up scans, TTLs per layer, the versioned envelope, and Redis killed / frozen and
 * brought back mid-test with no error reaching a caller.
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
  const c = new RedisConnection({
    url: server.url,
    logger: silentLogger(),
    probeIntervalMs: 50,
    commandTimeoutMs: 150,
    ...(metrics ? { metrics } : {}),
  });
  connections.push(c);
  expect(await c.waitUntilUp(5_000)).toBe(true);
  return c;
}

function cache(
  redis: RedisConnection,
  opts: { localTtlMs?: number; redisTtlMs?: number; metrics?: ScalerMetrics } = {},
): MultiLayerCache<Metric> {
  return new MultiLayerCache<Metric>({
    name: 'metrics',
    redis,
    localTtlMs: opts.localTtlMs ?? 5_000,
    redisTtlMs: opts.redisTtlMs ?? 60_000,
    parse: parseMetric,
    logger: silentLogger(),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
}

const key = (name: string): string => CacheKeys.decision(`prod/${name}`);

describe('MultiLayerCache on a real redis-server', () => {
  it('a value one replica sets is a Redis hit for another, then a local hit there', async () => {
    const a = cache(await connection());
    await a.set(key('m'), { model: 'm', kv: 0.5 });
    expect(JSON.parse((await raw.get(key('m'))) ?? 'null')).toMatchObject({ v: 1, value: { model: 'm', kv: 0.5 } });
    const b = cache(await connection()); // another process: its own local layer
    expect((await b.get(key('m')))?.kv).toBe(0.5);
    expect((await b.get(key('m')))?.kv).toBe(0.5);
    expect(b.stats()).toMatchObject({ local: { hits: 1, misses: 1 }, redis: { hits: 1, misses: 0 } });
  });

  it('scanRedis reads every key under a prefix (SCAN and MGET, not KEYS) and nothing else', async () => {
    const c = cache(await connection());
    for (let i = 0; i < 1_200; i++) await c.set(key(`model-${i}`), { model: `model-${i}`, kv: i });
    await raw.set(CacheKeys.lock('prod', 'engine'), 'holder');
    const found = await c.scanRedis(CacheKeys.prefix('decision'));
    expect(found?.size).toBe(1_200);
    expect(found?.get(key('model-7'))).toEqual({ model: 'model-7', kv: 7 });
    const info = await raw.info('commandstats');
    expect(info).toContain('cmdstat_scan');
    expect(info).not.toContain('cmdstat_keys');
  });

  it('a prefix with glob characters is scanned literally', async () => {
    const c = cache(await connection());
    await c.set(key('a*'), { model: 'a*', kv: 1 });
    await c.set(key('ab'), { model: 'ab', kv: 1 });
    expect([...((await c.scanRedis(key('a*'))) ?? new Map()).keys()]).toEqual([key('a*')]);
  });

  it('expires each layer after its own TTL', async () => {
    const c = cache(await connection(), { localTtlMs: 150, redisTtlMs: 400 });
    await c.set(key('t'), { model: 't', kv: 1 });
    const pttl = await raw.pttl(key('t'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(400);
    await new Promise((r) => setTimeout(r, 250));
    expect((await c.get(key('t')))?.kv).toBe(1); // local expired, still in Redis (and copied back to local)
    expect(c.stats()).toMatchObject({ local: { misses: 1 }, redis: { hits: 1 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await raw.exists(key('t'))).toBe(0);
    expect(await cache(await connection()).get(key('t'))).toBeUndefined();
  });

  it('treats an unknown envelope version or a malformed value in Redis as a miss', async () => {
    const c = cache(await connection());
    await raw.set(key('v2'), JSON.stringify({ v: 2, value: { model: 'v2', kv: 1 }, storedAt: 1 }));
    await raw.set(key('junk'), 'not json');
    await raw.set(key('bad'), JSON.stringify({ v: 1, value: { model: 3 }, storedAt: 1 }));
    expect(await c.get(key('v2'))).toBeUndefined();
    expect(await c.get(key('junk'))).toBeUndefined();
    expect(await c.get(key('bad'))).toBeUndefined();
    expect(c.stats().redis.invalid).toBe(3);
    await c.set(key('bad'), { model: 'bad', kv: 2 });
    expect(JSON.parse((await raw.get(key('bad'))) ?? 'null')).toMatchObject({ v: 1, value: { model: 'bad', kv: 2 } });
  });

  it('health PINGs Redis and reports per-layer hit rates as metrics', async () => {
    const metrics = new ScalerMetrics();
    const c = cache(await connection(metrics), { metrics });
    const health = await c.health();
    expect(health.redis).toBe('up');
    expect(health.redisLatencyMs).toBeGreaterThanOrEqual(0);
    await c.set(key('h'), { model: 'h', kv: 1 });
    const reader = cache(await connection(), { metrics }); // an empty local layer
    await reader.get(key('h')); // local miss, Redis hit
    await reader.get(key('h')); // local hit
    await reader.get(key('none')); // local miss, Redis miss
    const s = reader.stats();
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
          else await c.get(k);
          if (i % 50 === 0) await c.delete(k);
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
      expect(await c.get(key('fresh'))).toBeUndefined();
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
    const c = new MultiLayerCache<Metric>({
      name: 'log',
      redis: conn,
      localTtlMs: 1,
      redisTtlMs: 1_000,
      parse: parseMetric,
      logger,
    });
    await server.stop();
    await waitFor(() => !conn.isUp(), 5_000, 'down');
    for (let i = 0; i < 50; i++) await c.get(key(`l${i}`));
    await new Promise((r) => setTimeout(r, 300)); // several failed probes
    await server.start();
    await waitFor(() => conn.isUp(), 10_000, 'up');
    const downs = lines.filter((l) => l.includes('redis unreachable'));
    const ups = lines.filter((l) => l.includes('redis reachable'));
    expect(downs, lines.join('')).toHaveLength(1);
    expect(ups).toHaveLength(2); // first connect, then recovery
    expect(lines.join('')).not.toContain(server.url); // the URL (may hold a password) is never logged
  });
});
