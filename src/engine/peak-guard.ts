/**
 * No scale-up from 1-minute peaks alone once the load has fallen (issue 20; WVA_PEAK_GUARD). Steps
 * 1-2 judge saturation on the collector's 1-minute peaks of KV use and queue, so for up to a minute
 * after a burst every replica still reads as saturated while it idles: DESIGN's "at least +1" then
 * bought a replica on no load (the demo's idle +1). A scale-up now needs saturation on the latest
 * samples, or arrivals that have not fallen; the reason says which. Where the latest samples are
 * missing, or the arrival trend is not known yet, the peaks decide as before.
 */
import { currentReplicas, stage, type ModelContext, type StageResult } from './model-context.js';
import { recentPeakLevel } from './model-state.js';
import { reasonNote, traceNote, type Note } from './notes.js';
import { fmt } from './saturation-analyzer.js';
import { measuredArrivals, waitingLoad } from './sizing.js';

/** Arrivals count as fallen below this share of their highest level within the last minute. */
export const FALLEN_SHARE = 0.9;

interface LoadDirection {
  readonly fell: boolean;
  readonly text: string;
}

/**
 * Whether the model's arrivals fell within the last minute with no queue growing; undefined when
 * unknown. Arrivals now are the lower of this cycle's measure and the trend's level: the level
 * alone lags a sudden drop by several cycles, the measure alone is noisier.
 */
export function loadDirection(ctx: ModelContext): LoadDirection | undefined {
  const trend = ctx.state.arrivals;
  const peak = recentPeakLevel(ctx.state);
  if (trend === undefined || peak === undefined) return undefined;
  const arrivals = Math.min(trend.level, trend.last);
  const growth = measuredArrivals(ctx.analysis, waitingLoad(ctx.analysis), ctx.previousLoad)?.growth ?? 0;
  const fell = arrivals < FALLEN_SHARE * peak && growth <= 0;
  const queue = growth > 0 ? `, queue growing ${fmt(growth)}/s` : '';
  return { fell, text: `arrivals ${fmt(arrivals)}/s, highest ${fmt(peak)}/s within the last minute${queue}` };
}

/** Why the model is saturated enough to scale up: now, or by its peaks with the load holding. */
function basisNote(ctx: ModelContext, direction: LoadDirection | undefined): Note | undefined {
  const now = ctx.analysis.now;
  if (now === undefined) return undefined;
  if (now.scaleUpNeeded) return reasonNote(3, 'saturated-now', `saturated now (${now.text})`);
  const load = direction ? `load has not fallen: ${direction.text}` : 'arrival trend not known yet';
  return reasonNote(3, 'saturated-by-peak', `saturated by its 1-minute peak (${now.text}; ${load})`);
}

/**
 * Before step 3: a hold when the scale-up would come from the peaks alone while the load has
 * fallen, else the note that says what the scale-up rests on (none when the latest samples are
 * missing: the peaks decide as before).
 */
export function peakGuard(ctx: ModelContext): { hold: StageResult | undefined; basis: Note | undefined } {
  if (!ctx.features.peakGuard) return { hold: undefined, basis: undefined };
  const direction = loadDirection(ctx);
  const now = ctx.analysis.now;
  if (now === undefined || now.scaleUpNeeded || !direction?.fell)
    return { hold: undefined, basis: basisNote(ctx, direction) };
  const why = `no scale-up: saturated by its 1-minute peak only (${now.text}) and the load has fallen (${direction.text})`;
  return {
    hold: stage('hold', currentReplicas(ctx), [reasonNote(3, 'peak-only', why), traceNote(3, 'peak-only', why)]),
    basis: undefined,
  };
}
