/**
 * Step 3 of DESIGN.md's engine: how many replicas to add, and to which variant. The need is the
 * saturation need (load over the per-replica target, the gateway's queue counted as waiting),
 * or the smaller throughput need when the replicas report completions. At least +1 (DESIGN) unless
 * the need is within current replicas and either some are pending (they cover it) or no queue
 * stands (noStandingQueue: the backlog measurably drains, or nothing waits and no queue grows).
 * Ready replicas alone never waive it: a throughput estimate that says they suffice while a queue
 * stands would leave it standing. At most maxScaleUpRate x current, pending included. New
 * replicas go one by one to the cheapest variant below its max. With a rising forecast
 * (lookahead.ts) the need is the load's one start-up ahead, bounded; with spare capacity now and a
 * forecast that needs more than current, the model grows early (scaleUpEarly).
 */
import {
  NO_CLAMPS,
  cheapestFirst,
  currentReplicas,
  inOrder,
  stage,
  type ModelContext,
  type StageResult,
} from './model-context.js';
import { lookaheadNote, type Forecast } from './lookahead.js';
import { reasonNote, traceNote, type Note } from './notes.js';
import { scaleUpNeed, type ScaleUpNeed } from './scale-up-need.js';
import { countText, measuredArrivals, scaleUpCap, waitingLoad } from './sizing.js';
import { fmt } from './saturation-analyzer.js';

/** `add` replicas, one at a time, each to the cheapest variant below its max. */
export function placeNewReplicas(
  ctx: ModelContext,
  add: number,
): { desired: Map<string, number>; placed: number; notes: Note[] } {
  const desired = currentReplicas(ctx);
  const order = inOrder(ctx, cheapestFirst);
  const given = new Map<string, number>();
  let placed = 0;
  for (; placed < add; placed++) {
    const target = order.find((s) => (desired.get(s.variant.key) ?? 0) < s.variant.maxReplicas);
    if (!target) break;
    desired.set(target.variant.key, (desired.get(target.variant.key) ?? 0) + 1);
    given.set(target.variant.key, (given.get(target.variant.key) ?? 0) + 1);
  }
  const notes: Note[] = [];
  for (const [key, n] of given) {
    const cost = ctx.states.find((x) => x.variant.key === key)?.variant.cost ?? '?';
    notes.push(reasonNote(3, 'variant-grows', `+${n} (cheapest below max, cost ${cost})`, key));
  }
  return { desired, placed, notes };
}

/** A scale-up that adds nothing this cycle. */
function holdUp(
  ctx: ModelContext,
  code: 'pending-cover-need' | 'backlog-draining' | 'rate-adds-none',
  why: string,
  step: string,
): StageResult {
  return stage('hold', currentReplicas(ctx), [reasonNote(3, code, why), traceNote(3, code, step)]);
}

/**
 * Why no queue stands, when that was measured since the previous decision: the waiting requests
 * fell, or none wait at the gateway, no queue grew and the latest samples saturate nothing (the
 * 1-minute peaks alone asked for the scale-up). Undefined otherwise
 * (growing, or unknown). DESIGN's +1 guards against a need estimate that says the current replicas
 * suffice while a queue stands; with none standing, the estimate is borne out.
 */
function noStandingQueue(ctx: ModelContext): string | undefined {
  const m = measuredArrivals(ctx.analysis, waitingLoad(ctx.analysis), ctx.previousLoad);
  if (!m?.growthKnown) return undefined;
  if (m.growth < 0) return `the backlog shrinks by ${fmt(-m.growth)}/s`;
  const a = ctx.analysis;
  if (m.growth === 0 && (a.gatewayQueue ?? 0) === 0 && a.now?.scaleUpNeeded === false)
    return `nothing waits at the gateway, no queue grows and the latest samples need no scale-up (${a.now.text})`;
  return undefined;
}

/** The need now, raised by the forecast when the load ahead needs more (by at most its bound). */
function needAhead(ctx: ModelContext, f: Forecast | undefined): ScaleUpNeed & { notes: Note[] } {
  const now = scaleUpNeed(ctx);
  if (!f || !Number.isFinite(now.needed)) return { ...now, notes: [] };
  const extra = Math.min(f.maxExtra, scaleUpNeed(ctx, f.factor).needed - now.needed);
  if (!(extra > 0)) return { ...now, notes: [] };
  const notes = lookaheadNote('lookahead', f, `+${extra} for the load in ${Math.round(f.horizonS)}s`);
  return { ...now, needed: now.needed + extra, notes };
}

