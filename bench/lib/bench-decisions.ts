/**
 * The decision every GetMetrics bench serves for its i-th variant (1,000 variants, 1-7 replicas):
 * one definition, so the handler benches and the /metrics storm answer the same thing.
 */
export interface BenchVariant {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly modelID: string;
}

/** A fresh, complete Decision record for variant `i` (fields in makeDecision's order). */
export function benchDecision(v: BenchVariant, i: number) {
  return {
    variantKey: v.key,
    namespace: v.namespace,
    variantName: v.name,
    modelID: v.modelID,
    accelerator: undefined,
    desiredReplicas: 1 + (i % 7),
    currentReplicas: 1,
    reasons: ['bench'],
    steps: [],
    clamp: undefined,
    metricsAgeMs: 0,
    freshness: 'fresh' as const,
    decidedAt: Date.now(),
  };
}
