/**
 * Multi-layer cache benchmark (`npm run bench:cache`). Starts its own redis-server on a free
 * loopback port, then measures:
 *  1. get latency per layer (p50/p99, sequential ops/s): local hit, Redis hit (local miss),
 *     miss to the source (local miss + Redis miss + loader + write-back to both layers), and the
 *     same miss without Redis;
 *  2. hit rates under a realistic mix: 1,000 variants, zipf-like access (s = 1.0), 3 scaler
 *     replicas sharing one Redis, local TTL 5 s, Redis TTL 30 s, 60 s of simulated traffic at 500 lookups/s per
 *     replica, one namespace (100 variants) invalidated every 10 s — and the number of source
 *     loads compared with the same replicas without Redis.
 * Writes the figures into bench/RESULTS.md under "## Cache (bench/cache.ts)".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CacheKeys } from '../src/cache/cache-keys.js';
import { MultiLayerCache } from '../src/cache/multi-layer-cache.js';
import { RedisConnection } from '../src/cache/redis-connection.js';
import { silentLogger } from '../src/observability/logger.js';
import { RedisServer } from '../test/helpers/redis.js';

interface Sample {
  readonly model: string;
  readonly kv: number;
  readonly queue: number;
}
const parseSample = (raw: unknown): Sample | undefined => {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  return typeof r.model === 'string' && typeof r.kv === 'number' && typeof r.queue === 'number' ? { model: r.model, kv: r.kv, queue: r.queue } : undefined;
};

const NAMESPACES = 10;
const SHARED_TTL_MS = 30_000;
const VARIANTS = 1_000;
const keyOf = (i: number): string => CacheKeys.replica(`ns-${i % NAMESPACES}`, `org/model-${i}`);
const sampleOf = (i: number): Sample => ({ model: `org/model-${i}`, kv: (i % 100) / 100, queue: i % 7 });

interface Latency {
  readonly name: string;
  readonly ops: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly opsPerSec: number;
}

async function measure(name: string, ops: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < Math.min(1_000, ops); i++) await op(i); // warm-up (JIT, connections)
  const samples = new Float64Array(ops);
  const started = performance.now();
  for (let i = 0; i < ops; i++) {
    const t = process.hrtime.bigint();
    await op(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1_000;
  }
  const elapsed = performance.now() - started;
  samples.sort();
  const at = (q: number): number => samples[Math.min(ops - 1, Math.floor(q * ops))] ?? Number.NaN;
  return { name, ops, p50us: at(0.5), p99us: at(0.99), opsPerSec: ops / (elapsed / 1_000) };
}

function cache(redis: RedisConnection | undefined, opts: { localTtlMs?: number; max?: number; clock?: { t: number }; parse?: (raw: unknown) => Sample | undefined } = {}): MultiLayerCache<Sample> {
  const clock = opts.clock;
  return new MultiLayerCache<Sample>({
    name: 'bench', redis, localTtlMs: opts.localTtlMs ?? 5_000, redisTtlMs: 600_000, parse: opts.parse ?? parseSample, logger: silentLogger(),
    ...(opts.max ? { maxLocalEntries: opts.max } : {}),
    ...(clock ? { monotonicNow: () => clock.t } : {}),
  });
}

/** Zipf(s) over ranks 0..n-1 via an inverse CDF; deterministic LCG so runs are comparable. */
function zipfSampler(n: number, s: number, seed: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, s);
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] ?? 0) / sum;
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = state / 2 ** 32;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface MixResult {
  readonly replicas: number;
  readonly redis: boolean;
  readonly lookups: number;
  readonly localHitRate: number;
  readonly redisHitRate: number;
  readonly overallHitRate: number;
  readonly sourceLoads: number;
}

async function realisticMix(redis: (() => Promise<RedisConnection>) | undefined, replicas: number): Promise<MixResult> {
  const clock = { t: 1_000 };
  const connections = redis ? await Promise.all(Array.from({ length: replicas }, () => redis())) : [];
  // Redis TTL of shared metrics = the metrics TTL (30 s) in simulated time: an entry whose
  // simulated fetch time is older reads as a miss.
  const fetchedAt = new Map<string, number>();
  const parse = (raw: unknown): Sample | undefined => {
    const s = parseSample(raw);
    return s && clock.t - (fetchedAt.get(s.model) ?? -Infinity) < SHARED_TTL_MS ? s : undefined;
  };
  const caches = Array.from({ length: replicas }, (_, r) => cache(connections[r], { localTtlMs: 5_000, clock, parse }));
  const pick = zipfSampler(VARIANTS, 1.0, 42);
  const perReplicaRate = 500; // lookups/s
  const seconds = 60;
  const stepMs = 1_000 / (perReplicaRate * replicas);
  let nextInvalidation = clock.t + 10_000;
  let invalidatedNs = 0;
  for (let i = 0; i < perReplicaRate * replicas * seconds; i++) {
    clock.t += stepMs;
    if (clock.t >= nextInvalidation) {
      // A Deployment spec changed in one namespace: every replica drops that namespace's keys
      // (the first one also clears them from Redis).
      const prefix = CacheKeys.prefix('replica', `ns-${invalidatedNs++ % NAMESPACES}`);
      for (const c of caches) await c.invalidatePattern(prefix);
      nextInvalidation += 10_000;
    }
    const v = pick();
    const c = caches[i % replicas];
    if (c) {
      await c.getOrSet(keyOf(v), async () => {
        const sample = sampleOf(v);
        fetchedAt.set(sample.model, clock.t);
        return sample;
      });
    }
  }
  let lookups = 0;
  let localHits = 0;
  let redisHits = 0;
  let redisLookups = 0;
  let sourceLoads = 0;
  for (const c of caches) {
    const s = c.stats();
    lookups += s.local.hits + s.local.misses;
    localHits += s.local.hits;
    redisHits += s.redis.hits;
    redisLookups += s.redis.hits + s.redis.misses;
    sourceLoads += s.source.loads;
  }
  await Promise.all(connections.map((c) => c.close()));
  return {
    replicas, redis: redis !== undefined, lookups, localHitRate: localHits / lookups,
    redisHitRate: redisLookups === 0 ? Number.NaN : redisHits / redisLookups,
    overallHitRate: (localHits + redisHits) / lookups, sourceLoads,
  };
}

