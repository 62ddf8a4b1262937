/**
 * `npm run demo`: the embedded default. A simulated token-level vLLM fleet behind a gateway, the real
 * scaler on the scrape backend (no cluster), and KEDA + the HPA played over real gRPC. Llama's traffic
 * is a compressed stretch of the Azure LLM inference trace (bench/data, parsed by
 * src/sim/traffic/trace-csv.ts: its arrivals and token counts), then idle; Qwen gets a Poisson burst.
 * A live view prints per variant as it goes and a summary at the end (SLO attainment from the
 * requests' time to first token, GPU cost). Finishes by itself (130 s by default) and exits 0.
 *
 *   npm run demo -- --seconds 60        # shorter (phases scale with it)
 *   npm run demo -- --startup-delay 4s  # faster pod start-up
 */
import { readFileSync } from 'node:fs';
import { formatDuration, parseDuration } from '../config/duration.js';
import { defaultSettings } from '../config/settings.js';
import { createScaler } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { VllmFleet } from './fleet/index.js';
import { KedaEmulator, type EmulatedScaledObject } from './keda-emulator.js';
import { describeSummary, parseTraceCsv, requestsBetween, summarizeRequests } from './traffic/trace-csv.js';

interface DemoArgs {
  seconds: number;
  startupDelayMs: number;
  logLevel: string;
}

