/**
 * What the engine remembers of a model between cycles, as a value: the pure decision takes the
 * previous one and returns the next (model-decision.ts), the Engine shell keeps it per model. Its
 * parts: the trend of the model's arrivals (arrival-trend.ts) with its recent levels (the peak
 * guard's reference), each variant's pod start-up track (startup-learning.ts) and each variant's
 * learned per-replica completion rate (throughput-learning.ts), and, for a model in SLO mode, each
 * variant's learned service model (slo/service-model.ts), learned only while the model is in SLO
 * mode (saturation-mode models pay nothing for it), and the replicas' KV use now with its movement
 * since the previous cycle (kv-ahead.ts).
 */
import type { ReplicaMetrics } from '../domain/metrics.js';
import { MAX_TREND_GAP_S, MIN_TREND_GAP_S, updateTrend, type ArrivalTrend } from './arrival-trend.js';
import type { ModelAnalysis, VariantState } from './saturation-analyzer.js';
import { updateStartup, type StartupTrack } from './startup-learning.js';
import { RATE_WINDOW_S, updateThroughput } from './throughput-learning.js';
import { observationsOf } from './slo/observations.js';
import { updateServiceModel, type ServiceModelState } from './slo/service-model.js';

/** How far back the recent arrival levels reach: the collector's peak window (its `[1m]`). */
export const RECENT_WINDOW_MS = RATE_WINDOW_S * 1000;

/** The replicas' mean KV use now (latest samples, not peaks) and how fast it moved since the previous cycle. */
export interface KvTrend {
  /** Epoch ms of the sample. */
  readonly at: number;
  /** Mean KV use now (0..1) over the replicas that report it. */
  readonly mean: number;
  /** How many replicas reported it. */
  readonly replicas: number;
  /** KV use per second since the previous sample; undefined without one within MAX_TREND_GAP_S. */
  readonly slopePerS: number | undefined;
}

export interface ModelState {
  readonly arrivals: ArrivalTrend | undefined;
  /** The trend's level at each update within RECENT_WINDOW_MS, oldest first: [epoch ms, req/s]. */
  readonly recentLevels: readonly (readonly [number, number])[];
  readonly startup: ReadonlyMap<string, StartupTrack>;
  /** Completions per second of one replica at its KV target, by variant key. */
  readonly throughput: ReadonlyMap<string, number>;
  /** SLO mode: each variant's learned iteration-time model, by variant key. */
  readonly service: ReadonlyMap<string, ServiceModelState>;
  /** Undefined before a replica reports its KV use now, and while none does. */
  readonly kv?: KvTrend | undefined;
  /**
   * When each replica last reported nothing running (epoch ms), by pod: one loaded since less than
   * a minute ago is filling (throughput-learning.ts fillingRate). A pod never seen idle is absent.
   */
  readonly idleAt?: ReadonlyMap<string, number>;
}

export const EMPTY_MODEL_STATE: ModelState = Object.freeze({
  arrivals: undefined,
  recentLevels: [],
  startup: new Map<string, StartupTrack>(),
  throughput: new Map<string, number>(),
  service: new Map<string, ServiceModelState>(),
});

export interface LearnInput {
  readonly previous: ModelState | undefined;
  readonly analysis: ModelAnalysis;
  readonly variants: readonly VariantState[];
  readonly replicas: readonly ReplicaMetrics[];
  /** Arrivals measured this cycle (req/s); undefined when they cannot be (no completion rate). */
  readonly arrivals: number | undefined;
  /** KV load one replica is sized for (threshold - spare trigger). */
  readonly kvTarget: number;
  /** Requests waiting now that mean a replica runs flat out (its queueLengthThreshold). */
  readonly queueTarget: number;
  readonly now: number;
  /** Learn the service models (the model is in SLO mode); default false. */
  readonly learnService?: boolean;
}

/** Whether this cycle's metrics can teach anything: fresh and complete. */
function usable(a: ModelAnalysis): boolean {
  return a.freshness === 'fresh' && a.dataQuality === 'complete';
}

function learnArrivals(prev: ModelState, input: LearnInput): Pick<ModelState, 'arrivals' | 'recentLevels'> {
  if (input.arrivals === undefined || !usable(input.analysis)) return prev;
  const arrivals = updateTrend(prev.arrivals, input.arrivals, input.now);
  if (arrivals === prev.arrivals) return prev;
  const from = input.now - RECENT_WINDOW_MS;
  const recentLevels = [...prev.recentLevels.filter(([at]) => at > from), [input.now, arrivals.level] as const];
  return { arrivals, recentLevels };
}

