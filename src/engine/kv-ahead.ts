/**
 * Look-ahead on KV use before any per-replica rate is known (pure; WVA_LOOKAHEAD). Until a replica
 * has run flat out or near its KV target, throughput sizing cannot say what the arrivals need, and
 * step 2 judges saturation on KV use as it is. Under a load that arrives all at once, a fresh
 * replica's KV climbs most of the way to the threshold within one cycle (nothing finishes yet, every
 * running request keeps growing), so step 2 sees saturation one cycle after the decision that could
 * have started the next replica: a start-up late. Where the replicas' mean KV use now, carried
 * forward at its growth since the previous cycle over the next start-up, reaches the KV threshold,
 * the model grows early: as many replicas as keep that KV per replica at the target, bounded as the
 * arrival forecast is (WVA_LOOKAHEAD_MAX_FRACTION of current, at least 1) and by DESIGN's cap.
 * Once a rate is known, the throughput need and the arrival forecast (lookahead.ts) size instead.
 * Like every forecast, it adds capacity early and never removes any: falling or flat KV does nothing.
 */
import { stage, type ModelContext, type StageResult } from './model-context.js';
import { nextStartup } from './lookahead.js';
import { reasonNote, traceNote } from './notes.js';
import { fmt } from './saturation-analyzer.js';
import { placeNewReplicas } from './scale-up.js';
import { replicasNeeded, scaleUpCap } from './sizing.js';

/** The early scale-up the KV trend asks for, or undefined when it asks for none. */
export function kvAhead(ctx: ModelContext): StageResult | undefined {
  const a = ctx.analysis;
  const kv = ctx.state.kv;
  if (!ctx.features.lookahead || kv?.slopePerS === undefined || !(kv.slopePerS > 0)) return undefined;
  if (ctx.learnedRate !== undefined || a.saturatedReplicaRate !== undefined) return undefined;
  const current = a.currentTotal;
  if (current === 0) return undefined;
  const h = nextStartup(ctx);
  const ahead = kv.mean + kv.slopePerS * h.seconds;
  if (ahead < a.thresholds.kvCacheThreshold) return undefined;
  // Pending replicas are capacity (step 3 counts them so): only a need beyond them grows the model.
  const needed = replicasNeeded(ahead * kv.replicas, ctx.kvPerReplica);
  const maxExtra = Math.max(1, Math.floor(current * ctx.features.lookaheadMaxFraction));
  const add = Math.min(needed - current, maxExtra, scaleUpCap(current, ctx.maxScaleUpRate) - current);
  if (!(add > 0)) return undefined;
  const { desired, placed, notes } = placeNewReplicas(ctx, add);
  const text =
    `look-ahead: +${placed} early: KV use ${fmt(kv.mean)} rising ${fmt(kv.slopePerS)}/s reaches ${fmt(ahead)} ` +
    `in ${Math.round(h.seconds)}s (start-up ${h.learned ? 'learned' : 'from the setting'}), above the ` +
    `${fmt(a.thresholds.kvCacheThreshold)} threshold; no per-replica rate known yet (needed ${needed})`;
  notes.push(reasonNote(3, 'lookahead-kv', text), traceNote(3, 'lookahead-kv', text));
  return stage(placed > 0 ? 'scale-up' : 'hold', desired, notes);
}
