/** Builders for engine tests: variants, replica metrics and one-call model decisions. */
import { makeDecision, type Decision } from '../../../src/domain/decision.js';
import type { EngineFeatures } from '../../../src/domain/engine-features.js';
import type { ModelMetrics, ReplicaMetrics } from '../../../src/domain/metrics.js';
import { variantKey, type Variant } from '../../../src/domain/variant.js';
import { EMPTY_SATURATION_CONFIG, type SaturationConfig } from '../../../src/config/saturation-config.js';
import type { MetricsCollector } from '../../../src/collector/collector.js';
import type { VariantState } from '../../../src/engine/saturation-analyzer.js';
import type { ModelState } from '../../../src/engine/model-state.js';
import { decideModel, type ModelOutcome } from '../../../src/engine/model-decision.js';
import type { ServiceModelState } from '../../../src/engine/slo/service-model.js';

export const NS = 'ns';
export const MODEL = 'meta/llama-8b';
export const NOW = 1_700_000_000_000;

export function variant(name: string, over: Partial<Variant> = {}): Variant {
  const namespace = over.namespace ?? NS;
  return {
    key: variantKey(namespace, name),
    namespace,
    name,
    modelID: MODEL,
    accelerator: 'H100',
    cost: 10,
    deployment: name,
    minReplicas: 0,
    maxReplicas: 10,
    saturation: {},
    scaleToZero: undefined,
    scaleToZeroRetentionMs: undefined,
    source: 'static',
    deleting: false,
    ...over,
  };
}

export function state(v: Variant, current: number, ready = current): VariantState {
  return { variant: v, current, ready };
}

/**
 * A replica of variant `v` (pod name from the variant and index). running defaults to 1; no
 * completion rate or service time unless given (step 3 then sizes by saturation alone).
 */
export function replica(
  v: Variant | undefined,
  i: number,
  kv: number | undefined,
  queue: number | undefined,
  running: number | undefined = 1,
  requestRate?: number,
  serviceSeconds?: number,
): ReplicaMetrics {
  return {
    namespace: NS,
    modelID: MODEL,
    pod: `${v?.name ?? 'unknown'}-${i}`,
    variantKey: v?.key,
    kvCacheUsage: kv,
    queueLength: queue,
    running,
    requestRate,
    serviceSeconds,
  };
}

/** `n` replicas of `v` with the same values. */
export function replicas(
  v: Variant,
  n: number,
  kv: number | undefined,
  queue: number | undefined,
  running: number | undefined = 1,
  requestRate?: number,
  serviceSeconds?: number,
): ReplicaMetrics[] {
  return Array.from({ length: n }, (_, i) => replica(v, i, kv, queue, running, requestRate, serviceSeconds));
}

export function metrics(reps: readonly ReplicaMetrics[], over: Partial<ModelMetrics> = {}): ModelMetrics {
  return {
    namespace: NS,
    modelID: MODEL,
    replicas: reps,
    requestsOverRetention: 100,
    gatewayQueue: 0,
    collectedAt: NOW - 5_000,
    seenModelNames: [MODEL],
    ...over,
  };
}

export function prev(v: Variant, desired: number): Decision {
  return makeDecision(v, {
    desiredReplicas: desired,
    currentReplicas: desired,
    reasons: [],
    steps: [],
    clamp: undefined,
    metricsAgeMs: 0,
    freshness: 'fresh',
    decidedAt: NOW - 15_000,
  });
}

export interface Scenario {
  readonly states: readonly VariantState[];
  readonly metrics: ModelMetrics | undefined;
  readonly previous?: readonly Decision[];
  readonly saturation?: SaturationConfig;
  readonly scaleToZero?: boolean;
  readonly retentionMs?: number;
  readonly maxScaleUpRate?: number;
  readonly now?: number;
  /** Default: every engine feature on. */
  readonly features?: EngineFeatures;
  /** What the engine learned before this cycle (default: nothing yet). */
  readonly state?: ModelState;
}

export function decide(s: Scenario): ModelOutcome {
  return decideModel({
    namespace: NS,
    modelID: MODEL,
    variants: s.states,
    metrics: s.metrics,
    config: {
      saturation: s.saturation ?? EMPTY_SATURATION_CONFIG,
      scaleToZero: { enabled: s.scaleToZero ?? false, retentionMs: s.retentionMs ?? 600_000 },
      maxScaleUpRate: s.maxScaleUpRate ?? 2,
      features: s.features,
    },
    previous: new Map((s.previous ?? []).map((d) => [d.variantKey, d])),
    now: s.now ?? NOW,
    state: s.state,
  });
}

/** Desired replicas by variant name, e.g. { a: 3, b: 1 }. */
export function desiredByName(o: ModelOutcome): Record<string, number> {
  return Object.fromEntries(o.decisions.map((d) => [d.variantName, d.desiredReplicas]));
}

/** A collector that always holds the same metrics (for engine runs that need no fetching). */
export class StaticCollector implements MetricsCollector {
  readonly backend = 'static';
  constructor(private readonly m: ModelMetrics) {}
  async fetch(): Promise<void> {}
  getModelMetrics(): ModelMetrics | undefined {
    return this.m;
  }
  async close(): Promise<void> {}
}

/** A service model (slo/service-model.ts) confident in `params`: tight covariance, both kinds of samples. */
export function confidentServiceModel(
  params: { readonly alpha: number; readonly beta: number; readonly gamma: number },
  updatedAt: number,
): ServiceModelState {
  return {
    ...params,
    covariance: [1e-4, 0, 0, 0, 1e-10, 0, 0, 0, 1e-16],
    samples: 100,
    confident: true,
    updatedAt,
    itlSamples: 50,
    prefillSamples: 50,
    updates: 50,
    outlierRun: 0,
    itlRelStd: 0.01,
    prefillRelStd: 0.01,
  };
}
