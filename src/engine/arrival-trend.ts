/**
 * The short-horizon trend of a model's arrivals (pure): Holt's linear trend (double exponential
 * smoothing) on the arrival rate the engine measures each cycle, for irregular cycle gaps. Each
 * smoothing weight comes from a time constant, `1 - exp(-dt / tau)`, so an on-demand run a second
 * after the last one moves the estimate a little and a 15 s cycle moves it more, and the trend
 * means the same whatever the engine interval.
 *
 *  - A linear ramp is followed without lag: the level's prediction includes the slope.
 *  - A step is not extrapolated for ever: the level reaches the new rate within a few TAU_LEVEL,
 *    the level then stops moving and the slope decays to 0 with TAU_TREND.
 *  - Noise is damped: a sample moves the level by a fraction, the slope by a fraction of that.
 * The time constants were picked on known series (test/unit/engine/lookahead.test.ts): with 15 s
 * cycles, +-10 % white noise on a flat load (about the Poisson noise of 150 requests a cycle) keeps
 * the slope's rise over a minute under the look-ahead's 5 % dead band, and a linear ramp is
 * forecast within 6 % after three minutes and exactly once it has lasted a few; 30 s / 60 s
 * followed ramps faster but let twice that noise through.
 */

/** Seconds: how fast the level follows the measured arrivals. */
export const TAU_LEVEL_S = 45;
/** Seconds: how fast the slope follows the level's movement. */
export const TAU_TREND_S = 90;
/** Gaps shorter than this update nothing (on-demand runs right after a cycle; noise over ms). */
export const MIN_TREND_GAP_S = 2;
/** Gaps longer than this restart the trend (the model was not decided for a long time). */
export const MAX_TREND_GAP_S = 300;

export interface ArrivalTrend {
  /** Smoothed arrivals (requests per second). */
  readonly level: number;
  /** Requests per second, per second. */
  readonly slope: number;
  /** Epoch ms of the last sample taken in. */
  readonly at: number;
  /** Samples taken in since the trend (re)started: the slope means nothing before the second. */
  readonly samples: number;
  /** The last sample as measured (req/s). */
  readonly last: number;
}

const weight = (dtS: number, tauS: number): number => 1 - Math.exp(-dtS / tauS);

/** The trend with one more measured arrival rate `x` at `now`. */
export function updateTrend(prev: ArrivalTrend | undefined, x: number, now: number): ArrivalTrend {
  if (!prev) return { level: x, slope: 0, at: now, samples: 1, last: x };
  const dtS = (now - prev.at) / 1000;
  if (dtS < MIN_TREND_GAP_S) return prev;
  if (dtS > MAX_TREND_GAP_S) return { level: x, slope: 0, at: now, samples: 1, last: x };
  const predicted = prev.level + prev.slope * dtS;
  const level = Math.max(0, predicted + weight(dtS, TAU_LEVEL_S) * (x - predicted));
  const slope = prev.slope + weight(dtS, TAU_TREND_S) * ((level - prev.level) / dtS - prev.slope);
  return { level, slope, at: now, samples: prev.samples + 1, last: x };
}

/** Arrivals `horizonS` ahead of the trend's last sample (never below 0). */
export function forecast(trend: ArrivalTrend, horizonS: number): number {
  return Math.max(0, trend.level + (trend.samples > 1 ? trend.slope * horizonS : 0));
}
