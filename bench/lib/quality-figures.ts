/**
 * The quality bench's figures per policy run (issue 20, "Figures per policy"), as pure functions of
 * what the closed loop recorded: the time to first token of every request (from the fleet's
 * `onRequestEvent` 'first-token' events), the replica time per variant, and one record per cycle.
 *
 * Requests still without a first token when the run ends are *censored*: their TTFT is at least
 * `end − arrival`. They count as misses of a budget they have already exceeded, are left out of a
 * budget they might still meet, and enter the percentiles with that lower bound (so a policy that
 * leaves a backlog at the end is never flattered by it).
 */

export const WINDOW_MS = 60_000;
/** A scale-up is wrong when the offered rate over the last 2 minutes falls (the last minute vs the one before). */
export const FALLING_WINDOW_MS = 120_000;
/** A scale-down undone by a scale-up within this long, without the load rising, is flapping. */
export const FLAP_WINDOW_MS = 300_000;
/** "Falls" and "rises" mean by more than this share (the 10 %, used both ways so noise is not a fall). */
export const RATE_CHANGE = 0.1;

export interface TtftSample {
  /** TTFT of the requests that got a first token (ms). */
  readonly servedMs: readonly number[];
  /** Time waited so far by requests without a first token at the end of the run (ms): lower bounds. */
  readonly censoredMs: readonly number[];
}

/** Share of requests whose TTFT is within `budgetMs` (1 when no request can be judged). */
export function sloAttainment(s: TtftSample, budgetMs: number): number {
  let hits = 0;
  let misses = 0;
  for (const t of s.servedMs) {
    if (t <= budgetMs) hits++;
    else misses++;
  }
  for (const t of s.censoredMs) if (t > budgetMs) misses++;
  return hits + misses === 0 ? 1 : hits / (hits + misses);
}

/** Nearest-rank percentile (q in (0, 1]) of the TTFTs, censored ones at their lower bound; 0 without requests. */
export function ttftPercentileMs(s: TtftSample, q: number): number {
  const all = [...s.servedMs, ...s.censoredMs].sort((a, b) => a - b);
  if (all.length === 0) return 0;
  const i = Math.min(all.length - 1, Math.max(0, Math.ceil(q * all.length) - 1));
  return all[i] ?? 0;
}

/** Replica-minutes (pending pods included) weighted by each variant's cost. */
export function gpuCost(
  replicaMsByDeployment: ReadonlyMap<string, number>,
  costOf: (deployment: string) => number,
): number {
  let cost = 0;
  for (const [dep, ms] of replicaMsByDeployment) cost += (ms / 60_000) * costOf(dep);
  return cost;
}

/** One cycle of the loop as the figures need it. */
export interface CycleFigures {
  readonly atMs: number;
  /** Replicas before the HPA's sync (all variants, pending included). */
  readonly current: number;
  /** Replicas the HPA set in this cycle. */
  readonly desired: number;
  /** Requests waiting (gateway and replicas' queues) at the cycle. */
  readonly backlog: number;
}

export interface WrongAction {
  readonly atMs: number;
  readonly kind: 'up-while-falling' | 'flap';
  readonly detail: string;
}

/**
 * Wrong-direction actions (issue 20): (a) a scale-up while the offered rate over the last 2 minutes
 * falls (the last minute's rate below the minute before's by more than 10 %) and no backlog grows
 * (the backlog now is not above the backlog 2 minutes ago); (b) a scale-down followed within 5
 * minutes by a scale-up although the offered rate (over the minute before each) did not rise by more
 * than 10 %: flapping, counted once per scale-down. `rate(fromMs, toMs)` is the offered rate
 * (arrivals per second) over a window. Cycles must be in time order.
 */
