/**
 * Steps 3-4 in SLO mode (pure): how many replicas each variant needs to keep the predicted p95
 * TTFT and ITL within the model's targets (slo-sizing.ts), in place of the saturation need. Only
 * the sizing differs: the dispatcher (capacity-targets.ts) still runs scale to zero, the holds on
 * missing or stale data, the bounds and the floor around it, and placement bounds the result.
 *
 * Contract of `sloStage(ctx)`:
 *  - `{ fallback }` (saturation sizing decides, with this note saying why) when: arrivals are not
 *    measured this cycle, the model's token counts are unknown, a variant with replicas has a model
 *    its replicas' measurement contradicts this cycle (note `slo-model-contradicted`, with the
 *    replica, what it measured and what the model predicted: the model is not confident whatever
 *    its covariance says), no variant's learned model is confident yet, a variant with replicas is
 *    still learning (its capacity is unknown, so the model's is), or no confident variant can meet
 *    the targets at all.
 *  - Otherwise `{ result }`:
 *    - up: the demand is the arrivals' trend level (arrival-trend.ts; the arrivals measured this
 *      cycle before the trend has one), raised by the look-ahead forecast (lookahead.ts), plus the
 *      gateway backlog served within BACKLOG_DRAIN_S. Not this cycle's arrivals: their queue-growth
 *      term jumps with every burst the backlog term already sizes, and a replica asked for on a jump
 *      stays through the HPA's scale-down window. A variant the plan gives more than it has
 *      grows to the plan; none shrinks in the same cycle (never move against the load). The
 *      model grows by at most maxScaleUpRate x current (DESIGN's cap), first to the variants
 *      cheapest per unit of capacity; pending replicas count as capacity (no new ones while
 *      pending ones cover the plan).
 *    - down: only with no pending replica and nothing queued at the gateway, sized for the
 *      highest of arrivals now, their trend level and their peak within the last minute, plus
 *      DOWN_HEADROOM, so the next cycles do not undo it; each variant shrinks to that plan.
 *    - else hold.
 *  - Variants that are still learning and have no replica get none here (no capacity to count on).
 */
import {
  cheapestFirst,
  currentReplicas,
  inOrder,
  stage,
  type ModelContext,
  type StageResult,
} from '../model-context.js';
import { forecastOf } from '../lookahead.js';
import { recentPeakLevel } from '../model-state.js';
import { reasonNote, traceNote, type Note } from '../notes.js';
import { fmt } from '../saturation-analyzer.js';
import { BACKLOG_DRAIN_S, measuredArrivals, scaleUpCap, waitingLoad } from '../sizing.js';
import type { Contradiction } from './contradiction.js';
import { sizeForSlo, type SloPlan, type SloVariant } from './slo-sizing.js';

/** A scale-down is sized for this much more than the highest recent arrivals. */
export const DOWN_HEADROOM = 0.1;

export type SloStageOutcome = { readonly result: StageResult } | { readonly fallback: readonly Note[] };

type FallbackCode = 'slo-fallback' | 'slo-model-contradicted';

function fallback(why: string, code: FallbackCode = 'slo-fallback'): SloStageOutcome {
  const text = `SLO mode: sized by saturation: ${why}`;
  return { fallback: [reasonNote(3, code, text), traceNote(3, code, text)] };
}

function contradictionText(key: string, c: Contradiction, ctx: ModelContext): string {
  const what = c.kind === 'ttft' ? 'p95 TTFT' : 'ITL';
  const target = c.kind === 'ttft' ? ctx.slo?.target.ttftMs : ctx.slo?.target.itlMs;
  return (
    `${key}'s service model is contradicted: ${c.pod} measured ${what} ${Math.round(c.measuredMs)} ms ` +
    `(target ${target} ms) at ${fmt(c.rate)}/s where the model predicts ${Math.round(c.predictedMs)} ms; re-learning`
  );
}

function planText(ctx: ModelContext, plan: SloPlan, demand: number): string {
  const t = ctx.slo?.target;
  const caps = plan.capacities
    .filter((c) => c.perReplica > 0)
    .map((c) => `${c.key} ${fmt(c.perReplica)}/s per replica`)
    .join(', ');
  const unmet = plan.unmet > 0 ? `; ${fmt(plan.unmet)}/s beyond every variant's max` : '';
  const m = ctx.slo?.measured;
  const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : `${Math.round(v)} ms`);
  const measured =
    m && (m.ttftP95Ms !== undefined || m.itlMs !== undefined)
      ? `; measured: p95 TTFT ${ms(m.ttftP95Ms)}, ITL ${ms(m.itlMs)} (highest replica)`
      : '';
  return `demand ${fmt(demand)}/s within p95 TTFT ${t?.ttftMs} ms and ITL ${t?.itlMs} ms (${caps})${unmet}${measured}`;
}

