/**
 * bench/engine.ts (`npm run bench:engine`): wall time and heap of one engine cycle for 1,000
 * variants (200 models x 5) with 10,000 pods of synthetic metrics, from an in-memory collector.
 * Two cases: "steady" (same metrics every cycle, decisions do not change) and "all changing"
 * (metrics alternate every cycle so every variant's decision changes: trigger events, counters and
 * logs on every variant - the worst case). Target: under 20 ms per cycle.
 *
 * Options: --cycles N (default 50), --warmup N (default 10), --json, --features off (the engine
 * without its switchable behaviours, NO_ENGINE_FEATURES: what those cost per cycle).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cpus } from 'node:os';
import type { ModelMetrics, ReplicaMetrics } from '../src/domain/metrics.js';
import { modelKey, variantKey, type Variant } from '../src/domain/variant.js';
import { DecisionCache } from '../src/cache/decision-cache.js';
import { DecisionTrigger } from '../src/cache/decision-trigger.js';
import { GlobalConfig } from '../src/cache/global-config.js';
import { VariantRegistry } from '../src/cache/variant-registry.js';
import type { MetricsCollector } from '../src/collector/collector.js';
import { ScalerMetrics } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/logger.js';
import { Engine } from '../src/engine/engine.js';
import { DEFAULT_ENGINE_FEATURES, NO_ENGINE_FEATURES, type EngineFeatures } from '../src/domain/engine-features.js';
import { Prng } from '../src/sim/fleet/prng.js';

const MODELS = 200;
const VARIANTS_PER_MODEL = 5;
const PODS_PER_VARIANT = 10;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`--${name} expects a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

function featuresArg(): EngineFeatures {
  const i = process.argv.indexOf('--features');
  if (i < 0) return DEFAULT_ENGINE_FEATURES;
  const v = process.argv[i + 1];
  if (v === 'off') return NO_ENGINE_FEATURES;
  if (v === 'on') return DEFAULT_ENGINE_FEATURES;
  throw new Error(`--features expects on or off, got ${v}`);
}

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') (gc as () => void)();
}

/** Deterministic pseudo-random numbers (the fleet's mulberry32) so every run sees the same fleet. */
function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

class MemoryCollector implements MetricsCollector {
  readonly backend = 'memory';
  byModel = new Map<string, ModelMetrics>();
  async fetch(): Promise<void> {}
  getModelMetrics(namespace: string, modelID: string): ModelMetrics | undefined {
    return this.byModel.get(modelKey(namespace, modelID));
  }
  async close(): Promise<void> {}
}

