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

// ---------------------------------------------------------------------------------------------
// Issue 20's targets, on the token-level bench's figures
// ---------------------------------------------------------------------------------------------

/** What the issue-20 targets read of a policy's figures (PolicyFigures fits). */
export interface SloCost {
  readonly policy: string;
  /** The SLO the targets judge: the share of requests with a first token within 2 s. */
  readonly sloAttainment2s: number;
  readonly gpuCost: number;
  readonly wrongDirection: number;
}

export type TargetId = 'not-dominated' | 'vs-recipes' | 'near-oracle' | 'no-wrong-direction' | 'deterministic';

export interface TokenTargetVerdict {
  readonly id: TargetId;
  readonly target: string;
  readonly met: boolean;
  /** The reactive oracle itself misses the target here, so it was judged as "within 3 points of the oracle". */
  readonly relaxed: boolean;
  readonly detail: string;
}

/** 3 points of SLO attainment. */
export const ORACLE_POINTS = 0.03;
const EPS = 1e-9;
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** `b` is cheaper-or-equal and at least as good, strictly one of them (SLO at 2 s vs GPU cost). */
export function dominatesOn(b: SloCost, a: SloCost): boolean {
  const cheaper = b.gpuCost <= a.gpuCost + EPS;
  const better = b.sloAttainment2s >= a.sloAttainment2s - EPS;
  const strictly = b.gpuCost < a.gpuCost - EPS || b.sloAttainment2s > a.sloAttainment2s + EPS;
  return cheaper && better && strictly;
}

/**
 * "At least that of llm-d's KEDA + EPP and WVA V2, at ≤ 0.9x the cheaper's cost, or ≥ 5 points better at equal cost."
 */
function beatsRecipes(x: SloCost, kedaEpp: SloCost, wvaV2: SloCost): boolean {
  const best = Math.max(kedaEpp.sloAttainment2s, wvaV2.sloAttainment2s);
  const cheap = Math.min(kedaEpp.gpuCost, wvaV2.gpuCost);
  return (
    (x.sloAttainment2s >= best - EPS && x.gpuCost <= 0.9 * cheap + EPS) ||
    (x.sloAttainment2s >= best + 0.05 - EPS && x.gpuCost <= cheap + EPS)
  );
}

export interface TokenTargetInputs {
  readonly engine: SloCost;
  readonly oracle: SloCost;
  readonly kedaEpp: SloCost;
  readonly wvaV2: SloCost;
  /** Every baseline (not the oracles). */
  readonly baselines: readonly SloCost[];
  /** The engine's two runs on this seed took the same decisions. */
  readonly deterministic: boolean;
}

/**
 * Issue 20's five targets for one run (scenario, start-up, seed), each checked first against the reactive
 * oracle: where the oracle misses one, the engine's target becomes "SLO attainment within 3 points of the
 * oracle's" (for the wrong-direction count: no more than the oracle's), marked `relaxed`.
 */
export function evaluateTokenTargets(x: TokenTargetInputs): TokenTargetVerdict[] {
  const { engine: e, oracle: o } = x;
  const nearOracle = e.sloAttainment2s >= o.sloAttainment2s - ORACLE_POINTS - EPS;
  const relaxedDetail = `oracle misses it; engine ${pct(e.sloAttainment2s)} vs oracle ${pct(o.sloAttainment2s)}`;
  const verdicts: TokenTargetVerdict[] = [];

  const dominators = x.baselines.filter((b) => dominatesOn(b, e));
  const oracleDominated = x.baselines.some((b) => dominatesOn(b, o));
  verdicts.push(
    oracleDominated
      ? { id: 'not-dominated', target: 'no policy dominates', met: nearOracle, relaxed: true, detail: relaxedDetail }
      : {
          id: 'not-dominated',
          target: 'no policy dominates',
          met: dominators.length === 0,
          relaxed: false,
          detail: dominators.length === 0 ? 'none' : `dominated by ${dominators.map((d) => d.policy).join(', ')}`,
        },
  );

  const fig = (c: SloCost): string => `${c.policy} ${pct(c.sloAttainment2s)} at ${c.gpuCost.toFixed(0)}`;
  const recipes = `${fig(x.kedaEpp)}, ${fig(x.wvaV2)}`;
  verdicts.push(
    beatsRecipes(o, x.kedaEpp, x.wvaV2)
      ? {
          id: 'vs-recipes',
          target: 'vs llm-d KEDA+EPP and WVA V2',
          met: beatsRecipes(e, x.kedaEpp, x.wvaV2),
          relaxed: false,
          detail: `engine ${pct(e.sloAttainment2s)} at ${e.gpuCost.toFixed(0)}; ${recipes}`,
        }
      : {
          id: 'vs-recipes',
          target: 'vs llm-d KEDA+EPP and WVA V2',
          met: nearOracle,
          relaxed: true,
          detail: relaxedDetail,
        },
  );

  verdicts.push({
    id: 'near-oracle',
    target: 'within 3 points of the reactive oracle at <= 1.2x its cost',
    met: nearOracle && e.gpuCost <= 1.2 * o.gpuCost + EPS,
    relaxed: false,
    detail: `${pct(e.sloAttainment2s)} vs ${pct(o.sloAttainment2s)}, cost ${(e.gpuCost / Math.max(o.gpuCost, EPS)).toFixed(2)}x`,
  });

  verdicts.push(
    o.wrongDirection === 0
      ? {
          id: 'no-wrong-direction',
          target: 'zero wrong-direction actions',
          met: e.wrongDirection === 0,
          relaxed: false,
          detail: `${e.wrongDirection}`,
        }
      : {
          id: 'no-wrong-direction',
          target: 'zero wrong-direction actions',
          met: e.wrongDirection <= o.wrongDirection,
          relaxed: true,
          detail: `oracle has ${o.wrongDirection}; engine ${e.wrongDirection}`,
        },
  );

  verdicts.push({
    id: 'deterministic',
    target: 'same seed, same decisions',
    met: x.deterministic,
    relaxed: false,
    detail: x.deterministic ? 'two runs identical' : 'two runs differ',
  });
  return verdicts;
}