function totalOf(m: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

/** The variants SLO sizing may use, or why it may not size the model. */
function sizable(ctx: ModelContext): { variants: SloVariant[] } | { why: string; code?: FallbackCode } {
  const slo = ctx.slo;
  if (!slo?.workloads) return { why: 'prompt and output tokens per request not measured yet' };
  const variants: SloVariant[] = [];
  for (const s of ctx.states) {
    const key = s.variant.key;
    const contradicted = slo.contradictions?.get(key);
    if (contradicted && s.current > 0)
      return { why: contradictionText(key, contradicted, ctx), code: 'slo-model-contradicted' };
    const learned = ctx.state.service.get(key);
    const workload = slo.workloads.get(key);
    if (!learned?.confident || !workload) {
      if (s.current > 0)
        return { why: `learning ${key}'s service model (${learned?.samples ?? 0} samples, not confident yet)` };
      continue;
    }
    variants.push({ key, cost: s.variant.cost, maxReplicas: s.variant.maxReplicas, model: learned, workload });
  }
  if (variants.length === 0) return { why: 'no variant has a confident service model yet' };
  return { variants };
}

/** A scale-up to the plan: no variant shrinks, the model grows by at most the cap, cheapest per capacity first. */
function up(ctx: ModelContext, plan: SloPlan, text: string): StageResult {
  const desired = currentReplicas(ctx);
  const current = ctx.analysis.currentTotal;
  let room = Math.max(0, scaleUpCap(current, ctx.maxScaleUpRate) - current);
  const notes: Note[] = [];
  let added = 0;
  for (const c of plan.capacities) {
    const want = plan.replicas.get(c.key) ?? 0;
    const have = desired.get(c.key) ?? 0;
    const add = Math.min(Math.max(0, want - have), room);
    if (add <= 0) continue;
    desired.set(c.key, have + add);
    room -= add;
    added += add;
    notes.push(reasonNote(3, 'variant-grows', `+${add} (cheapest per unit of capacity at the target)`, c.key));
  }
  const capped =
    totalOf(plan.replicas) > totalOf(desired) ? ` [capped: maxScaleUpRate ${ctx.maxScaleUpRate} x ${current}]` : '';
  const why = `SLO sizing: scale up by ${added}: ${text}${capped}`;
  notes.push(reasonNote(3, 'slo-size', why), traceNote(3, 'slo-size', why));
  // What a replica of each variant is worth at the targets: placement spills by it, not one for one.
  const capacities = new Map(plan.capacities.filter((c) => c.perReplica > 0).map((c) => [c.key, c.perReplica]));
  return { ...stage(added > 0 ? 'scale-up' : 'hold', desired, notes), capacities };
}

function hold(ctx: ModelContext, why: string): StageResult {
  const text = `SLO sizing: hold: ${why}`;
  return stage('hold', currentReplicas(ctx), [reasonNote(3, 'slo-size', text), traceNote(3, 'slo-size', text)]);
}

export function sloStage(ctx: ModelContext): SloStageOutcome {
  const slo = ctx.slo;
  if (!slo) return fallback('no objective');
  const a = ctx.analysis;
  const queue = waitingLoad(a);
  const m = measuredArrivals(a, queue, ctx.previousLoad);
  if (!m) return fallback('arrivals not measured this cycle (no completion rate)');
  const ok = sizable(ctx);
  if ('why' in ok) return fallback(ok.why, ok.code);
  const backlog = (a.gatewayQueue ?? 0) / BACKLOG_DRAIN_S;
  const f = forecastOf(ctx);
  const demandUp = (ctx.state.arrivals?.level ?? m.arrivals) * (f?.factor ?? 1) + backlog;
  const plan = sizeForSlo(ok.variants, demandUp, slo.target);
  if (plan.capacities.every((c) => !(c.perReplica > 0)))
    return fallback(`no variant meets p95 TTFT ${slo.target.ttftMs} ms and ITL ${slo.target.itlMs} ms even idle`);
  const text = planText(ctx, plan, demandUp);
  const grows = ctx.states.some((s) => (plan.replicas.get(s.variant.key) ?? 0) > s.current);
  if (grows) {
    if (a.pendingTotal > 0 && totalOf(plan.replicas) <= a.currentTotal)
      return { result: hold(ctx, `${a.pendingTotal} pending replica(s) cover the plan (${text})`) };
    return { result: up(ctx, plan, text) };
  }
  if (a.pendingTotal > 0) return { result: hold(ctx, `no scale-down while replicas are pending (${text})`) };
  if ((a.gatewayQueue ?? 0) > 0)
    return { result: hold(ctx, `no scale-down while requests queue at the gateway (${text})`) };
  const highest = Math.max(m.arrivals, ctx.state.arrivals?.level ?? 0, recentPeakLevel(ctx.state) ?? 0);
  const demandDown = highest * (1 + DOWN_HEADROOM) + backlog;
  const down = sizeForSlo(ok.variants, demandDown, slo.target);
  const desired = currentReplicas(ctx);
  const notes: Note[] = [];
  let removed = 0;
  // Most expensive per unit of capacity shrinks first in the notes' order; every variant goes to its plan.
  for (const s of inOrder(ctx, cheapestFirst).reverse()) {
    const key = s.variant.key;
    if (!ok.variants.some((v) => v.key === key)) continue;
    const target = down.replicas.get(key) ?? 0;
    if (target >= s.current) continue;
    desired.set(key, target);
    removed += s.current - target;
    notes.push(reasonNote(4, 'variant-shrinks', `-${s.current - target} (SLO plan ${target})`, key));
  }
  if (removed === 0) return { result: hold(ctx, `current replicas meet the plan (${text})`) };
  const why = `SLO sizing: scale down by ${removed}: ${planText(ctx, down, demandDown)} (highest recent arrivals ${fmt(highest)}/s + ${DOWN_HEADROOM * 100}% headroom)`;
  notes.push(reasonNote(4, 'slo-size', why), traceNote(4, 'slo-size', why));
  return { result: stage('scale-down', desired, notes) };
}
