/**
 * Scale-from-zero latency through the real path: simulated gateway -> demand probe (scrape of the
 * gateway's /metrics) -> DecisionCache + DecisionTrigger -> StreamIsActive push over gRPC.
 * For each trial a model at zero gets one request queued at the emulated gateway; we time from
 * the enqueue to the `true` received by a KEDA-like client holding the stream open.
 * Baseline in the same run: KEDA's polling path (IsActive every pollingInterval, default 30 s),
 * computed as the expected wait for the next poll plus the same detection time.
 * Usage: npm run bench:activation [-- --trials 30]
 */
import * as grpc from '@grpc/grpc-js';
import { defaultSettings } from '../src/config/settings.js';
import { loadExternalScalerProto, type IsActiveResponse__Output as IsActiveResponse } from '../src/grpc/proto.js';
import { createScaler } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { VllmFleet } from '../src/sim/fleet/index.js';
import { machineLine, percentile, writeResultsSection } from './lib/results.js';

const argv = process.argv.slice(2);
const TRIALS = Number(argv[argv.indexOf('--trials') + 1] ?? 30) || 30;
const PROBE_INTERVAL = '250ms';
const NS = 'bench';

const fleet = new VllmFleet({
  seed: 3,
  histograms: false,
  models: Array.from({ length: TRIALS }, (_, i) => ({
    namespace: NS,
    modelID: `model-${i}`,
    arrivalRate: 0,
    variants: [{ deployment: `model-${i}-l4`, replicas: 0, startupDelayMs: 60_000 }],
  })),
});
await fleet.start();
const scaler = await createScaler(
  defaultSettings({
    WVA_GRPC_PORT: '0',
    WVA_HTTP_PORT: '0',
    WVA_BIND_ADDRESS: '127.0.0.1',
    WVA_KUBERNETES: 'off',
    WVA_SCRAPE_TARGETS: fleet.metricsUrl(),
    WVA_GATEWAY_SCRAPE_TARGET: fleet.gatewayUrl(),
    WVA_SCRAPE_NAMESPACE: NS,
    WVA_DEMAND_PROBE_INTERVAL: PROBE_INTERVAL,
    WVA_SCALE_TO_ZERO: 'true',
    WVA_SCALE_TO_ZERO_RETENTION: '5s',
    WVA_ENGINE_INTERVAL: '15s',
    WVA_FETCH_INTERVAL: '5s',
  }),
  {
    logger: silentLogger(),
    defaultMetrics: false,
    replicaStatus: { get: (v) => fleet.deploymentStatus(v.namespace, v.deployment) },
  },
);
const { Client } = loadExternalScalerProto();
const client = new Client(`127.0.0.1:${scaler.grpcPort}`, grpc.credentials.createInsecure());
type Unary = (req: unknown, cb: (e: grpc.ServiceError | null) => void) => void;
const getMetricSpec = (client as unknown as { GetMetricSpec: Unary }).GetMetricSpec.bind(client);
const openStream = (
  client as unknown as { StreamIsActive: (r: unknown) => grpc.ClientReadableStream<IsActiveResponse> }
).StreamIsActive.bind(client);

const refs = Array.from({ length: TRIALS }, (_, i) => ({
  name: `model-${i}-l4`,
  namespace: NS,
  scalerMetadata: { scalerAddress: 'bench', modelID: `model-${i}`, scaleToZero: 'true' },
}));
for (const ref of refs)
  await new Promise<void>((resolve, reject) => getMetricSpec(ref, (e) => (e ? reject(e) : resolve())));

const latencies: number[] = [];
const unexpected: string[] = [];
for (let i = 0; i < TRIALS; i++) {
  const ref = refs[i]!;
  const stream = openStream(ref);
  const pushes: number[] = [];
  stream.on('data', (m: IsActiveResponse) => m.result && pushes.push(performance.now()));
  stream.on('error', () => undefined);
  // Let the stream settle (a stream opened while active would be pushed at once: that is not a wake).
  await new Promise((r) => setTimeout(r, 300));
  if (pushes.length > 0) unexpected.push(`${ref.name}: pushed before any demand`);
  // Random phase against the probe's timer, as real arrivals have.
  await new Promise((r) => setTimeout(r, Math.random() * 250));
  const t0 = performance.now();
  fleet.enqueueAtGateway(NS, `model-${i}`, 1);
  const deadline = t0 + 5000;
  while (pushes.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  if (pushes[0] === undefined) unexpected.push(`${ref.name}: no push within 5 s`);
  else latencies.push(pushes[0] - t0);
  stream.cancel();
}
client.close();
await scaler.stop();
await fleet.stop();

latencies.sort((a, b) => a - b);
const p50 = percentile(latencies, 0.5);
const p95 = percentile(latencies, 0.95);
const max = latencies[latencies.length - 1] ?? Number.NaN;
// KEDA `external` polling at the default 30 s: expected wait 15 s for the next IsActive.
const pollingP50 = 15_000 + p50;
console.log({ trials: TRIALS, pushed: latencies.length, p50, p95, max, unexpected });
writeResultsSection(
  'Scale-from-zero activation (bench/activation.ts)',
  `
Machine: ${machineLine()}. Date: ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run bench:activation\` (${TRIALS} trials, each a distinct model at zero with a StreamIsActive stream open; demand probe every ${PROBE_INTERVAL}; random arrival phase against the probe timer).
Measured: one request queued at the emulated gateway -> \`true\` received by the gRPC client holding StreamIsActive (grpc-js client, real server, real HTTP scrape of the gateway).
Target: p95 under 1 s.

| path | p50 | p95 | max | pushed / trials |
|---|---|---|---|---|
| gateway queue -> probe -> StreamIsActive push | ${p50.toFixed(0)} ms | ${p95.toFixed(0)} ms | ${max.toFixed(0)} ms | ${latencies.length} / ${TRIALS} |
| baseline: KEDA \`external\` polling IsActive every 30 s (expected, same detection) | ${(pollingP50 / 1000).toFixed(1)} s | ${((28_500 + p95) / 1000).toFixed(1)} s | ${((30_000 + max) / 1000).toFixed(1)} s | — |

Target met: ${p95 < 1000 && latencies.length === TRIALS ? 'yes' : 'no'}.${unexpected.length ? ` Unexpected: ${unexpected.join('; ')}.` : ''}
`,
);
process.exit(latencies.length === TRIALS ? 0 : 1);