// ---------------------------------------------------------------------------------------------
// Issue 22's target: the SLO mode against the reactive oracle and against saturation mode
// ---------------------------------------------------------------------------------------------

/** The share of the oracle's good minutes the SLO mode must also meet. */
export const SLO_MINUTES_SHARE = 0.95;

/** A run's figures the issue-22 target reads; undefined: the policy did not run (its recipe is not in this tree). */
export interface SloModeRun {
  /** Share of the minutes where the reactive oracle meets p95 TTFT in which this policy meets it too. */
  readonly minutesWhereOracleMeets: number | undefined;
  readonly gpuCost: number;
}

export type SloVerdictStatus = 'pass' | 'fail' | 'not run' | 'not judged';

export interface SloModeVerdict {
  readonly id: 'slo-mode';
  readonly target: string;
  readonly status: SloVerdictStatus;
  readonly detail: string;
}

/**
 * "The engine's SLO mode meets p95 TTFT in at least 95 % of the minutes where the reactive oracle meets it, at lower
 * GPU cost than saturation mode (the `engine` row) at its default thresholds." A missing run is "not run", never a
 * pass; a run where the oracle meets no minute cannot be judged. Checked against the oracle first, as issue 20's
 * targets are: where saturation mode already costs no more than the reactive oracle (`oracleCost`; e.g. one replica
 * all run long, the minimum), nothing cheaper is reachable, and the cost half becomes "no more than saturation mode";
 * the detail says so.
 */
export function evaluateSloModeTarget(x: {
  readonly engineSlo: SloModeRun | undefined;
  readonly engine: SloModeRun | undefined;
  readonly oracleCost?: number | undefined;
}): SloModeVerdict {
  const atOracle = x.engine !== undefined && x.oracleCost !== undefined && x.engine.gpuCost <= x.oracleCost + EPS;
  const target =
    `p95 TTFT met in >= ${SLO_MINUTES_SHARE * 100} % of the oracle's minutes, ` +
    (atOracle ? 'no costlier than saturation mode (already at the oracle’s cost)' : 'cheaper than saturation mode');
  if (!x.engineSlo) return { id: 'slo-mode', target, status: 'not run', detail: 'engine-slo did not run' };
  if (!x.engine) return { id: 'slo-mode', target, status: 'not run', detail: 'engine (saturation mode) did not run' };
  const share = x.engineSlo.minutesWhereOracleMeets;
  if (share === undefined)
    return {
      id: 'slo-mode',
      target,
      status: 'not judged',
      detail: 'the reactive oracle meets the objective in no minute',
    };
  const cheapEnough = atOracle
    ? x.engineSlo.gpuCost <= x.engine.gpuCost + EPS
    : x.engineSlo.gpuCost < x.engine.gpuCost - EPS;
  const met = share >= SLO_MINUTES_SHARE - EPS && cheapEnough;
  return {
    id: 'slo-mode',
    target,
    status: met ? 'pass' : 'fail',
    detail:
      `${pct(share)} of the oracle's minutes, cost ${x.engineSlo.gpuCost.toFixed(0)} vs saturation mode ` +
      `${x.engine.gpuCost.toFixed(0)}${atOracle ? ` (= the reactive oracle's ${(x.oracleCost ?? 0).toFixed(0)})` : ''}`,
  };
}