/**
 * Spare capacity now, but the forecast's load needs more than current: grow early (at most its
 * bound and the rate cap); needs exactly current: hold (no scale-down of what the load ahead
 * needs). Undefined when the load ahead needs fewer than current: step 4 decides.
 */
export function scaleUpEarly(ctx: ModelContext, f: Forecast): StageResult | undefined {
  const current = ctx.analysis.currentTotal;
  const ahead = scaleUpNeed(ctx, f.factor).needed;
  if (!Number.isFinite(ahead) || ahead < current || current === 0) return undefined;
  const add = Math.min(ahead - current, f.maxExtra, Math.max(0, scaleUpCap(current, ctx.maxScaleUpRate) - current));
  if (add <= 0)
    return stage('hold', currentReplicas(ctx), lookaheadNote('lookahead-holds', f, `the load ahead needs ${ahead}`));
  const { desired, placed, notes } = placeNewReplicas(ctx, add);
  notes.push(
    ...lookaheadNote('lookahead', f, `+${placed} early: the load ahead needs ${ahead} replicas, ${current} now`),
  );
  return stage(placed > 0 ? 'scale-up' : 'hold', desired, notes);
}

export function scaleUp(ctx: ModelContext, f?: Forecast): StageResult {
  const a = ctx.analysis;
  const { needed, load, capacities, notes: ahead } = needAhead(ctx, f);
  const current = a.currentTotal;
  const rate = ctx.maxScaleUpRate;
  if (a.pendingTotal > 0 && needed <= current) {
    const why = `${a.pendingTotal} pending replica(s) cover the need (needed ${needed} <= current ${current})`;
    return holdUp(ctx, 'pending-cover-need', why, `${load}: ${why}, no more`);
  }
  const drained = needed <= current ? noStandingQueue(ctx) : undefined;
  if (drained !== undefined) {
    const why = `the ${current} replica(s) cover the need (needed ${needed}) and ${drained}`;
    return holdUp(ctx, 'backlog-draining', why, `${load}: ${why}, no more`);
  }
  // DESIGN's cap, x current (pending included): it compounds while replicas start (1 -> 2 -> 4 -> 8
  // within one start-up), which is what a burst needs; the need itself, not the cap, stops it.
  const rateMax = Math.max(0, scaleUpCap(current, rate) - current);
  if (rateMax === 0) {
    const why = `maxScaleUpRate ${rate} x ${current} current adds no replica (needed ${countText(needed)})`;
    return holdUp(ctx, 'rate-adds-none', why, `${load}: ${why}`);
  }
  const wanted = Math.max(1, needed - current);
  const add = Math.min(wanted, rateMax);
  const rateClamp =
    wanted > rateMax
      ? `rate: +${countText(wanted)} capped to +${rateMax} (maxScaleUpRate ${rate} x ${current} current)`
      : undefined;
  const placement = placeNewReplicas(ctx, add);
  const { desired, placed } = placement;
  const notes = [...ahead, ...placement.notes];
  const atMax = add > placed ? `all variants at max: ${add - placed} replica(s) not placed` : undefined;
  const modelClamp = [rateClamp, atMax].filter((c): c is string => c !== undefined).join('; ');
  const clamps = modelClamp === '' ? NO_CLAMPS : new Map(ctx.states.map((s) => [s.variant.key, modelClamp]));
  const clampText = modelClamp ? ` [${modelClamp}]` : '';
  notes.push(
    placed > 0
      ? reasonNote(3, 'scale-up', `scale up by ${placed}: needed ${countText(needed)} replicas (${load})`)
      : reasonNote(3, 'at-max', `hold at max: needed ${countText(needed)} replicas (${load}), no variant has room`),
    traceNote(
      3,
      'scale-up',
      `needed ${countText(needed)} for ${load}; current ${current} (${a.pendingTotal} pending) -> +${placed}${clampText}`,
    ),
  );
  return { action: placed > 0 ? 'scale-up' : 'hold', desired, notes, clamps, zeroAllowed: false, capacities };
}
