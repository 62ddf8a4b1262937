/**
 * ModelContext: what every step of the target calculation reads about one model, built once per
 * decision (variants in key order, previous decisions, the previous decision's load, the
 * per-replica targets), and StageResult: what every step returns. Steps never write into shared
 * maps: each returns its own result and the dispatcher (capacity-targets.ts) combines them.
 */
import type { Decision } from '../domain/decision.js';
import { DEFAULT_ENGINE_FEATURES, type EngineFeatures } from '../domain/engine-features.js';
import type { ScaleToZeroConfig } from '../domain/saturation.js';
import { EMPTY_MODEL_STATE, type ModelState } from './model-state.js';
import type { Note } from './notes.js';
import { modelReplicaRate } from './throughput-learning.js';
import type { ModelAnalysis, VariantState } from './saturation-analyzer.js';
import type { SloInputs } from './slo/slo-inputs.js';
import type { ServiceBoundInputs } from './service-bound.js';

export type ModelAction =
  'scale-up' | 'scale-down' | 'hold' | 'scale-to-zero' | 'scale-from-zero' | 'at-zero' | 'floor' | 'unavailable';

export interface TargetsInput {
  readonly analysis: ModelAnalysis;
  readonly variants: readonly VariantState[];
  /** Previous decisions by variant key (missing = none yet). */
  readonly previous: ReadonlyMap<string, Decision>;
  readonly scaleToZero: ScaleToZeroConfig;
  readonly maxScaleUpRate: number;
  /** Epoch ms of this decision (for the queue's growth rate since the previous one). */
  readonly now?: number;
  /**
   * WVA V2's `scaleDownBoundary` as KV use per replica (kvCacheThreshold x boundary): a scale-down
   * also needs the projected KV use per remaining replica at most this. Undefined: no such bound.
   */
  readonly scaleDownKvMax?: number | undefined;
  /** The engine's switchable behaviours (default: every one on). */
  readonly features?: EngineFeatures;
  /** What the engine learned of the model up to this cycle (model-state.ts); default: nothing yet. */
  readonly state?: ModelState;
  /** SLO mode: the objective and workloads (slo/slo-inputs.ts); undefined = saturation mode. */
  readonly slo?: SloInputs | undefined;
  /** What step 4's service-model bound reads (service-bound.ts); undefined: no such bound. */
  readonly serviceBound?: ServiceBoundInputs | undefined;
}

/** What the previous decision saw of the model, for rates over the gap since. */
export interface PreviousLoad {
  readonly waiting: number;
  /** Completions per second then (undefined when unknown). */
  readonly completions: number | undefined;
  readonly dtS: number;
}

export interface ModelContext extends Pick<
  TargetsInput,
  'analysis' | 'previous' | 'scaleToZero' | 'maxScaleUpRate' | 'scaleDownKvMax'
> {
  /** Sorted by variant key. */
  readonly states: readonly VariantState[];
  readonly hasPrevious: boolean;
  /** Sum of the previous decisions' desired replicas. */
  readonly previousSum: number;
  readonly previousLoad: PreviousLoad | undefined;
  /** Load one replica is sized for: threshold - spare trigger, for KV and for the queue. */
  readonly kvPerReplica: number;
  readonly queuePerReplica: number;
  readonly features: EngineFeatures;
  readonly state: ModelState;
  /**
   * One replica's completions per second at its KV target as learned (slowest learned variant of
   * the model), when the token-capacity feature is on; else undefined.
   */
  readonly learnedRate: number | undefined;
  /** SLO mode's inputs; undefined in saturation mode. */
  readonly slo: SloInputs | undefined;
  /** Step 4's service-model bound's inputs when the token-capacity feature is on; else undefined. */
  readonly serviceBound: ServiceBoundInputs | undefined;
  /** Epoch ms of this decision; undefined when the caller gave none (then no pending replica has an age). */
  readonly now: number | undefined;
}

/** One step's result. `desired` has every variant of the model. */
export interface StageResult {
  readonly action: Exclude<ModelAction, 'unavailable'>;
  readonly desired: ReadonlyMap<string, number>;
  readonly notes: readonly Note[];
  /** Clamps by variant key. */
  readonly clamps: ReadonlyMap<string, string>;
  /** The model may end at zero replicas (the floor does not apply). */
  readonly zeroAllowed: boolean;
  /**
   * What one replica of each variant serves, in the unit the stage sized in (SLO mode: req/s within
   * the targets), by variant key: placement spills replicas from one variant to another by it.
   * Absent: replicas are interchangeable, one for one (saturation sizing).
   */
  readonly capacities?: ReadonlyMap<string, number> | undefined;
}

