/**
 * One model, start to finish, as a pure function: resolve the config for its variants, analyse
 * (steps 1-2), compute targets (steps 3-7), and build the immutable Decision of every variant.
 * The engine shell only gathers the inputs and stores the outputs.
 */
import { makeDecision, replaceTarget, type Decision } from '../domain/decision.js';
import { DEFAULT_ENGINE_FEATURES, type EngineFeatures } from '../domain/engine-features.js';
import type { ModelMetrics } from '../domain/metrics.js';
import type { SaturationThresholds, ScaleToZeroConfig } from '../domain/saturation.js';
import type { SaturationConfig } from '../config/saturation-config.js';
import {
  resolveScaleToZero,
  resolveModelSlo,
  resolveThresholdOrigins,
  resolveThresholds,
  resolveV2,
} from '../config/saturation-config.js';
import { analyzeModel, type ModelAnalysis, type VariantState } from './saturation-analyzer.js';
import { computeTargets, waitingLoad, type ModelTargets } from './capacity-targets.js';
import { modelReasons, traceLines, variantReasons, type Note } from './notes.js';
import type { ModelPlacement, PlacementModel } from './placement.js';
import { previousLoadOf } from './model-context.js';
import { learnModelState, type ModelState } from './model-state.js';
import { measuredArrivals } from './sizing.js';
import type { ServiceModelView, SloTarget } from '../domain/slo.js';
import { sloInputsOf, type SloInputs } from './slo/slo-inputs.js';
import { checkServiceModels } from './slo/contradiction.js';
import { maxRateWithin } from './slo/latency-model.js';
import { serviceBoundInputsOf } from './service-bound.js';

export interface DecisionConfig {
  readonly saturation: SaturationConfig;
  /** Process-wide scale-to-zero default (WVA_SCALE_TO_ZERO, WVA_SCALE_TO_ZERO_RETENTION). */
  readonly scaleToZero: ScaleToZeroConfig;
  readonly maxScaleUpRate: number;
  /** The engine's switchable behaviours (absent: DEFAULT_ENGINE_FEATURES, every one on). */
  readonly features?: EngineFeatures | undefined;
}

export interface ModelDecisionInput {
  readonly namespace: string;
  readonly modelID: string;
  readonly variants: readonly VariantState[];
  readonly metrics: ModelMetrics | undefined;
  readonly config: DecisionConfig;
  readonly previous: ReadonlyMap<string, Decision>;
  readonly now: number;
  /** Keep the per-replica analysis in the outcome (default true; the engine skips it for speed). */
  readonly replicaDetail?: boolean;
  /** What the previous decision of this model returned as `state` (undefined: nothing learned yet). */
  readonly state?: ModelState | undefined;
}

export interface ModelOutcome {
  readonly analysis: ModelAnalysis;
  readonly targets: ModelTargets;
  /** One per variant, sorted by key; empty when `targets.unavailableReason` is set. */
  readonly decisions: readonly Decision[];
  /** What the engine learned of the model up to this decision: pass it to the next one. */
  readonly state: ModelState;
}

/** Scale to zero for a model: on only if on for every variant; the longest retention applies. */
export function modelScaleToZero(
  input: Pick<ModelDecisionInput, 'namespace' | 'modelID' | 'variants' | 'config'>,
): ScaleToZeroConfig {
  let enabled = input.variants.length > 0;
  let retentionMs = 0;
  for (const s of input.variants) {
    const r = resolveScaleToZero(input.config.saturation, input.config.scaleToZero, input.namespace, input.modelID, {
      enabled: s.variant.scaleToZero,
      retentionMs: s.variant.scaleToZeroRetentionMs,
    });
    enabled &&= r.enabled;
    retentionMs = Math.max(retentionMs, r.retentionMs);
  }
  if (input.variants.length === 0) retentionMs = input.config.scaleToZero.retentionMs;
  return { enabled, retentionMs };
}

