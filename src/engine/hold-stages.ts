/**
 * Holding: step 5 of DESIGN.md's engine (missing or stale metrics never scale down) and unusable
 * thresholds. With no usable metrics (none, unavailable, or no series) or stale metrics, every
 * variant holds its previous decision, or its current replicas when it has none; with no previous
 * decision and no usable metrics the model gets no decision at all, so GetMetrics answers
 * UNAVAILABLE and KEDA's fallback applies. Thresholds with a spare trigger not below its threshold
 * would need infinitely many replicas: the model holds the same way, the problem as its reason.
 */
import { heldReplicas, stage, type ModelContext, type StageResult, type Unavailable } from './model-context.js';
import { reasonNote, traceNote } from './notes.js';

const heldWhat = (ctx: ModelContext): string => (ctx.hasPrevious ? 'previous decision' : 'current replicas');

/** Undefined when the metrics are usable (fresh, or partial: a scale-up, the safe direction, is still allowed). */
export function holdOnBadData(ctx: ModelContext): StageResult | Unavailable | undefined {
  const a = ctx.analysis;
  const stale = a.freshness === 'stale';
  if (a.dataQuality !== 'none' && !stale) return undefined;
  const why = stale
    ? `metrics stale (${Math.round((a.metricsAgeMs ?? 0) / 1000)}s old)`
    : (a.missingReason ?? 'metrics missing');
  if (!ctx.hasPrevious && a.dataQuality === 'none') return { action: 'unavailable', reason: why };
  const code = stale ? 'hold-stale' : 'hold-missing';
  const notes = [
    reasonNote(5, code, `hold: ${why}`),
    traceNote(5, code, `${why}: hold ${heldWhat(ctx)}, never scale down`),
  ];
  return stage('hold', heldReplicas(ctx), notes, ctx.hasPrevious && ctx.previousSum === 0);
}

export function holdOnThresholds(ctx: ModelContext, problem: string): StageResult {
  return stage('hold', heldReplicas(ctx), [
    reasonNote(3, 'hold-thresholds', `hold: ${problem}`),
    traceNote(3, 'hold-thresholds', `${problem}: hold ${heldWhat(ctx)}, no scaling on saturation until fixed`),
  ]);
}
