/**
 * Step 4 of DESIGN.md's engine: scale down only when safe (WVA's simulation), one replica more per
 * cycle, counted from the previous decision rather than from current replicas: the HPA applies a
 * decrease only after its stabilization window (and never within its 10 % tolerance), so
 * restarting from `current` every cycle would ask for the same -1 forever and a fleet above 10
 * replicas would never shrink. Each cycle finds the largest removal, at most one more than the
 * previous decision's, that keeps the projected spare of the remaining replicas above both
 * triggers. When the load rises the decision steps back only as far as needed: jumping back to
 * `current` would refill the HPA's stabilization window with the peak. Removals go one at a time
 * to the most expensive variant above its min. Never while a replica is pending, the data is
 * incomplete or the gateway holds requests; never below the throughput need when it is known (at
 * SCALE_DOWN_UTILIZATION of the rate), nor below what the learned service model says today's token
 * mix needs (service-bound.ts).
 */
import {
  currentReplicas,
  inOrder,
  mostExpensiveFirst,
  stage,
  type ModelContext,
  type StageResult,
} from './model-context.js';
import { reasonNote, traceNote, type DesignStep, type Note, type NoteCode } from './notes.js';
import { fmt, type ModelAnalysis } from './saturation-analyzer.js';
import { throughputNeed, waitingLoad } from './sizing.js';
import { mixedSizing } from './mixed-throughput.js';
import { serviceCapacity, servedBy } from './service-bound.js';

/**
 * A scale-down leaves each replica at most this share of its rate (what it completes at its KV
 * target, learned or measured: sizing.ts), while step 3 adds replicas only once the arrivals exceed
 * all of it: the band between them lets the load rise by more than 10 % (the HPA's default
 * tolerance, and the rise issue 20's flap rule allows) before the next cycles must add the replica
 * back. Sized at the full rate, the next minutes' noise undoes the scale-down.
 */
export const SCALE_DOWN_UTILIZATION = 0.9;

interface Projection {
  readonly ok: boolean;
  readonly code: NoteCode;
  readonly why: string;
  readonly kvSpare: number;
  readonly queueSpare: number;
}

/**
 * Why too few replicas are non-saturated. Saturation is judged on the 1-minute peaks the collector
 * reports, so a replica idle now reads as saturated for up to a minute after a burst: said so, or
 * the reason contradicts the KV use shown beside it.
 */
function tooFewNonSaturated(a: ModelAnalysis): string {
  const n = a.saturatedCount;
  const peaks =
    n === 0 ? '' : ` (${n} saturated by ${n === 1 ? 'its 1-minute peak' : 'their 1-minute peaks'} of KV or queue)`;
  return `only ${a.nonSaturatedCount} non-saturated replica(s)${peaks}`;
}

/**
 * Projected spare with `removed` of the non-saturated replicas gone; with WVA V2's
 * scaleDownBoundary (`kvMax`), the projected KV use per replica must also stay at most that.
 */
function projection(a: ModelAnalysis, removed: number, kvMax?: number): Projection {
  const t = a.thresholds;
  const n = a.nonSaturatedCount - removed;
  if (n < 1)
    return { ok: false, code: 'no-scale-down-saturated', why: tooFewNonSaturated(a), kvSpare: 0, queueSpare: 0 };
  const kvSpare = t.kvCacheThreshold - a.nonSaturatedKv / n;
  const queueSpare = t.queueLengthThreshold - a.nonSaturatedQueue / n;
  const fewer = `with ${removed} replica(s) fewer`;
  if (kvSpare < t.kvSpareTrigger)
    return {
      ok: false,
      code: 'no-scale-down-spare',
      why: `${fewer} KV spare would be ${fmt(kvSpare)} < ${fmt(t.kvSpareTrigger)}`,
      kvSpare,
      queueSpare,
    };
  if (queueSpare < t.queueSpareTrigger)
    return {
      ok: false,
      code: 'no-scale-down-spare',
      why: `${fewer} queue spare would be ${fmt(queueSpare)} < ${fmt(t.queueSpareTrigger)}`,
      kvSpare,
      queueSpare,
    };
  if (kvMax !== undefined && a.nonSaturatedKv / n > kvMax)
    return {
      ok: false,
      code: 'no-scale-down-spare',
      why: `${fewer} KV use per replica would be ${fmt(a.nonSaturatedKv / n)} > ${fmt(kvMax)} (scaleDownBoundary)`,
      kvSpare,
      queueSpare,
    };
  return { ok: true, code: 'scale-down', why: '', kvSpare, queueSpare };
}

function refuse(ctx: ModelContext, code: NoteCode, why: string, step: DesignStep = 4): StageResult {
  const notes = [reasonNote(step, code, `no scale-down: ${why}`), traceNote(step, code, `no scale-down: ${why}`)];
  return stage('hold', currentReplicas(ctx), notes);
}