export function decideModel(input: ModelDecisionInput): ModelOutcome {
  const { namespace, modelID, config } = input;
  const modelThresholds = resolveThresholds(config.saturation, namespace, modelID);
  const thresholdsByVariant = new Map<string, SaturationThresholds>();
  for (const s of input.variants) {
    const overrides = s.variant.saturation;
    thresholdsByVariant.set(
      s.variant.key,
      Object.keys(overrides).length === 0
        ? modelThresholds
        : resolveThresholds(config.saturation, namespace, modelID, overrides),
    );
  }
  const byKey = new Map(input.variants.map((s) => [s.variant.key, s.variant]));
  const analysis = analyzeModel({
    namespace,
    modelID,
    variants: input.variants,
    metrics: input.metrics,
    thresholdsByVariant,
    modelThresholds,
    now: input.now,
    idleAt: input.state?.idleAt,
    replicaDetail: input.replicaDetail ?? true,
    thresholdOrigin: (key, field) =>
      resolveThresholdOrigins(config.saturation, namespace, modelID, byKey.get(key)?.saturation)[field],
  });
  const boundary = resolveV2(config.saturation, namespace, modelID).scaleDownBoundary;
  const features = config.features ?? DEFAULT_ENGINE_FEATURES;
  const sloTarget = modelSlo(input);
  // SLO mode sizes by the service model; with token capacity on, step 4 is bounded by it too.
  const learned = learnedState(input, analysis, sloTarget !== undefined || features.tokenCapacity);
  const { state, slo } = checkedSlo(input, analysis, learned, sloTarget);
  const targets = computeTargets({
    analysis,
    variants: input.variants,
    previous: input.previous,
    scaleToZero: modelScaleToZero(input),
    maxScaleUpRate: config.maxScaleUpRate,
    now: input.now,
    scaleDownKvMax: boundary === undefined ? undefined : modelThresholds.kvCacheThreshold * boundary,
    features,
    state,
    slo,
    serviceBound: features.tokenCapacity
      ? serviceBoundInputsOf(
          input.variants.map((s) => s.variant.key),
          input.metrics?.replicas ?? [],
          // SLO mode computed them from the same replicas (undefined: computed here).
          slo?.workloads,
        )
      : undefined,
  });
  const usable = analysis.freshness === 'fresh' && analysis.dataQuality === 'complete';
  const modelWaiting = usable ? waitingLoad(analysis) : undefined;
  const modelCompletions = usable ? analysis.completionRate : undefined;
  const decisions: Decision[] = [];
  for (const t of targets.targets) {
    const v = byKey.get(t.variantKey);
    if (!v) continue;
    decisions.push(
      Object.freeze(
        makeDecision(v, {
          desiredReplicas: t.desired,
          currentReplicas: t.current,
          reasons: Object.freeze(t.reasons),
          steps: targets.steps,
          clamp: t.clamp,
          metricsAgeMs: analysis.metricsAgeMs,
          freshness: analysis.freshness,
          decidedAt: input.now,
          modelWaiting,
          modelCompletions,
          serviceModel: slo ? serviceView(state, slo, t.variantKey) : undefined,
        }),
      ),
    );
  }
  Object.freeze(targets.steps);
  return { analysis, targets, decisions, state };
}

/**
 * The model's latency objective: the config's (default <- per-model entry) with the trigger
 * metadata of its variants over it, the first variant by key that gives SLO keys (SLO mode is per
 * model: variants of one model that disagree are a configuration the first one settles).
 */
function modelSlo(input: ModelDecisionInput): SloTarget | undefined {
  return resolveModelSlo(
    input.config.saturation,
    input.variants.map((s) => s.variant),
  );
}

/** What /debug/decisions shows of a variant's learned model (undefined before any observation). */
function serviceView(state: ModelState, slo: SloInputs, key: string): ServiceModelView | undefined {
  const m = state.service.get(key);
  if (!m) return undefined;
  const w = slo.workloads?.get(key);
  return {
    alpha: m.alpha,
    beta: m.beta,
    gamma: m.gamma,
    samples: m.samples,
    confident: m.confident,
    ratePerReplica: m.confident && w ? maxRateWithin(m, w, slo.target) : undefined,
  };
}

/**
 * SLO mode's inputs, and the state with every confident service model checked against what its
 * replicas measured (slo/contradiction.ts): a contradicted one is re-opened and named in the inputs.
 * Only fresh, complete metrics are evidence (as for learning).
 */