export function wrongDirectionActions(
  cycles: readonly CycleFigures[],
  rate: (fromMs: number, toMs: number) => number,
): WrongAction[] {
  const out: WrongAction[] = [];
  const backlogAt = (ms: number): number | undefined => {
    let b: number | undefined;
    for (const c of cycles) {
      if (c.atMs > ms) break;
      b = c.backlog;
    }
    return b;
  };
  const lastMinute = (t: number): number => rate(t - WINDOW_MS, t);
  for (const [i, c] of cycles.entries()) {
    if (c.desired > c.current && c.atMs >= FALLING_WINDOW_MS) {
      const before = rate(c.atMs - FALLING_WINDOW_MS, c.atMs - WINDOW_MS);
      const now = lastMinute(c.atMs);
      const earlier = backlogAt(c.atMs - FALLING_WINDOW_MS);
      const backlogGrows = earlier === undefined || c.backlog > earlier;
      if (now < before * (1 - RATE_CHANGE) && !backlogGrows) {
        out.push({
          atMs: c.atMs,
          kind: 'up-while-falling',
          detail:
            `${c.current} -> ${c.desired} with ${before.toFixed(2)} -> ${now.toFixed(2)} req/s, ` +
            `backlog ${earlier ?? 0} -> ${c.backlog}`,
        });
      }
    }
    if (c.desired < c.current) {
      const downRate = lastMinute(c.atMs);
      for (const u of cycles.slice(i + 1)) {
        if (u.atMs - c.atMs > FLAP_WINDOW_MS) break;
        if (u.desired > u.current && lastMinute(u.atMs) <= downRate * (1 + RATE_CHANGE)) {
          out.push({
            atMs: c.atMs,
            kind: 'flap',
            detail:
              `${c.current} -> ${c.desired}, then ${u.current} -> ${u.desired} ${(u.atMs - c.atMs) / 1000} s later ` +
              `at ${lastMinute(u.atMs).toFixed(2)} vs ${downRate.toFixed(2)} req/s`,
          });
          break;
        }
      }
    }
  }
  return out;
}

/** Highest replica count the run had (set by the HPA or present before a sync). */
export function peakReplicas(cycles: readonly Pick<CycleFigures, 'current' | 'desired'>[]): number {
  return cycles.reduce((m, c) => Math.max(m, c.current, c.desired), 0);
}

/** Minutes in which a request that started waited longer than the budget. */
export function overBudgetMinutes(maxWaitMsPerMinute: readonly number[], budgetMs: number): number {
  return maxWaitMsPerMinute.filter((w) => w > budgetMs).length;
}

/** The figures the JSON output reports per policy (attainments as fractions 0–1). */
export interface PolicyFigures {
  readonly policy: string;
  readonly sloAttainment2s: number;
  readonly sloAttainment10s: number;
  readonly p95TtftS: number;
  readonly p99TtftS: number;
  readonly gpuCost: number;
  readonly wrongDirection: number;
  readonly overBudgetMinutes: number;
  readonly peakReplicas: number;
}

export interface FigureInputs {
  readonly policy: string;
  readonly ttft: TtftSample;
  readonly replicaMsByDeployment: ReadonlyMap<string, number>;
  readonly costOf: (deployment: string) => number;
  readonly cycles: readonly CycleFigures[];
  readonly rate: (fromMs: number, toMs: number) => number;
  readonly maxWaitMsPerMinute: readonly number[];
  readonly waitBudgetMs: number;
}

export function policyFigures(x: FigureInputs): PolicyFigures {
  return {
    policy: x.policy,
    sloAttainment2s: sloAttainment(x.ttft, 2000),
    sloAttainment10s: sloAttainment(x.ttft, 10_000),
    p95TtftS: ttftPercentileMs(x.ttft, 0.95) / 1000,
    p99TtftS: ttftPercentileMs(x.ttft, 0.99) / 1000,
    gpuCost: gpuCost(x.replicaMsByDeployment, x.costOf),
    wrongDirection: wrongDirectionActions(x.cycles, x.rate).length,
    overBudgetMinutes: overBudgetMinutes(x.maxWaitMsPerMinute, x.waitBudgetMs),
    peakReplicas: peakReplicas(x.cycles),
  };
}

// ---------------------------------------------------------------------------------------------
// Issue 22: minutes meeting a latency objective, and how fast a learned service model converges
// ---------------------------------------------------------------------------------------------

/** One request's time to first token, by its arrival (censored requests at their lower bound). */
export interface TtftByArrival {
  readonly arrivedAtMs: number;
  readonly ttftMs: number;
}