function pct(x: number): string {
  return Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)} %`;
}

function writeResults(section: string): void {
  const path = new URL('./RESULTS.md', import.meta.url).pathname;
  const heading = '## Cache (bench/cache.ts)';
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const start = existing.indexOf(heading);
  let next: string;
  if (start === -1) next = `${existing.trimEnd()}\n\n${section}`;
  else {
    const after = existing.indexOf('\n## ', start + heading.length);
    next = existing.slice(0, start) + section + (after === -1 ? '' : `\n${existing.slice(after + 1)}`);
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const redisVersion = execFileSync(server.binary, ['--version']).toString().trim().split(' ')[2] ?? '?';
  const connect = async (): Promise<RedisConnection> => {
    const c = new RedisConnection({ url: server.url, logger: silentLogger() });
    if (!(await c.waitUntilUp(5_000))) throw new Error('redis-server did not come up');
    return c;
  };
  try {
    const conn = await connect();
    const N = 20_000;

    const local = cache(conn);
    for (let i = 0; i < VARIANTS; i++) await local.set(keyOf(i), sampleOf(i));
    const localHit = await measure('local hit', 200_000, (i) => local.get(keyOf(i % VARIANTS)));

    // One-entry local layer cycling 1,000 keys: every get misses locally and hits Redis.
    const viaRedis = cache(conn, { max: 1 });
    const redisHit = await measure('Redis hit (local miss)', N, (i) => viaRedis.get(keyOf(i % VARIANTS)));

    let missKey = 0;
    const missing = cache(conn, { max: 1 });
    const miss = await measure('miss → source (instant loader) + write-back to both layers', N, () => {
      const k = missKey++;
      return missing.getOrSet(CacheKeys.replica('bench-miss', `m-${k}`), async () => sampleOf(k));
    });
    let missLocalKey = 0;
    const localOnly = cache(undefined, { max: 1 });
    const missNoRedis = await measure('miss → source, no Redis configured', 200_000, () => {
      const k = missLocalKey++;
      return localOnly.getOrSet(CacheKeys.replica('bench-miss', `l-${k}`), async () => sampleOf(k));
    });
    await conn.close();

    const mixes: MixResult[] = [];
    for (const replicas of [1, 3]) {
      mixes.push(await realisticMix(undefined, replicas));
      // Each shared run starts from an empty Redis.
      const flush = await connect();
      await flush.run((c) => c.flushall(), 2_000);
      await flush.close();
      mixes.push(await realisticMix(connect, replicas));
    }

    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      '## Cache (bench/cache.ts)',
      '',
      `Machine: ${cpus().length} cores (\`nproc\`) ${cpus()[0]?.model ?? ''}, Node ${process.version}, redis-server ${redisVersion} on 127.0.0.1 (no persistence), ${date}.`,
      'Command: `npm run bench:cache` (tsx bench/cache.ts). One process, sequential awaits: latencies include the event-loop round trip.',
      '',
      '### get latency per layer',
      '',
      '| path | ops | p50 | p99 | ops/s (sequential) |',
      '|---|---:|---:|---:|---:|',
      ...[localHit, redisHit, miss, missNoRedis].map((l) => `| ${l.name} | ${l.ops.toLocaleString('en-US')} | ${l.p50us.toFixed(1)} µs | ${l.p99us.toFixed(1)} µs | ${Math.round(l.opsPerSec).toLocaleString('en-US')} |`),
      '',
      '### hit rates under a realistic mix',
      '',
      `${VARIANTS.toLocaleString('en-US')} variants in ${NAMESPACES} namespaces, zipf access (s = 1.0), local TTL 5 s, Redis TTL 30 s (the metrics TTL), 60 s simulated at 500 lookups/s per replica,`,
      'one namespace (100 variants) invalidated every 10 s on every replica. Source loads = what would be Prometheus queries (per key).',
      '',
      '| replicas | Redis | lookups | local hit rate | Redis hit rate (of local misses) | overall hit rate | source loads |',
      '|---:|---|---:|---:|---:|---:|---:|',
      ...mixes.map((m) => `| ${m.replicas} | ${m.redis ? 'shared' : 'none'} | ${m.lookups.toLocaleString('en-US')} | ${pct(m.localHitRate)} | ${pct(m.redisHitRate)} | ${pct(m.overallHitRate)} | ${m.sourceLoads.toLocaleString('en-US')} |`),
      '',
    ];
    const section = lines.join('\n');
    writeResults(section);
    process.stdout.write(`${section}\n`);
  } finally {
    await server.stop();
  }
}

await main();