/** When each replica reporting now last ran nothing: now where it runs nothing, else as before. */
export function learnIdle(
  prev: ReadonlyMap<string, number> | undefined,
  replicas: readonly ReplicaMetrics[],
  now: number,
): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const r of replicas) {
    const before = prev?.get(r.pod);
    if (r.running === 0) out.set(r.pod, now);
    else if (before !== undefined) out.set(r.pod, before);
  }
  return out;
}

/** The KV trend after this cycle's replicas (kept over gaps too short to mean anything). */
function learnKv(prev: ModelState, input: LearnInput): KvTrend | undefined {
  if (!usable(input.analysis)) return prev.kv;
  let sum = 0;
  let replicas = 0;
  for (const r of input.replicas) {
    if (r.kvCacheUsageNow === undefined) continue;
    sum += r.kvCacheUsageNow;
    replicas++;
  }
  if (replicas === 0) return undefined;
  const before = prev.kv;
  const gapS = before ? (input.now - before.at) / 1000 : undefined;
  if (gapS !== undefined && gapS < MIN_TREND_GAP_S) return before;
  const mean = sum / replicas;
  const slopePerS = before && gapS !== undefined && gapS <= MAX_TREND_GAP_S ? (mean - before.mean) / gapS : undefined;
  return { at: input.now, mean, replicas, slopePerS };
}

/** Every variant's track after this observation; the previous map itself when no track moved. */
function learnStartups(prev: ModelState, input: LearnInput): ReadonlyMap<string, StartupTrack> {
  let moved = prev.startup.size !== input.variants.length;
  const tracks = input.variants.map((s) => {
    const before = prev.startup.get(s.variant.key);
    const after = updateStartup(before, s.current, s.ready, input.now);
    if (after !== before) moved = true;
    return [s.variant.key, after] as const;
  });
  return moved ? new Map(tracks) : prev.startup;
}

/**
 * Every variant's service model after this cycle's replicas; the previous map itself when no
 * replica gave an observation. A re-opened model (measurement contradicted it) also takes its
 * full-cache replicas' ITL (slo/observations.ts says why only then).
 */
export function learnService(
  prev: ReadonlyMap<string, ServiceModelState>,
  replicas: readonly ReplicaMetrics[],
  now: number,
): ReadonlyMap<string, ServiceModelState> {
  let out: Map<string, ServiceModelState> | undefined;
  const byVariant = new Map<string, ReturnType<typeof observationsOf>>();
  for (const r of replicas) {
    if (r.variantKey === undefined) continue;
    const obs = observationsOf(r, prev.get(r.variantKey)?.reopenedAt !== undefined ? 'itl' : 'none');
    if (obs.length === 0) continue;
    const all = byVariant.get(r.variantKey);
    if (all) all.push(...obs);
    else byVariant.set(r.variantKey, obs);
  }
  for (const [key, obs] of byVariant) {
    const before = prev.get(key);
    const after = updateServiceModel(before, obs, now);
    if (after && after !== before) (out ??= new Map(prev)).set(key, after);
  }
  return out ?? prev;
}

/** The state after this cycle's observation. */
export function learnModelState(input: LearnInput): ModelState {
  const prev = input.previous ?? EMPTY_MODEL_STATE;
  const { arrivals, recentLevels } = learnArrivals(prev, input);
  return {
    arrivals,
    recentLevels,
    startup: learnStartups(prev, input),
    throughput: usable(input.analysis)
      ? updateThroughput(prev.throughput, input.replicas, input.kvTarget, input.queueTarget)
      : prev.throughput,
    service:
      input.learnService === true && usable(input.analysis)
        ? learnService(prev.service, input.replicas, input.now)
        : prev.service,
    kv: learnKv(prev, input),
    idleAt: learnIdle(prev.idleAt, input.replicas, input.now),
  };
}

/** The highest arrival level within the recent window (undefined before any). */
export function recentPeakLevel(state: ModelState): number | undefined {
  let peak: number | undefined;
  for (const [, level] of state.recentLevels) if (peak === undefined || level > peak) peak = level;
  return peak;
}
