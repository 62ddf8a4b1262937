/**
 * GetMetrics p99 alone and under a 200-client /metrics storm, same run, against the real scaler
 * (createScaler: real gRPC and HTTP servers) with 2,000 variants' decisions and gauges. The gRPC
 * client (bench/grpc-client.ts) and the storm (bench/lib/metrics-storm-client.ts) run in their own
 * processes. Rounds alternate alone / storm. Writes its section of bench/RESULTS.md.
 * Usage: npm run bench:http-storm [-- --measure-ms 3000 --rounds 3]
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultSettings } from '../src/config/settings.js';
import { parseTriggerMetadata } from '../src/config/trigger-metadata.js';
import { createScaler } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { machineLine, writeResultsSection } from './lib/results.js';
import { benchDecision } from './lib/bench-decisions.js';

const run = promisify(execFile);
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const MEASURE_MS = Number(args.get('measure-ms') ?? 3000);
const WARMUP_MS = 500;
const ROUNDS = Number(args.get('rounds') ?? 3);
const VARIANTS = 2000;
const STORM_CLIENTS = 200;
const CONCURRENCY = 8;
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

const scaler = await createScaler(
  defaultSettings({
    WVA_BIND_ADDRESS: '127.0.0.1',
    WVA_GRPC_PORT: '0',
    WVA_HTTP_PORT: '0',
    WVA_KUBERNETES: 'off',
    WVA_SCRAPE_TARGETS: 'http://127.0.0.1:9/metrics',
    WVA_ENGINE_INTERVAL: '1h',
    WVA_FETCH_INTERVAL: '1h',
    LOG_LEVEL: 'silent',
  }),
  { logger: silentLogger(), defaultMetrics: true },
);
for (let i = 0; i < VARIANTS; i++) {
  const v = {
    ...parseTriggerMetadata(`ns-${i % 10}`, `variant-${i}`, { modelID: `model-${Math.floor(i / 5)}` }),
    source: 'static' as const,
  };
  scaler.registry.upsert(v);
  scaler.decisions.set(benchDecision(v, i));
  const labels = { namespace: v.namespace, variant_name: v.name, model_id: v.modelID, accelerator_type: 'H100' };
  scaler.metrics.desiredReplicas.labels(labels).set(1 + (i % 7));
  scaler.metrics.currentReplicas.labels(labels).set(1);
  scaler.metrics.desiredRatio.labels(labels).set(1);
}
const page = await (await fetch(`http://127.0.0.1:${scaler.httpPort}/metrics`)).text();

interface Sample {
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  completed: number;
}
async function measure(): Promise<Sample> {
  const client = fileURLToPath(new URL('./grpc-client.ts', import.meta.url));
  const { stdout } = await run(tsx, [
    client,
    `127.0.0.1:${scaler.grpcPort}`,
    String(CONCURRENCY),
    String(WARMUP_MS),
    String(MEASURE_MS),
    String(VARIANTS),
  ]);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Sample;
}
async function underStorm(): Promise<{ sample: Sample; storm: { byStatus: Record<string, number>; bytes: number } }> {
  const stormMs = WARMUP_MS + MEASURE_MS + 1500;
  const proc = spawn(
    tsx,
    [
      fileURLToPath(new URL('./lib/metrics-storm-client.ts', import.meta.url)),
      `http://127.0.0.1:${scaler.httpPort}/metrics`,
      String(STORM_CLIENTS),
      String(stormMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 1000)); // the storm process starts and its clients connect
  const sample = await measure();
  await done;
  return {
    sample,
    storm: JSON.parse(out.trim().split('\n').pop() ?? '{}') as { byStatus: Record<string, number>; bytes: number },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
const alone: Sample[] = [];
const storm: Sample[] = [];
const storms: { byStatus: Record<string, number>; bytes: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) alone.push(await measure());
  const s = await underStorm();
  storm.push(s.sample);
  storms.push(s.storm);
  if (r % 2 === 1) alone.push(await measure());
  console.log(
    `round ${r + 1}: alone p99 ${alone.at(-1)?.p99Ms.toFixed(3)} ms, storm p99 ${s.sample.p99Ms.toFixed(3)} ms, storm ${JSON.stringify(s.storm.byStatus)}`,
  );
}
const row = (name: string, xs: Sample[]) =>
  `| ${name} | ${median(xs.map((s) => s.callsPerSec)).toFixed(0)} | ${median(xs.map((s) => s.p50Ms)).toFixed(3)} | ${median(xs.map((s) => s.p99Ms)).toFixed(3)} | ${Math.max(...xs.map((s) => s.p99Ms)).toFixed(3)} | ${xs.reduce((a, s) => a + s.errors, 0)} |`;
const scrapes = (k: string) => storms.reduce((a, s) => a + (s.byStatus[k] ?? 0), 0);
const ratio = median(storm.map((s) => s.p99Ms)) / median(alone.map((s) => s.p99Ms));
writeResultsSection(
  'GetMetrics under a /metrics storm (bench/http-storm.ts)',
  `
Machine: ${machineLine()}. Date: ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run bench:http-storm\` (${ROUNDS} rounds, alone and under the storm alternating; ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms measured each; median of rounds).
Scaler: \`createScaler\` (real gRPC and HTTP servers), ${VARIANTS} variants with decisions and gauges (a /metrics page of ${(page.length / 1024).toFixed(0)} KiB). GetMetrics from ${CONCURRENCY} concurrent calls in one client process; the storm: ${STORM_CLIENTS} concurrent clients GETting /metrics in a loop from another process.

| GetMetrics | calls/s | p50 ms | p99 ms (median of rounds) | worst round p99 ms | errors |
|---|---|---|---|---|---|
${row('alone', alone)}
${row(`under ${STORM_CLIENTS}-client /metrics storm`, storm)}

p99 under the storm / alone: **${ratio.toFixed(2)}×**. Storm responses: ${scrapes('200')} × 200, ${scrapes('503')} × 503 (more than 8 scrapes in flight), ${scrapes('error')} errors; ${(storms.reduce((a, s) => a + s.bytes, 0) / 1024 / 1024).toFixed(0)} MiB served. Before issue 19 every scrape rendered the page anew and 200 of them held GetMetrics up for up to 1.5 s; now one rendering a second is shared and at most 8 scrapes are in flight.
`,
);
await scaler.stop();
console.log('written to bench/RESULTS.md');
process.exit(0);