function checkedSlo(
  input: ModelDecisionInput,
  analysis: ModelAnalysis,
  learned: ModelState,
  target: SloTarget | undefined,
): { state: ModelState; slo: SloInputs | undefined } {
  if (!target) return { state: learned, slo: undefined };
  const replicas = input.metrics?.replicas ?? [];
  const inputs = sloInputsOf(
    target,
    input.variants.map((s) => s.variant.key),
    replicas,
  );
  if (analysis.freshness !== 'fresh' || analysis.dataQuality !== 'complete') return { state: learned, slo: inputs };
  const checked = checkServiceModels(learned.service, inputs, replicas, input.now);
  if (checked.contradictions.size === 0) return { state: learned, slo: inputs };
  return {
    state: { ...learned, service: checked.service },
    slo: { ...inputs, contradictions: checked.contradictions },
  };
}

/** The model's state with this cycle's observation taken in (arrivals, start-ups, throughput). */
function learnedState(input: ModelDecisionInput, analysis: ModelAnalysis, learnService: boolean): ModelState {
  const t = analysis.thresholds;
  const previousLoad = previousLoadOf(input.previous, input.now);
  return learnModelState({
    previous: input.state,
    analysis,
    variants: input.variants,
    replicas: input.metrics?.replicas ?? [],
    arrivals: measuredArrivals(analysis, waitingLoad(analysis), previousLoad)?.arrivals,
    kvTarget: t.kvCacheThreshold - t.kvSpareTrigger,
    queueTarget: t.queueLengthThreshold,
    now: input.now,
    learnService,
  });
}

/** Where placement may move a model back to a cheaper variant: holding steady, nothing in flight. */
export function isSteady(outcome: ModelOutcome, previous: ReadonlyMap<string, Decision>): boolean {
  const a = outcome.analysis;
  if (outcome.targets.action !== 'hold' || a.pendingTotal > 0 || a.scaleUpNeeded) return false;
  if (a.freshness !== 'fresh' || a.dataQuality !== 'complete') return false;
  return outcome.decisions.every(
    (d) => d.desiredReplicas === d.currentReplicas && previous.get(d.variantKey)?.desiredReplicas === d.currentReplicas,
  );
}

/** The model as placement sees it: its targets before placement, per variant. */
export function placementModelOf(
  key: string,
  namespace: string,
  priority: number,
  variants: readonly VariantState[],
  outcome: ModelOutcome,
  steady: boolean,
): PlacementModel {
  const byKey = new Map(outcome.decisions.map((d) => [d.variantKey, d]));
  return {
    key,
    namespace,
    priority,
    steady,
    variants: variants.map((s) => {
      const d = byKey.get(s.variant.key);
      return {
        variant: s.variant,
        current: d?.currentReplicas ?? s.current,
        desired: d?.desiredReplicas ?? s.current,
        capacity: outcome.targets.capacities?.get(s.variant.key),
      };
    }),
  };
}

/** The outcome with placement's targets, reasons and steps (unchanged when there are no decisions). */
export function withPlacement(
  outcome: ModelOutcome,
  p: Pick<ModelPlacement, 'desired' | 'notes' | 'shortfall'>,
): ModelOutcome {
  if (outcome.decisions.length === 0 || (p.notes.length === 0 && p.shortfall === 0)) {
    let same = true;
    for (const d of outcome.decisions)
      if ((p.desired.get(d.variantKey) ?? d.desiredReplicas) !== d.desiredReplicas) same = false;
    if (same) return outcome;
  }
  const notes: readonly Note[] = p.notes;
  const steps = Object.freeze([...outcome.targets.steps, ...traceLines(notes)]);
  const model = modelReasons(notes);
  const decisions = outcome.decisions.map((d) =>
    Object.freeze(
      replaceTarget(d, {
        desiredReplicas: p.desired.get(d.variantKey) ?? d.desiredReplicas,
        reasons: Object.freeze([...d.reasons, ...model, ...variantReasons(notes, d.variantKey)]),
        steps,
        gpuShortfall: p.shortfall > 0 ? p.shortfall : undefined,
      }),
    ),
  );
  return { ...outcome, decisions };
}