function buildFleet(): { variants: Variant[]; phases: Map<string, ModelMetrics>[] } {
  const variants: Variant[] = [];
  const phases = [new Map<string, ModelMetrics>(), new Map<string, ModelMetrics>()];
  const random = rng(42);
  for (let m = 0; m < MODELS; m++) {
    const namespace = `ns-${m % 10}`;
    const modelID = `org/model-${m}`;
    const own: Variant[] = [];
    for (let k = 0; k < VARIANTS_PER_MODEL; k++) {
      const name = `model-${m}-v${k}`;
      own.push({
        key: variantKey(namespace, name),
        namespace,
        name,
        modelID,
        accelerator: ['H100', 'A100', 'L40S', 'L4', 'T4'][k],
        cost: 5 + ((k * 7) % 5) * 5,
        deployment: name,
        minReplicas: 1,
        maxReplicas: 40,
        saturation: {},
        scaleToZero: undefined,
        scaleToZeroRetentionMs: undefined,
        source: 'static',
        deleting: false,
      });
    }
    variants.push(...own);
    // Phase 0 and 1 differ in load so that decisions flip between scale-up and scale-down.
    for (const phase of [0, 1]) {
      const replicas: ReplicaMetrics[] = [];
      const hot = (m + phase) % 2 === 0;
      for (const v of own) {
        for (let p = 0; p < PODS_PER_VARIANT; p++) {
          replicas.push({
            namespace,
            modelID,
            pod: `${v.name}-${p}`,
            variantKey: v.key,
            kvCacheUsage: hot ? 0.7 + random() * 0.25 : random() * 0.2,
            queueLength: hot ? Math.floor(random() * 8) : 0,
            running: 1 + Math.floor(random() * 20),
            requestRate: 0.1 + random() * 5,
            serviceSeconds: 1 + random() * 3,
            // What the collector fetches by default (token capacity on): the service model learns from them.
            promptTokensPerRequest: 500 + random() * 1500,
            outputTokensPerRequest: 100 + random() * 400,
            itlMeanMs: 10 + random() * 20,
            ttftMeanMs: 80 + random() * 200,
            queueTimeMeanMs: random() * 20,
          });
        }
      }
      phases[phase]?.set(modelKey(namespace, modelID), {
        namespace,
        modelID,
        replicas,
        requestsOverRetention: 100,
        gatewayQueue: 0,
        collectedAt: 0,
        seenModelNames: [modelID],
      });
    }
  }
  return { variants, phases };
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

interface CaseResult {
  readonly name: string;
  readonly cycles: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  /** Process CPU time (user + system, all threads) per cycle: less swayed by other work on a shared machine. */
  readonly cpuMedianMs: number;
  readonly maxMs: number;
  readonly changedPerCycle: number;
  readonly eventsDelivered: number;
  readonly heapUsedMB: number;
}

async function runCase(
  name: string,
  alternate: boolean,
  warmup: number,
  cycles: number,
  features: EngineFeatures,
): Promise<CaseResult> {
  const { variants, phases } = buildFleet();
  const registry = new VariantRegistry();
  for (const v of variants) registry.upsert(v);
  const collector = new MemoryCollector();
  const trigger = new DecisionTrigger();
  let delivered = 0;
  trigger.subscribeAll(() => delivered++);
  let now = 1_700_000_000_000;
  const engine = new Engine({
    registry,
    decisions: new DecisionCache(),
    trigger,
    collector,
    metrics: new ScalerMetrics(),
    logger: silentLogger(),
    config: new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
      features,
    }),
    clock: () => now,
  });
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let changed = 0;
  for (let i = 0; i < warmup + cycles; i++) {
    const phase = phases[alternate ? i % 2 : 0] as Map<string, ModelMetrics>;
    now += 15_000;
    // Fresh metrics each cycle (collectedAt moves with the clock), as a background fetch would leave them.
    collector.byModel = new Map([...phase].map(([k, m]) => [k, { ...m, collectedAt: now - 2_000 }]));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const report = await engine.runOnce(now);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (report.decisions !== MODELS * VARIANTS_PER_MODEL)
      throw new Error(`expected ${MODELS * VARIANTS_PER_MODEL} decisions, got ${report.decisions}`);
    if (i >= warmup) {
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      changed += report.changed;
    }
    await new Promise((r) => setImmediate(r)); // let the trigger deliver, outside the timing
  }
  gcNow();
  const heapUsedMB = process.memoryUsage().heapUsed / 2 ** 20;
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  return {
    name,
    cycles,
    medianMs: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    cpuMedianMs: quantile(cpuTimes, 0.5),
    maxMs: times[times.length - 1] ?? NaN,
    changedPerCycle: changed / cycles,
    eventsDelivered: delivered,
    heapUsedMB,
  };
}

async function main(): Promise<void> {
  const cycles = arg('cycles', 50);
  const warmup = arg('warmup', 10);
  gcNow();
  const baseHeapMB = process.memoryUsage().heapUsed / 2 ** 20;
  const features = featuresArg();
  const results = [
    await runCase('steady', false, warmup, cycles, features),
    await runCase('all changing', true, warmup, cycles, features),
  ];
  const pass = results.every((r) => r.p99Ms < 20);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ baseHeapMB, features, results, pass }, null, 2));
  } else {
    console.log(
      `engine cycle: ${MODELS} models x ${VARIANTS_PER_MODEL} variants, ${MODELS * VARIANTS_PER_MODEL * PODS_PER_VARIANT} pods; ${warmup} warm-up + ${cycles} measured cycles; features ${features === NO_ENGINE_FEATURES ? 'off' : 'on'}`,
    );
    console.log(
      `node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}); heap before fleet ${baseHeapMB.toFixed(1)} MB`,
    );
    console.log('| case | median | p99 | max | CPU median | decisions changed / cycle | heap used after (post-GC) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.medianMs.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.maxMs.toFixed(2)} ms | ${r.cpuMedianMs.toFixed(2)} ms | ${r.changedPerCycle.toFixed(0)} | ${r.heapUsedMB.toFixed(1)} MB |`,
      );
    }
    console.log(pass ? 'target met: p99 < 20 ms' : 'TARGET MISSED: p99 >= 20 ms');
  }
  process.exitCode = pass ? 0 : 1;
}

await main();
