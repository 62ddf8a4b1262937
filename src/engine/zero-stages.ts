/**
 * Steps 6 and 7 of DESIGN.md's engine: a model at zero (wake on demand, stay at zero, or keep one
 * replica) and a model that may go to zero.
 *
 * Step 7: a model at zero wakes on gateway queue > 0 or any running/waiting request in fresh or
 * stale metrics; its cheapest variant that may run gets 1 (the demand probe wakes through the same
 * function). A model at zero whose previous decision was > 0 is waking (replicas starting): it
 * holds, so a slow metrics cache cannot send it straight back to zero.
 * Step 6: scale to zero needs fresh and complete data, requestsOverRetention exactly 0 (undefined
 * is missing, not idle), nothing running or waiting, no pending replica and no queue at the
 * gateway (an absent gateway signal is read as "no gateway", not as demand).
 */
import type { ScaleToZeroConfig } from '../domain/saturation.js';
import { formatDuration } from '../config/duration.js';
import {
  cheapestFirst,
  currentReplicas,
  heldReplicas,
  inOrder,
  stage,
  zeroReplicas,
  type ModelContext,
  type StageResult,
  type Unavailable,
} from './model-context.js';
import { reasonNote, traceNote, type Note } from './notes.js';
import { fmt, type ModelAnalysis, type VariantState } from './saturation-analyzer.js';

/** The cheapest variant that may run (`byCost` cheapest first) gets 1 replica; `why` names the demand. */
export function wakeCheapest(byCost: readonly VariantState[], why: string): StageResult {
  const desired = new Map(byCost.map((s) => [s.variant.key, s.current]));
  const target = byCost.find((s) => s.variant.maxReplicas > 0);
  const notes: Note[] = [reasonNote(7, 'wake', why)];
  if (target) {
    desired.set(target.variant.key, 1);
    notes.push(
      reasonNote(7, 'wake-variant', '+1 (cheapest variant wakes)', target.variant.key),
      traceNote(7, 'wake', `${why} -> ${target.variant.key} gets 1`),
    );
  } else {
    notes.push(traceNote(7, 'wake-no-variant', `${why}: every variant has max 0`));
  }
  return stage('scale-from-zero', desired, notes);
}

/**
 * A model at zero: waking, woken by demand, no decision possible, at zero, or kept at one.
 * Undefined when not at zero.
 */
export function atZero(ctx: ModelContext): StageResult | Unavailable | undefined {
  const a = ctx.analysis;
  if (!a.atZero) return undefined;
  if (ctx.hasPrevious && ctx.previousSum > 0) {
    // Already woken (or scaled to zero by someone else while we decided > 0): never undo it here.
    return stage('hold', heldReplicas(ctx), [
      reasonNote(7, 'waking', 'waking: holding the previous decision until replicas start'),
      traceNote(7, 'waking', 'at zero, previous decision > 0: waking, hold'),
    ]);
  }
  const demand = (a.gatewayQueue ?? 0) > 0 || a.running > 0 || a.waiting > 0;
  if (a.freshness !== 'unavailable' && demand) {
    return wakeCheapest(
      inOrder(ctx, cheapestFirst),
      `scale from zero: demand (gateway queue ${a.gatewayQueue ?? 'n/a'}, running ${a.running}, waiting ${a.waiting})`,
    );
  }
  if (a.freshness === 'unavailable' && !ctx.hasPrevious)
    return { action: 'unavailable', reason: a.missingReason ?? 'metrics unavailable' };
  if (ctx.scaleToZero.enabled) {
    const notes = [
      reasonNote(6, 'at-zero', 'at zero, no demand'),
      traceNote(6, 'at-zero', 'at zero with scale to zero enabled and no demand: stay at zero'),
    ];
    return stage('at-zero', zeroReplicas(ctx), notes, true);
  }
  return stage('floor', currentReplicas(ctx), [
    traceNote(6, 'zero-disabled', 'scale to zero disabled: model keeps at least one replica'),
  ]);
}

/** Whether the model may go to zero now, and why (not). */
export function scaleToZeroVerdict(a: ModelAnalysis, stz: ScaleToZeroConfig): { go: boolean; reason: string } {
  if (!stz.enabled) return { go: false, reason: 'disabled' };
  const window = formatDuration(stz.retentionMs);
  if (a.requestsOverRetention === undefined)
    return { go: false, reason: `requests over ${window} unknown (missing is not idle)` };
  if (a.requestsOverRetention > 0)
    return { go: false, reason: `${fmt(a.requestsOverRetention)} requests over ${window}` };
  if (a.dataQuality !== 'complete' || !a.demandKnown)
    return { go: false, reason: `running/waiting not known for every replica` };
  if (a.running > 0 || a.waiting > 0) return { go: false, reason: `${a.running} running, ${a.waiting} waiting` };
  if ((a.gatewayQueue ?? 0) > 0) return { go: false, reason: `${a.gatewayQueue} queued at the gateway` };
  if (a.pendingTotal > 0) return { go: false, reason: `${a.pendingTotal} replica(s) pending` };
  return { go: true, reason: `0 requests over ${window}, nothing running, waiting or queued -> all variants 0` };
}

export function scaleToZero(ctx: ModelContext, reason: string): StageResult {
  return stage('scale-to-zero', zeroReplicas(ctx), [reasonNote(6, 'to-zero', `idle: ${reason}`)], true);
}