/** A step that finds no decision can be made: GetMetrics answers UNAVAILABLE with the reason. */
export interface Unavailable {
  readonly action: 'unavailable';
  readonly reason: string;
}

const byKey = (a: VariantState, b: VariantState): number =>
  a.variant.key < b.variant.key ? -1 : a.variant.key > b.variant.key ? 1 : 0;
/** Cheapest first, ties by key ascending (who grows first). */
export const cheapestFirst = (a: VariantState, b: VariantState): number =>
  a.variant.cost - b.variant.cost || byKey(a, b);
/** Most expensive first, ties by key descending (who shrinks first: the mirror of growing). */
export const mostExpensiveFirst = (a: VariantState, b: VariantState): number =>
  b.variant.cost - a.variant.cost || byKey(b, a);

/** The variants in the order the step picks them (sorted when the step needs it, not before). */
export function inOrder(ctx: ModelContext, order: (a: VariantState, b: VariantState) => number): VariantState[] {
  return [...ctx.states].sort(order);
}

/** Shortest gap between two decisions over which the queue's growth rate is trusted (s). */
export const MIN_GROWTH_WINDOW_S = 2;

/** The previous decision's model load and its age, when rates over the gap can be drawn from it. */
export function previousLoadOf(
  previous: ReadonlyMap<string, Decision>,
  now: number | undefined,
): PreviousLoad | undefined {
  if (now === undefined) return undefined;
  for (const d of previous.values()) {
    if (d.modelWaiting === undefined) continue;
    const dtS = (now - d.decidedAt) / 1000;
    // On-demand runs can follow each other closely; a growth rate over a few ms is noise.
    return dtS >= MIN_GROWTH_WINDOW_S ? { waiting: d.modelWaiting, completions: d.modelCompletions, dtS } : undefined;
  }
  return undefined;
}

export function buildModelContext(input: TargetsInput): ModelContext {
  const states = [...input.variants].sort(byKey);
  let hasPrevious = false;
  let previousSum = 0;
  for (const s of states) {
    const p = input.previous.get(s.variant.key);
    if (p) {
      hasPrevious = true;
      previousSum += p.desiredReplicas;
    }
  }
  const t = input.analysis.thresholds;
  const features = input.features ?? DEFAULT_ENGINE_FEATURES;
  const state = input.state ?? EMPTY_MODEL_STATE;
  const keys = states.map((s) => s.variant.key);
  return {
    analysis: input.analysis,
    states,
    previous: input.previous,
    hasPrevious,
    previousSum,
    previousLoad: previousLoadOf(input.previous, input.now),
    kvPerReplica: t.kvCacheThreshold - t.kvSpareTrigger,
    queuePerReplica: t.queueLengthThreshold - t.queueSpareTrigger,
    scaleToZero: input.scaleToZero,
    maxScaleUpRate: input.maxScaleUpRate,
    scaleDownKvMax: input.scaleDownKvMax,
    features,
    state,
    learnedRate: features.tokenCapacity ? modelReplicaRate(state.throughput, keys) : undefined,
    slo: input.slo,
    serviceBound: features.tokenCapacity ? input.serviceBound : undefined,
    now: input.now,
  };
}

/** Every variant at its current replicas. */
export function currentReplicas(ctx: ModelContext): Map<string, number> {
  return new Map(ctx.states.map((s) => [s.variant.key, s.current]));
}

/** Every variant at its previous decision, or its current replicas when it has none. */
export function heldReplicas(ctx: ModelContext): Map<string, number> {
  return new Map(ctx.states.map((s) => [s.variant.key, ctx.previous.get(s.variant.key)?.desiredReplicas ?? s.current]));
}

/** Every variant at zero. */
export function zeroReplicas(ctx: ModelContext): Map<string, number> {
  return new Map(ctx.states.map((s) => [s.variant.key, 0]));
}

/** Shared by every result without clamps (results are never mutated). */
export const NO_CLAMPS: ReadonlyMap<string, string> = new Map();

/** A result without clamps. */
export function stage(
  action: StageResult['action'],
  desired: ReadonlyMap<string, number>,
  notes: readonly Note[],
  zeroAllowed = false,
): StageResult {
  return { action, desired, notes, clamps: NO_CLAMPS, zeroAllowed };
}