function parseArgs(argv: readonly string[]): DemoArgs {
  const args: DemoArgs = { seconds: 130, startupDelayMs: 6000, logLevel: 'warn' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2);
    const value = inline ?? argv[++i] ?? '';
    if (flag === '--seconds') {
      args.seconds = Number(value);
      if (!(args.seconds >= 20)) fail(`--seconds ${value}: expected a number of seconds >= 20`);
    } else if (flag === '--startup-delay') {
      const ms = parseDuration(value);
      if (ms === undefined) fail(`--startup-delay ${value}: expected a duration such as 6s`);
      args.startupDelayMs = ms;
    } else if (flag === '--log-level') {
      args.logLevel = value;
    } else fail(`unknown flag ${flag}: expected --seconds N, --startup-delay D, --log-level L`);
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

const NS = 'llm';
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const QWEN = 'Qwen/Qwen2.5-7B-Instruct';

/**
 * Load phases as fractions of the run: (name, share of time, llama req/s, qwen req/s); a llama rate
 * of -1 means "the trace". The last idle phase is long on purpose: the engine reads KV use and queue
 * as peaks over 1 minute, so scale-down and scale-to-zero start about a minute after the load goes
 * away, never sooner.
 */
const PHASES: readonly [string, number, number, number][] = [
  ['idle', 0.1, 1, 0],
  ['trace', 0.45, -1, 4],
  ['idle', 0.45, 1, 0],
];

/**
 * The stretch of the Azure trace replayed: minutes 20–38, its ramp to the busiest minute (502
 * requests) and back, compressed into the trace phase and thinned to a quarter of its rows so that
 * the demo's replicas can serve it (15x faster, a quarter of the rows: about 4x the recorded rate).
 */
const TRACE_FILE = new URL('../../bench/data/azure-llm-inference-2023-conv.csv', import.meta.url);
const TRACE_FROM_MIN = 20;
const TRACE_TO_MIN = 38;
const TRACE_RATE_SCALE = 0.25;
/** Time-to-first-token budgets of the summary's SLO attainment. */
const TTFT_BUDGETS_MS: readonly number[] = [2000, 10_000];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  /** Time to first token per model (ms), from the fleet's first-token events. */
  const ttfts = new Map<string, number[]>();
  const fleet = new VllmFleet({
    seed: 7,
    onRequestEvent: (e) => {
      if (e.kind !== 'first-token') return;
      const list = ttfts.get(e.modelID) ?? [];
      list.push(e.atMs - e.arrivedAtMs);
      ttfts.set(e.modelID, list);
    },
    histograms: true, // the inference-time histogram feeds the engine's service-time signal
    models: [
      {
        namespace: NS,
        modelID: LLAMA,
        arrivalRate: 0,
        variants: [
          {
            deployment: 'llama-8b-a100',
            replicas: 1,
            accelerator: 'A100',
            startupDelayMs: args.startupDelayMs,
          },
          {
            deployment: 'llama-8b-h100',
            replicas: 0,
            accelerator: 'H100',
            startupDelayMs: args.startupDelayMs,
          },
        ],
      },
      {
        namespace: NS,
        modelID: QWEN,
        arrivalRate: 0,
        variants: [
          {
            deployment: 'qwen-7b-l4',
            replicas: 0,
            accelerator: 'L4',
            startupDelayMs: Math.min(args.startupDelayMs, 3000),
          },
        ],
      },
    ],
  });
  await fleet.start();

  const traceMs = (PHASES[1]?.[1] ?? 0) * args.seconds * 1000;
  const stretchMs = (TRACE_TO_MIN - TRACE_FROM_MIN) * 60_000;
  const timeScale = traceMs / stretchMs;
  const trace = requestsBetween(
    parseTraceCsv(readFileSync(TRACE_FILE, 'utf8'), { timeScale, rateScale: TRACE_RATE_SCALE, source: 'azure trace' }),
    TRACE_FROM_MIN * 60_000 * timeScale,
    TRACE_TO_MIN * 60_000 * timeScale,
  );

  const settings = defaultSettings({
    WVA_GRPC_PORT: '0',
    WVA_HTTP_PORT: '0',
    WVA_BIND_ADDRESS: '127.0.0.1',
    WVA_KUBERNETES: 'off',
    WVA_SCRAPE_TARGETS: fleet.metricsUrl(),
    WVA_GATEWAY_SCRAPE_TARGET: fleet.gatewayUrl(),
    WVA_SCRAPE_NAMESPACE: NS,
    WVA_FETCH_INTERVAL: '1s',
    WVA_ENGINE_INTERVAL: '2s',
    WVA_DEMAND_PROBE_INTERVAL: '250ms',
    WVA_SCALE_TO_ZERO_RETENTION: '15s',
  });
  const logger = createLogger({ level: args.logLevel, format: 'json' });
  const scaler = await createScaler(settings, {
    logger,
    defaultMetrics: false,
    replicaStatus: { get: (v) => fleet.deploymentStatus(v.namespace, v.deployment) },
  });

  const so = (name: string, metadata: Record<string, string>, min: number, max: number): EmulatedScaledObject => ({
    namespace: NS,
    name,
    minReplicaCount: min,
    maxReplicaCount: max,
    push: true,
    metadata: { scalerAddress: `127.0.0.1:${scaler.grpcPort}`, ...metadata },
  });
  const scaledObjects = [
    so('llama-8b-a100', { modelID: LLAMA, accelerator: 'A100', variantCost: '6', maxReplicas: '4' }, 0, 4),
    so('llama-8b-h100', { modelID: LLAMA, accelerator: 'H100', variantCost: '10', maxReplicas: '6' }, 0, 6),
    so(
      'qwen-7b-l4',
      {
        modelID: QWEN,
        accelerator: 'L4',
        variantCost: '3',
        maxReplicas: '3',
        scaleToZero: 'true',
        scaleToZeroRetention: '15s',
      },
      0,
      3,
    ),
  ];
  const keda = new KedaEmulator({
    address: `127.0.0.1:${scaler.grpcPort}`,
    scaledObjects,
    apply: (o, n) => fleet.setReplicas(o.namespace, o.name, n),
    current: (o) => fleet.deploymentStatus(o.namespace, o.name)?.current ?? 0,
    pollingIntervalMs: 1000,
    cooldownPeriodMs: 10_000,
    scaleDownStabilizationMs: 10_000,
  });
  await keda.start();

  const start = Date.now();
  const totalMs = args.seconds * 1000;
  const replicaMs = new Map<string, number>();
  const peak = new Map<string, number>();
  let lastTick = start;
  console.log(
    `wva-scaler demo: ${args.seconds}s, pod start-up ${formatDuration(args.startupDelayMs)}, gRPC 127.0.0.1:${scaler.grpcPort}, HTTP http://127.0.0.1:${scaler.httpPort}/debug/decisions`,
  );
  console.log(
    'phases: ' +
      PHASES.map(
        ([n, share, l, q]) =>
          `${n} ${Math.round(share * args.seconds)}s ` +
          `(llama ${l < 0 ? `trace minutes ${TRACE_FROM_MIN}-${TRACE_TO_MIN}` : `${l}/s`}, qwen ${q}/s)`,
      ).join(' -> '),
  );

  /** Arrivals per model at the previous view, for the load it shows (the trace has no set rate). */
  const seen = new Map<string, { t: number; arrivals: number }>();
  let phaseIndex = -1;
  let elapsedShare = 0;
  const phaseEnds = PHASES.map(([, share]) => (elapsedShare += share) * totalMs);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      const t = now - start;
      for (const o of scaledObjects) {
        const cur = fleet.deploymentStatus(o.namespace, o.name)?.current ?? 0;
        replicaMs.set(o.name, (replicaMs.get(o.name) ?? 0) + cur * (now - lastTick));
        peak.set(o.name, Math.max(peak.get(o.name) ?? 0, cur));
      }
      lastTick = now;
      const idx = phaseEnds.findIndex((end) => t < end);
      if (idx === -1) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (idx !== phaseIndex) {
        phaseIndex = idx;
        const [name, , llama, qwen] = PHASES[idx] ?? ['?', 0, 0, 0];
        fleet.setArrivalRate(NS, LLAMA, Math.max(0, llama));
        fleet.setArrivalRate(NS, QWEN, qwen);
        if (llama < 0) {
          // The stretch, shifted to start now on the fleet's clock.
          const first = trace[0]?.atMs ?? 0;
          const at = fleet.nowMs;
          fleet.enqueueRequests(
            NS,
            LLAMA,
            trace.map((r) => ({ ...r, atMs: at + r.atMs - first })),
          );
        }
        const load = llama < 0 ? `Azure trace, ${describeSummary(summarizeRequests(trace))}` : `${llama} req/s`;
        console.log(`\n== ${formatDuration(Math.round(t / 1000) * 1000)}: ${name} (llama ${load}, qwen ${qwen} req/s)`);
      }
      if (Math.round(t / 1000) % 3 === 0) printView(t);
    }, 1000);
  });

  function printView(t: number): void {
    const snap = fleet.snapshot();
    const lines: string[] = [];
    const load = new Map<string, number>();
    for (const m of snap.models) {
      const before = seen.get(m.modelID);
      load.set(
        m.modelID,
        before && t > before.t ? ((m.arrivals - before.arrivals) * 1000) / (t - before.t) : m.arrivalRate,
      );
      seen.set(m.modelID, { t, arrivals: m.arrivals });
    }
    for (const o of scaledObjects) {
      const model = snap.models.find((m) => m.modelID === o.metadata['modelID']);
      const pods = model?.pods.filter((p) => p.deployment === o.name) ?? [];
      const ready = pods.filter((p) => p.ready);
      const kv = ready.length ? ready.reduce((a, p) => a + p.kvUsage, 0) / ready.length : 0;
      const queue = ready.reduce((a, p) => a + p.waiting, 0);
      const d = scaler.decisions.get(`${NS}/${o.name}`);
      const status = fleet.deploymentStatus(NS, o.name);
      const rps = load.get(model?.modelID ?? '') ?? 0;
      lines.push(
        `  ${o.name.padEnd(14)} load ${rps.toFixed(0).padStart(3)}/s  kv ${(kv * 100).toFixed(0).padStart(3)}%  ` +
          `queue ${String(queue).padStart(3)}  gw ${String(model?.gatewayQueue ?? 0).padStart(3)}  ` +
          `replicas ${status?.ready ?? 0}/${status?.current ?? 0} -> ${d?.desiredReplicas ?? '?'}  ` +
          `${(d?.reasons.at(-1) ?? 'no decision yet').slice(0, 90)}`,
      );
    }
    console.log(`t=${String(Math.round(t / 1000)).padStart(3)}s\n${lines.join('\n')}`);
  }

  keda.stop();
  const snap = fleet.snapshot();
  console.log('\n== summary');
  let gpuCost = 0;
  for (const o of scaledObjects) {
    const minutes = (replicaMs.get(o.name) ?? 0) / 60_000;
    const cost = minutes * Number(o.metadata['variantCost'] ?? 0);
    gpuCost += cost;
    console.log(
      `  ${o.name.padEnd(14)} replica-minutes ${minutes.toFixed(2).padStart(6)}  peak ${peak.get(o.name) ?? 0}  ` +
        `cost weight ${o.metadata['variantCost']}  GPU cost ${cost.toFixed(1)}`,
    );
  }
  console.log(`  GPU cost (replica-minutes x variant cost, pending pods included): ${gpuCost.toFixed(1)}`);
  for (const m of snap.models) {
    const list = ttfts.get(m.modelID) ?? [];
    const sorted = [...list].sort((a, b) => a - b);
    const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)];
    const slo = TTFT_BUDGETS_MS.map(
      (b) =>
        `TTFT <= ${b / 1000}s ${list.length ? ((list.filter((x) => x <= b).length / list.length) * 100).toFixed(1) : '-'}%`,
    ).join(', ');
    console.log(
      `  ${m.modelID.padEnd(34)} SLO attainment: ${slo} of ${list.length} first tokens; ` +
        `p95 TTFT ${p95 === undefined ? '-' : `${(p95 / 1000).toFixed(2)}s`}`,
    );
  }
  for (const m of snap.models) {
    console.log(
      `  ${m.modelID.padEnd(34)} arrivals ${m.arrivals}  completed ${m.completed}  ` +
        `p95 wait ${m.waitP95Ms === undefined ? '-' : `${(m.waitP95Ms / 1000).toFixed(2)}s`}  ` +
        `max wait ${(m.waitMaxMs / 1000).toFixed(1)}s  peak queue ${m.maxQueue}`,
    );
  }
  await scaler.stop();
  await fleet.stop();
  console.log('demo finished');
  process.exit(0);
}

void main();
