/**
 * One model, start to finish, as a pure function: resolve the config for its variants, analyse
 * (steps 1-2), compute targets (steps 3-7), and build the immutable Decision of every variant.
 * The engine shell only gathers the inputs and stores the outputs.
 */
import { makeDecision, type Decision } from '../domain/decision.js';
import { DEFAULT_ENGINE_FEATURES, type EngineFeatures } from '../domain/engine-features.js';
import type { ModelMetrics } from '../domain/metrics.js';
import type { SaturationThresholds, ScaleToZeroConfig } from '../domain/saturation.js';
import type { SaturationConfig } from '../config/saturation-config.js';
import { resolveScaleToZero, resolveThresholdOrigins, resolveThresholds } from '../config/saturation-config.js';
import { analyzeModel, type ModelAnalysis, type VariantState } from './saturation-analyzer.js';
import { computeTargets, waitingLoad, type ModelTargets } from './capacity-targets.js';
import { previousLoadOf } from './model-context.js';
import { learnModelState, type ModelState } from './model-state.js';
import { measuredArrivals } from './sizing.js';

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
    replicaDetail: input.replicaDetail ?? true,
    thresholdOrigin: (key, field) =>
      resolveThresholdOrigins(config.saturation, namespace, modelID, byKey.get(key)?.saturation)[field],
  });
  const features = config.features ?? DEFAULT_ENGINE_FEATURES;
  const state = learnedState(input, analysis);
  const targets = computeTargets({
    analysis,
    variants: input.variants,
    previous: input.previous,
    scaleToZero: modelScaleToZero(input),
    maxScaleUpRate: config.maxScaleUpRate,
    now: input.now,
    features,
    state,
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
        }),
      ),
    );
  }
  Object.freeze(targets.steps);
  return { analysis, targets, decisions, state };
}

/** The model's state with this cycle's observation taken in (arrivals, start-ups, throughput). */
function learnedState(input: ModelDecisionInput, analysis: ModelAnalysis): ModelState {
  const t = analysis.thresholds;
  const previousLoad = previousLoadOf(input.previous, input.now);
  return learnModelState({
    previous: input.state,
    analysis,
    variants: input.variants,
    replicas: input.metrics?.replicas ?? [],
    arrivals: measuredArrivals(analysis, waitingLoad(analysis), previousLoad)?.arrivals,
    kvTarget: t.kvCacheThreshold - t.kvSpareTrigger,
    now: input.now,
  });
}