/** Why no scale-down can even be considered, if so. */
function precondition(ctx: ModelContext): StageResult | undefined {
  const a = ctx.analysis;
  if (a.pendingTotal > 0) return refuse(ctx, 'no-scale-down-pending', `${a.pendingTotal} replica(s) pending`);
  if (a.dataQuality !== 'complete')
    return refuse(ctx, 'no-scale-down-data', a.missingReason ?? 'metrics incomplete', 5);
  if ((a.gatewayQueue ?? 0) > 0)
    return refuse(ctx, 'no-scale-down-gateway', `${a.gatewayQueue} request(s) held at the gateway`);
  return undefined;
}

/** How far below current the previous decision already stood (the HPA has not followed yet). */
function previouslyRemoved(ctx: ModelContext): number {
  let removed = 0;
  for (const s of ctx.states) {
    const p = ctx.previous.get(s.variant.key)?.desiredReplicas;
    if (p !== undefined && p < s.current) removed += s.current - Math.max(p, s.variant.minReplicas);
  }
  return removed;
}

/** `removal` replicas off current, one at a time, from the most expensive variant above its min. */
function removeReplicas(
  ctx: ModelContext,
  removal: number,
): { desired: Map<string, number>; applied: number; notes: Note[] } {
  const desired = currentReplicas(ctx);
  const order = inOrder(ctx, mostExpensiveFirst);
  let applied = 0;
  for (; applied < removal; applied++) {
    const victim = order.find((s) => {
      const d = desired.get(s.variant.key) ?? 0;
      return d > 0 && d > s.variant.minReplicas;
    });
    if (!victim) break;
    desired.set(victim.variant.key, (desired.get(victim.variant.key) ?? 0) - 1);
  }
  const notes: Note[] = [];
  for (const s of ctx.states) {
    const removed = s.current - (desired.get(s.variant.key) ?? s.current);
    if (removed > 0)
      notes.push(
        reasonNote(
          4,
          'variant-shrinks',
          `-${removed} below current (most expensive above min first, cost ${s.variant.cost})`,
          s.variant.key,
        ),
      );
  }
  return { desired, applied, notes };
}

/** Why `applied` below current: a further step down, holding the previous one, or stepping back. */
function scaleDownNote(
  a: ModelAnalysis,
  applied: number,
  before: number,
  kvMax: number | undefined,
): { code: NoteCode; why: string } {
  const t = a.thresholds;
  const p = projection(a, applied, kvMax);
  const spare = `projected spare KV ${fmt(p.kvSpare)} >= ${fmt(t.kvSpareTrigger)}, queue ${fmt(p.queueSpare)} >= ${fmt(t.queueSpareTrigger)}`;
  if (applied > before)
    return { code: 'scale-down', why: `scale down by 1${applied > 1 ? ` (${applied} below current)` : ''}: ${spare}` };
  if (applied === before)
    return {
      code: 'holding-lower',
      why: `holding the lower decision (${applied} below current); no further scale-down: ${projection(a, applied + 1, kvMax).why}`,
    };
  return { code: 'load-rose', why: `load rose: ${applied} below current instead of ${before} (${spare})` };
}

export function scaleDown(ctx: ModelContext): StageResult {
  const refused = precondition(ctx);
  if (refused) return refused;
  const a = ctx.analysis;
  const before = previouslyRemoved(ctx);
  let removal = before + 1;
  while (removal > 0 && !projection(a, removal, ctx.scaleDownKvMax).ok) removal--;
  if (removal === 0) {
    const p = projection(a, 1, ctx.scaleDownKvMax);
    return refuse(ctx, p.code, p.why);
  }
  // Replicas that just became ready look idle to the projection while a saturated one still holds
  // a backlog; the throughput need (when known) says whether the model can really do with fewer.
  const byThroughput = throughputNeed(a, waitingLoad(a), ctx.previousLoad, {
    learnedRate: ctx.learnedRate,
    mixed: mixedSizing(ctx),
    utilization: SCALE_DOWN_UTILIZATION,
  });
  if (byThroughput && a.currentTotal - removal < byThroughput.needed) {
    removal = Math.max(0, a.currentTotal - byThroughput.needed);
    if (removal === 0)
      return refuse(
        ctx,
        'no-scale-down-throughput',
        `throughput needs ${byThroughput.needed} replica(s): ${byThroughput.why}`,
      );
  }
  // The learned rate is the mix's when it was learned; the service model prices today's mix.
  const service = serviceCapacity(ctx);
  let serviceKept = 0;
  if (service) {
    const wanted = removal;
    while (removal > 0 && servedBy(removeReplicas(ctx, removal).desired, service) < service.demand) removal--;
    if (removal === 0)
      return refuse(
        ctx,
        'no-scale-down-service',
        `${a.currentTotal - 1} replica(s) would serve less than ${service.text}`,
      );
    serviceKept = wanted - removal;
  }
  const { desired, applied, notes } = removeReplicas(ctx, removal);
  if (applied === 0) return refuse(ctx, 'no-scale-down-at-min', 'every variant at its min');
  if (service && serviceKept > 0)
    notes.push(traceNote(4, 'no-scale-down-service', `${serviceKept} replica(s) kept for ${service.text}`));
  const { code, why } = scaleDownNote(a, applied, before, ctx.scaleDownKvMax);
  notes.push(reasonNote(4, code, why), traceNote(4, code, why));
  return stage('scale-down', desired, notes);
}
