import type { Freshness } from './metrics.js';
import type { ServiceModelView } from './slo.js';
import type { Variant } from './variant.js';

/** The target replica count of a variant, with its reasons, inputs and freshness. Immutable. */
export interface Decision {
  readonly variantKey: string;
  readonly namespace: string;
  readonly variantName: string;
  readonly modelID: string;
  readonly accelerator: string | undefined;
  readonly desiredReplicas: number;
  readonly currentReplicas: number;
  /** Human-readable reasons, e.g. "KV spare low (0.05 < 0.10)". */
  readonly reasons: readonly string[];
  /** The algorithm's steps for this model, in order (for /debug and status). */
  readonly steps: readonly string[];
  /** A min/max/rate clamp that applied, if any. */
  readonly clamp: string | undefined;
  /** Age of the metrics the decision used when it was made (ms); undefined when none. */
  readonly metricsAgeMs: number | undefined;
  readonly freshness: Freshness;
  /** Epoch ms when decided. */
  readonly decidedAt: number;
  /**
   * The model's waiting requests when decided (replica queues plus the gateway), when known: the
   * next cycle derives the queue's growth rate from it (arrivals = completions + growth).
   */
  readonly modelWaiting?: number | undefined;
  /**
   * The model's completions per second when decided, when known: with this cycle's, their mean is
   * the completion rate over the gap (the rate now alone over-counts arrivals right after new
   * replicas start serving).
   */
  readonly modelCompletions?: number | undefined;
  /**
   * Replicas the model wanted this cycle that fit on no GPU it may use (placement, where
   * Kubernetes shows the GPUs); undefined when nothing was short.
   */
  readonly gpuShortfall?: number | undefined;
  /** SLO mode: this variant's learned service model (undefined in saturation mode). */
  readonly serviceModel?: ServiceModelView | undefined;
}

/** A decision's own fields; the naming ones come from its variant. */
export type DecisionFields = Omit<Decision, 'variantKey' | 'namespace' | 'variantName' | 'modelID' | 'accelerator'>;

/**
 * The decision of variant `v`. Every field is written out in one fixed order, never spread: an
 * object literal that spreads another (`{ ...identity(v), desiredReplicas }`) or a conditional
 * (`...(x ? { x } : {})`) can leave V8 a dictionary-mode object, and the engine, the cache and
 * the gauges then read 1,000 of them per cycle through slow lookups (bench:engine went from 3 ms to
 * 13 ms median).
 */
export function makeDecision(v: Variant, f: DecisionFields): Decision {
  return {
    variantKey: v.key,
    namespace: v.namespace,
    variantName: v.name,
    modelID: v.modelID,
    accelerator: v.accelerator,
    desiredReplicas: f.desiredReplicas,
    currentReplicas: f.currentReplicas,
    reasons: f.reasons,
    steps: f.steps,
    clamp: f.clamp,
    metricsAgeMs: f.metricsAgeMs,
    freshness: f.freshness,
    decidedAt: f.decidedAt,
    modelWaiting: f.modelWaiting,
    modelCompletions: f.modelCompletions,
    gpuShortfall: f.gpuShortfall,
    serviceModel: f.serviceModel,
  };
}

/** `d` with a new target, reasons, steps and shortfall (placement); fields in makeDecision's order. */
export function replaceTarget(
  d: Decision,
  f: Pick<Decision, 'desiredReplicas' | 'reasons' | 'steps' | 'gpuShortfall'>,
): Decision {
  return {
    variantKey: d.variantKey,
    namespace: d.namespace,
    variantName: d.variantName,
    modelID: d.modelID,
    accelerator: d.accelerator,
    desiredReplicas: f.desiredReplicas,
    currentReplicas: d.currentReplicas,
    reasons: f.reasons,
    steps: f.steps,
    clamp: d.clamp,
    metricsAgeMs: d.metricsAgeMs,
    freshness: d.freshness,
    decidedAt: d.decidedAt,
    modelWaiting: d.modelWaiting,
    modelCompletions: d.modelCompletions,
    gpuShortfall: f.gpuShortfall,
    serviceModel: d.serviceModel,
  };
}

export function isActive(d: Decision): boolean {
  return d.desiredReplicas > 0;
}

/** WVA's `status.desiredOptimizedAlloc` shape on a VariantAutoscaling. */
export interface DesiredOptimizedAlloc {
  readonly numReplicas: number;
  readonly accelerator: string;
  readonly lastRunTime: string;
}

export function toDesiredOptimizedAlloc(d: Decision): DesiredOptimizedAlloc {
  return {
    numReplicas: d.desiredReplicas,
    accelerator: d.accelerator ?? '',
    lastRunTime: new Date(d.decidedAt).toISOString(),
  };
}
