/**
 * Multi-layer cache benchmark (`npm run bench:cache`). Starts its own redis-server on a free
 * loopback port, then measures what the shared decisions do with the cache (p50/p99, sequential
 * ops/s): a get per layer (local hit, Redis hit after a local miss, a miss in both layers), a set
 * through both layers and into the local layer only, and the warm-up scan of a restarted replica
 * (scanRedis over 1,000 decisions).
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
  return typeof r.model === 'string' && typeof r.kv === 'number' && typeof r.queue === 'number'
    ? { model: r.model, kv: r.kv, queue: r.queue }
    : undefined;
};

const NAMESPACES = 10;
const VARIANTS = 1_000;
const keyOf = (i: number): string => CacheKeys.decision(`ns-${i % NAMESPACES}/variant-${i}`);
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

function cache(redis: RedisConnection | undefined, opts: { max?: number } = {}): MultiLayerCache<Sample> {
  return new MultiLayerCache<Sample>({
    name: 'bench',
    redis,
    localTtlMs: 5_000,
    redisTtlMs: 600_000,
    parse: parseSample,
    logger: silentLogger(),
    ...(opts.max ? { maxLocalEntries: opts.max } : {}),
  });
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

    const missing = await measure('miss in both layers', N, (i) =>
      viaRedis.get(CacheKeys.decision(`bench-miss/v-${i}`)),
    );
    const setBoth = await measure('set through both layers', N, (i) => local.set(keyOf(i % VARIANTS), sampleOf(i)));
    const setLocal = await measure('setLocal (a decision that arrived over pub/sub)', 200_000, async (i) =>
      local.setLocal(keyOf(i % VARIANTS), sampleOf(i)),
    );
    // A restarted replica warms itself with every decision in Redis before it serves.
    const warmUp = await measure(
      `scanRedis of ${VARIANTS.toLocaleString('en-US')} decisions (restart warm-up)`,
      200,
      () => local.scanRedis(CacheKeys.prefix('decision')),
    );
    await conn.close();

    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      '## Cache (bench/cache.ts)',
      '',
      `Machine: ${cpus().length} cores (\`nproc\`) ${cpus()[0]?.model ?? ''}, Node ${process.version}, redis-server ${redisVersion} on 127.0.0.1 (no persistence), ${date}.`,
      'Command: `npm run bench:cache` (tsx bench/cache.ts). One process, sequential awaits: latencies include the event-loop round trip.',
      '',
      '### latency per operation (decisions of 1,000 variants)',
      '',
      '| path | ops | p50 | p99 | ops/s (sequential) |',
      '|---|---:|---:|---:|---:|',
      ...[localHit, redisHit, missing, setBoth, setLocal, warmUp].map(
        (l) =>
          `| ${l.name} | ${l.ops.toLocaleString('en-US')} | ${l.p50us.toFixed(1)} µs | ${l.p99us.toFixed(1)} µs | ${Math.round(l.opsPerSec).toLocaleString('en-US')} |`,
      ),
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
