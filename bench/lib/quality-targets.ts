/** The quality bench's targets, evaluated on the three policies' results. */

export interface QualityFigures {
  readonly policy: string;
  readonly replicaMinutes: number;
  readonly overBudgetMinutes: number;
}

export interface TargetVerdict {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

/** `b` is both cheaper-or-equal and better-or-equal than `a`, and strictly one of them. */
export function dominates(b: QualityFigures, a: QualityFigures): boolean {
  const cheaperOrEqual = b.replicaMinutes <= a.replicaMinutes;
  const betterOrEqual = b.overBudgetMinutes <= a.overBudgetMinutes;
  const strictly = b.replicaMinutes < a.replicaMinutes || b.overBudgetMinutes < a.overBudgetMinutes;
  return cheaperOrEqual && betterOrEqual && strictly;
}

export function evaluateTargets(ours: QualityFigures, wva: QualityFigures, keda: QualityFigures): TargetVerdict[] {
  const half = (b: QualityFigures): TargetVerdict => ({
    target: `over-budget minutes at most half of ${b.policy}'s`,
    met: ours.overBudgetMinutes <= b.overBudgetMinutes / 2,
    detail: `${ours.overBudgetMinutes} vs ${b.overBudgetMinutes} (limit ${b.overBudgetMinutes / 2})`,
  });
  const ratio = ours.replicaMinutes / wva.replicaMinutes;
  const dominators = [wva, keda].filter((b) => dominates(b, ours));
  return [
    half(wva),
    half(keda),
    {
      target: `replica-minutes at most 1.25x ${wva.policy}'s`,
      met: ratio <= 1.25,
      detail: `${ours.replicaMinutes.toFixed(1)} vs ${wva.replicaMinutes.toFixed(1)} (${ratio.toFixed(2)}x)`,
    },
    {
      target: 'no baseline both cheaper and better (replica-minutes and over-budget minutes, one strictly)',
      met: dominators.length === 0,
      detail: dominators.length === 0 ? 'none dominates' : `dominated by ${dominators.map((d) => d.policy).join(', ')}`,
    },
  ];
}

export interface Reachability {
  readonly baseline: string;
  readonly limit: number;
  /** The oracle's over-budget minutes are within the limit. */
  readonly reachable: boolean;
}

/**
 * Whether each "half of a baseline's over-budget minutes" limit is met by an oracle (perfect
 * information, same cap, same HPA, same start-up): with the reactive one, a reference for what
 * reacting gives; with the forecast one, for what predicting the load gives. Not proven bounds.
 */
export function reachability(oracle: QualityFigures, baselines: readonly QualityFigures[]): Reachability[] {
  return baselines.map((b) => ({
    baseline: b.policy,
    limit: b.overBudgetMinutes / 2,
    reachable: oracle.overBudgetMinutes <= b.overBudgetMinutes / 2,
  }));
}