/**
 * Nearest-rank p95 TTFT of the requests that arrived in each minute of [0, durationMs); undefined for a minute without
 * arrivals (it is neither met nor missed).
 */
export function minuteP95TtftMs(
  requests: readonly TtftByArrival[],
  durationMs: number,
  minuteMs = WINDOW_MS,
): (number | undefined)[] {
  const minutes = Math.ceil(durationMs / minuteMs);
  const buckets: number[][] = Array.from({ length: minutes }, () => []);
  for (const r of requests) {
    const m = Math.floor(r.arrivedAtMs / minuteMs);
    if (m >= 0 && m < minutes) buckets[m]?.push(r.ttftMs);
  }
  return buckets.map((b) => (b.length === 0 ? undefined : ttftPercentileMs({ servedMs: b, censoredMs: [] }, 0.95)));
}

/** Per minute: its p95 TTFT meets the target (undefined: no arrivals). */
export function minutesMeeting(series: readonly (number | undefined)[], targetMs: number): (boolean | undefined)[] {
  return series.map((p) => (p === undefined ? undefined : p <= targetMs));
}

/**
 * Share of the minutes (with arrivals) whose p95 TTFT meets the target; with `where`, only over the minutes where
 * `where` is true (the reactive oracle met it). Undefined when no minute counts.
 */
export function minuteAttainment(
  met: readonly (boolean | undefined)[],
  where?: readonly (boolean | undefined)[],
): number | undefined {
  let n = 0;
  let hits = 0;
  for (const [i, m] of met.entries()) {
    if (m === undefined) continue;
    if (where && where[i] !== true) continue;
    n++;
    if (m) hits++;
  }
  return n === 0 ? undefined : hits / n;
}

/** Step-time parameters (ms): α + β·(tokens computed) + γ·(KV tokens read), the fleet's step model. */
export interface StepParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** One engine step: tokens computed and KV tokens read. */
export interface StepShape {
  readonly tokens: number;
  readonly kvTokens: number;
}

/**
 * The steps a scenario's replica typically runs, from its mean prompt and output tokens: 16 sequences decoding at the
 * mean context (prompt + half the output), and the same step with one mean prompt prefilled in it (chunked prefill
 * mixes them). 16: a batch both an H100 and an L4 hold at these mixes (an L4 holds ~31 k KV tokens).
 */
export function typicalSteps(promptTokens: number, outputTokens: number): StepShape[] {
  const context = promptTokens + outputTokens / 2;
  const decode = { tokens: 16, kvTokens: 16 * context };
  return [decode, { tokens: decode.tokens + promptTokens, kvTokens: decode.kvTokens + promptTokens }];
}

/** Largest relative error of the learned step time over the steps. */
export function stepTimeError(learned: StepParams, truth: StepParams, steps: readonly StepShape[]): number {
  const t = (p: StepParams, s: StepShape): number => p.alpha + p.beta * s.tokens + p.gamma * s.kvTokens;
  return steps.reduce((m, s) => Math.max(m, Math.abs(t(learned, s) - t(truth, s)) / t(truth, s)), 0);
}

/** What a policy had learned of one variant at a cycle (undefined: nothing yet). */
export interface LearnedSample {
  readonly atMs: number;
  readonly model: StepParams | undefined;
}

/** Within this share of the true step time, the learned model has converged. */
export const CONVERGED_ERROR = 0.1;

/**
 * Time from `fromMs` to the first sample in [fromMs, toMs) from which every later sample of the window predicts the
 * true step time within 10 % over the typical steps (it converged and stayed); undefined when it never does.
 */
export function convergenceMs(
  samples: readonly LearnedSample[],
  truth: StepParams,
  steps: readonly StepShape[],
  fromMs: number,
  toMs: number,
  tolerance = CONVERGED_ERROR,
): number | undefined {
  const window = samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
  let since: number | undefined;
  for (const s of window) {
    const ok = s.model !== undefined && stepTimeError(s.model, truth, steps) <= tolerance;
    if (!ok) since = undefined;
    else since ??= s.atMs;
  }
  return since === undefined ? undefined : since - fromMs;
}
