/**
 * bench/fleet.ts (`npm run bench:fleet`): how fast the token-level fleet emulator replays a real
 * trace. Replays a `TIMESTAMP,ContextTokens,GeneratedTokens` CSV (default: the one-hour Azure LLM
 * inference trace 2023, conversation service) on N H100 replicas of Llama-3.1-8B and prints the
 * wall time, the requests served and their time to first token.
 *
 * Options: --trace FILE, --replicas N (default 8), --accelerator H100|A100|L4.
 */
import { readFileSync } from 'node:fs';
import { VllmFleet, type Accelerator, type TokenRequest } from '../src/sim/fleet/index.js';

const argv = process.argv.slice(2);
const valueOf = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const tracePath = valueOf('trace', '../shared/traces/azure-llm-inference-2023-conv.csv');
const replicas = Number(valueOf('replicas', '8'));
const accelerator = valueOf('accelerator', 'H100') as Accelerator;

/** Rows of the trace as requests on a clock starting at the first arrival. */
function readTrace(path: string): TokenRequest[] {
  const lines = readFileSync(path, 'utf8').split('\n').slice(1);
  const out: TokenRequest[] = [];
  let t0 = Number.NaN;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const [stamp, prompt, output] = line.split(',');
    // "2023-11-16 18:15:46.6805900": seven fractional digits; Date keeps milliseconds.
    const ms = Date.parse(`${(stamp ?? '').replace(' ', 'T').slice(0, 23)}Z`);
    if (Number.isNaN(t0)) t0 = ms;
    out.push({ atMs: ms - t0, promptTokens: Math.max(1, Number(prompt)), outputTokens: Math.max(1, Number(output)) });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

const requests = readTrace(tracePath);
const ttfts: number[] = [];
const fleet = new VllmFleet({
  realtime: false,
  seed: 1,
  models: [
    {
      namespace: 'bench',
      modelID: 'meta-llama/Llama-3.1-8B-Instruct',
      arrivalRate: 0,
      variants: [{ deployment: 'llama-8b', replicas, accelerator }],
    },
  ],
  onRequestEvent: (e) => {
    if (e.kind === 'first-token') ttfts.push(e.atMs - e.arrivedAtMs);
  },
});
const started = performance.now();
fleet.enqueueRequests('bench', 'meta-llama/Llama-3.1-8B-Instruct', requests);
const endMs = (requests.at(-1)?.atMs ?? 0) + 120_000;
fleet.step(endMs);
const wallS = (performance.now() - started) / 1000;
const m = fleet.snapshot().models[0];
ttfts.sort((a, b) => a - b);
const q = (p: number) => ttfts[Math.min(ttfts.length - 1, Math.floor(p * ttfts.length))] ?? Number.NaN;
const preemptions = m?.pods.reduce((s, p) => s + p.preemptions, 0) ?? 0;
console.log(
  `${requests.length} requests over ${(endMs / 60_000).toFixed(1)} sim min on ${replicas} ${accelerator}: ` +
    `${wallS.toFixed(2)} s wall; completed ${m?.completed ?? 0}, preemptions ${preemptions}; ` +
    `TTFT p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms`,
);
