/** Saturation thresholds of WVA's `wva-saturation-scaling-config`, with our built-in defaults. */
export interface SaturationThresholds {
  /** A replica is saturated when its KV-cache use is at or above this (0..1). */
  readonly kvCacheThreshold: number;
  /** A replica is saturated when its waiting queue is at or above this (>= 0). */
  readonly queueLengthThreshold: number;
  /** Scale up when the average spare KV (threshold - use) falls below this (0..1). */
  readonly kvSpareTrigger: number;
  /** Scale up when the average spare queue (threshold - waiting) falls below this (>= 0). */
  readonly queueSpareTrigger: number;
}

export type SaturationOverrides = Partial<SaturationThresholds>;

/** WVA ships none and scales up forever on an empty config; these apply where a field is missing. */
export const DEFAULT_SATURATION: SaturationThresholds = Object.freeze({
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
});

export interface ScaleToZeroConfig {
  readonly enabled: boolean;
  /** No request over this window (ms) is required before going to zero. */
  readonly retentionMs: number;
}

/**
 * Each spare trigger and the threshold it is the spare of. `refusedAboveAtLoad`: DESIGN's
 * validation (WVA's own) refuses a config or trigger whose KV trigger exceeds its threshold; the
 * rest of the rule is enforced by the engine holding the model (see sparePairProblems).
 */
export const SPARE_PAIRS = [
  { trigger: 'kvSpareTrigger', threshold: 'kvCacheThreshold', refusedAboveAtLoad: true },
  { trigger: 'queueSpareTrigger', threshold: 'queueLengthThreshold', refusedAboveAtLoad: false },
] as const satisfies readonly {
  trigger: keyof SaturationThresholds;
  threshold: keyof SaturationThresholds;
  refusedAboveAtLoad: boolean;
}[];

export type SparePair = (typeof SPARE_PAIRS)[number];

export type SparePairProblem = SparePair & {
  readonly triggerValue: number;
  readonly thresholdValue: number;
  /** e.g. "kvSpareTrigger (0.75) must be below kvCacheThreshold (0.8)". */
  readonly message: string;
  /** True when loading must refuse it (see SPARE_PAIRS); otherwise the engine holds the model. */
  readonly refusedAtLoad: boolean;
};

/**
 * The one rule for spare triggers: every spare trigger strictly below its threshold.
 * `threshold − trigger` is both the load a replica is sized for (step 3) and the most an idle
 * replica's spare can exceed the trigger by (step 2): at 0 or below, no number of replicas is ever
 * enough. Pairs missing either value (a partial layer such as trigger metadata) are not judged.
 * Empty when the thresholds are usable.
 */
export function sparePairProblems(t: SaturationOverrides): SparePairProblem[] {
  const problems: SparePairProblem[] = [];
  for (const pair of SPARE_PAIRS) {
    const triggerValue = t[pair.trigger];
    const thresholdValue = t[pair.threshold];
    if (triggerValue === undefined || thresholdValue === undefined || triggerValue < thresholdValue) continue;
    problems.push({
      ...pair,
      triggerValue,
      thresholdValue,
      message: `${pair.trigger} (${triggerValue}) must be below ${pair.threshold} (${thresholdValue})`,
      refusedAtLoad: pair.refusedAboveAtLoad && triggerValue > thresholdValue,
    });
  }
  return problems;
}

/** The problem a config loader or trigger parser must refuse, if any (DESIGN's validation rule). */
export function spareProblemRefusedAtLoad(t: SaturationOverrides): SparePairProblem | undefined {
  return sparePairProblems(t).find((p) => p.refusedAtLoad);
}

/** A problem with where each of its two values came from, e.g. "(kvSpareTrigger from X, kvCacheThreshold from Y)". */
export function explainSparePairProblem(p: SparePairProblem, triggerFrom: string, thresholdFrom: string): string {
  return triggerFrom === thresholdFrom
    ? `${p.message} (both from ${triggerFrom})`
    : `${p.message} (${p.trigger} from ${triggerFrom}, ${p.threshold} from ${thresholdFrom})`;
}
