/**
 * Look-ahead (issue 20; WVA_LOOKAHEAD): size for the load one pod start-up ahead. The horizon is
 * the start-up of the variant that would get the next replica (learned from pending -> ready, else
 * WVA_STARTUP_SECONDS); the load ahead is the arrival trend's forecast over its level now
 * (arrival-trend.ts), applied to the load the need is computed from. A forecast adds capacity
 * early, never removes it early: a falling one is ignored, and a rising one holds what would be
 * needed one start-up ahead against a scale-down. Its contribution is bounded: the factor by
 * 1 + WVA_LOOKAHEAD_MAX_FRACTION, the replicas it adds by that fraction of current (at least 1).
 * Forecasts within DEAD_BAND of the level are noise and add nothing.
 */
import { forecast } from './arrival-trend.js';
import { cheapestFirst, inOrder, type ModelContext } from './model-context.js';
import { reasonNote, traceNote, type Note, type NoteCode } from './notes.js';
import { fmt } from './saturation-analyzer.js';
import { learnedStartupS } from './startup-learning.js';

/** A forecast less than this fraction above the level adds nothing. */
export const DEAD_BAND = 0.05;
/** Levels below this (req/s) have no meaningful relative trend. */
export const MIN_LEVEL = 0.05;

export interface Forecast {
  /** Load ahead over load now, in (1 + DEAD_BAND, 1 + maxFraction]. */
  readonly factor: number;
  readonly horizonS: number;
  /** The most replicas the forecast may add. */
  readonly maxExtra: number;
  /** e.g. "arrivals 10.00/s rising 0.10/s/s: 16.00/s expected in 60s (start-up learned)". */
  readonly text: string;
}

/** The start-up of the variant that would get the next replica: learned, else the setting. */
export function nextStartup(ctx: ModelContext): { seconds: number; learned: boolean } {
  const next = inOrder(ctx, cheapestFirst).find((s) => s.current < s.variant.maxReplicas) ?? ctx.states[0];
  const learned = next ? learnedStartupS(ctx.state.startup.get(next.variant.key)) : undefined;
  return learned !== undefined
    ? { seconds: learned, learned: true }
    : { seconds: ctx.features.startupMs / 1000, learned: false };
}

/**
 * Seconds until each pending replica serves, by variant key, against the start-up `startup`
 * (nextStartup): that start-up less the time the replica has been starting. A learned start-up is
 * measured from when the engine first saw a replica pending (startup-learning.ts), so the age is
 * counted from then too; the setting is from the pod's creation, which came after the decision
 * before the engine first saw it: the gap since the previous decision is added. A replica whose
 * start is unknown (pending before the engine watched, or no time given) is taken as half-way.
 */
export function pendingReadyInS(
  ctx: ModelContext,
  startup: { readonly seconds: number; readonly learned: boolean },
): ReadonlyMap<string, readonly number[]> {
  const out = new Map<string, number[]>();
  const unseenS = startup.learned ? 0 : (ctx.previousLoad?.dtS ?? 0);
  for (const s of ctx.states) {
    const pending = Math.max(0, s.current - Math.min(s.ready, s.current));
    if (pending === 0) continue;
    const since = ctx.state.startup.get(s.variant.key)?.pendingSince ?? [];
    const left: number[] = [];
    for (let i = 0; i < pending; i++) {
      const t = since[i];
      left.push(
        t === undefined || ctx.now === undefined
          ? startup.seconds / 2
          : Math.max(0, startup.seconds - (ctx.now - t) / 1000 - unseenS),
      );
    }
    out.set(s.variant.key, left);
  }
  return out;
}

/** The bounded forecast, or undefined when off, unknown, within the dead band or not rising. */
export function forecastOf(ctx: ModelContext): Forecast | undefined {
  const trend = ctx.state.arrivals;
  const maxFraction = ctx.features.lookaheadMaxFraction;
  // Most cycles: off, not known yet, or not rising (checked before the horizon, which sorts variants).
  if (!ctx.features.lookahead || !trend || trend.samples < 2 || trend.level < MIN_LEVEL || maxFraction <= 0)
    return undefined;
  if (!(trend.slope > 0)) return undefined;
  const h = nextStartup(ctx);
  const ahead = forecast(trend, h.seconds);
  const raw = ahead / trend.level;
  if (!(raw > 1 + DEAD_BAND)) return undefined;
  const factor = Math.min(raw, 1 + maxFraction);
  const bounded = factor < raw ? `, bounded to x${fmt(factor)}` : '';
  return {
    factor,
    horizonS: h.seconds,
    maxExtra: Math.max(1, Math.floor(ctx.analysis.currentTotal * maxFraction)),
    text: `arrivals ${fmt(trend.level)}/s rising ${fmt(trend.slope)}/s per s: ${fmt(ahead)}/s expected in ${Math.round(h.seconds)}s (start-up ${h.learned ? 'learned' : 'from the setting'})${bounded}`,
  };
}

/** The coded note saying what the forecast did. */
export function lookaheadNote(
  code: Extract<NoteCode, 'lookahead' | 'lookahead-holds'>,
  f: Forecast,
  what: string,
): Note[] {
  const text = `look-ahead: ${what} (${f.text})`;
  return [reasonNote(3, code, text), traceNote(3, code, text)];
}
