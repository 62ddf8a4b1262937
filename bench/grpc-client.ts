/**
 * The load generator of bench/grpc.ts, run in its own process so the server's CPU is not shared
 * with the client's JS thread. Closed loop: `concurrency` GetMetrics calls in flight on one
 * channel, each picking a variant in turn. Prints one JSON line: calls/s and latency percentiles.
 * Usage: grpc-client.ts ADDRESS CONCURRENCY WARMUP_MS MEASURE_MS VARIANTS
 */
import * as grpc from '@grpc/grpc-js';
import { loadExternalScalerProto } from '../src/grpc/proto.js';
import { percentile } from './lib/results.js';

const [address = '', concurrencyArg = '1', warmupArg = '1000', measureArg = '3000', variantsArg = '1000'] =
  process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const variants = Number(variantsArg);
const { Client } = loadExternalScalerProto();
const client = new Client(address, grpc.credentials.createInsecure());
type GetMetrics = (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void;
const getMetrics = (client as unknown as { GetMetrics: GetMetrics }).GetMetrics.bind(client);

const requests = Array.from({ length: variants }, (_, i) => ({
  scaledObjectRef: {
    name: `variant-${i}`,
    namespace: `ns-${i % 10}`,
    scalerMetadata: { scalerAddress: address, modelID: `model-${Math.floor(i / 5)}` },
  },
  metricName: 'wva-desired-replicas',
}));

let next = 0;
let measuring = false;
let stopping = false;
let errors = 0;
let completed = 0;
const latencies: number[] = [];

function one(): void {
  if (stopping) return;
  const req = requests[next++ % variants];
  const t0 = process.hrtime.bigint();
  getMetrics(req, (err) => {
    if (measuring) {
      if (err) errors++;
      else {
        completed++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    one();
  });
}

await new Promise<void>((resolve, reject) =>
  client.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())),
);
for (let i = 0; i < concurrency; i++) one();
await new Promise((r) => setTimeout(r, Number(warmupArg)));
measuring = true;
const start = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, Number(measureArg)));
measuring = false;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
stopping = true;
latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({ concurrency, callsPerSec: completed / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), errors, completed })}\n`,
);
await new Promise((r) => setTimeout(r, 100));
client.close();
process.exit(0);
