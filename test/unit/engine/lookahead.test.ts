/**
 * Issue 20's look-ahead: the arrival trend (Holt's linear trend) on known series, each variant's
 * start-up learned from a scripted pending -> ready sequence, and the decisions it changes: capacity
 * added one start-up early, bounded, and never removed early.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_FEATURES, NO_ENGINE_FEATURES } from '../../../src/domain/engine-features.js';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import { forecast, updateTrend, type ArrivalTrend } from '../../../src/engine/arrival-trend.js';
import type { ModelOutcome } from '../../../src/engine/model-decision.js';
import { DEAD_BAND } from '../../../src/engine/lookahead.js';
import { learnedStartupS, updateStartup, type StartupTrack } from '../../../src/engine/startup-learning.js';
import { NOW, metrics, replica, state, variant } from './fixtures.js';
import { desiredTotal, reasonsOf, runSeries, type Cycle } from './series.js';

/** The trend after feeding `rate(t)` every `stepS` seconds for `seconds`. */
function trendOf(rate: (tS: number) => number, seconds: number, stepS = 15): ArrivalTrend {
  let trend: ArrivalTrend | undefined;
  for (let t = 0; t <= seconds; t += stepS) trend = updateTrend(trend, rate(t), NOW + t * 1000);
  if (!trend) throw new Error('no samples');
  return trend;
}

/** A deterministic noise in [-1, 1] (no Math.random: tests replay the same series). */
const noise = (i: number): number => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;

describe("Holt's linear trend on arrivals", () => {
  it.each([
    {
      name: 'a linear ramp is forecast one start-up ahead',
      rate: (t: number) => 2 + 0.1 * t,
      at: 600,
      h: 60,
      want: 2 + 0.1 * 660,
      tol: 0.02,
    },
    {
      name: 'three minutes into a ramp',
      rate: (t: number) => 2 + 0.1 * t,
      at: 180,
      h: 60,
      want: 2 + 0.1 * 240,
      tol: 0.08,
    },
    { name: 'a flat load forecasts itself', rate: () => 10, at: 600, h: 60, want: 10, tol: 0.01 },
    // 5 minutes after a step from 10 to 20 the slope has decayed: no extrapolation for ever.
    {
      name: 'a step is not extrapolated for ever',
      rate: (t: number) => (t < 300 ? 10 : 20),
      at: 900,
      h: 60,
      want: 20,
      tol: 0.1,
    },
  ])('$name', ({ rate, at, h, want, tol }) => {
    const trend = trendOf(rate, at);
    expect(Math.abs(forecast(trend, h) - want) / want).toBeLessThanOrEqual(tol);
  });

  it('right after a step the forecast rises, but less than the step extrapolated over the horizon', () => {
    const trend = trendOf((t) => (t < 300 ? 10 : 20), 330);
    const ahead = forecast(trend, 60);
    expect(ahead).toBeGreaterThan(trend.level);
    expect(ahead).toBeLessThan(20 + (10 / 30) * 60);
  });

  // Arrivals measured over a 15 s cycle at 10 req/s are about 150 requests: Poisson noise of about
  // 8 %; +-10 % white noise is that, with margin.
  it('noise is damped: +-10 % noise on a flat load never forecasts a rise beyond the dead band', () => {
    let worstRise = 0;
    let worstError = 0;
    let trend: ArrivalTrend | undefined;
    for (let i = 0; i <= 400; i++) {
      trend = updateTrend(trend, 10 * (1 + 0.1 * noise(i)), NOW + i * 15_000);
      if (i < 8) continue;
      worstRise = Math.max(worstRise, forecast(trend, 60) / trend.level - 1);
      worstError = Math.max(worstError, Math.abs(forecast(trend, 60) - 10) / 10);
    }
    expect(worstRise).toBeLessThan(DEAD_BAND);
    expect(worstError).toBeLessThan(0.1);
  });

  it('ignores gaps under 2 s and restarts after a long one', () => {
    const t1 = updateTrend(undefined, 10, NOW);
    expect(updateTrend(t1, 50, NOW + 500)).toBe(t1);
    expect(updateTrend(t1, 50, NOW + 3_600_000)).toMatchObject({ level: 50, slope: 0, samples: 1 });
  });
});

describe('start-up learned from pending -> ready', () => {
  /** [seconds, current, ready] observations of one variant. */
  function learn(script: readonly (readonly [number, number, number])[]): StartupTrack | undefined {
    let track: StartupTrack | undefined;
    for (const [s, current, ready] of script) track = updateStartup(track, current, ready, NOW + s * 1000);
    return track;
  }

  it.each([
    {
      name: 'one replica: pending at 0 s, ready at 75 s',
      script: [
        [0, 1, 1],
        [15, 2, 1],
        [90, 2, 2],
      ],
      want: 75,
    },
    {
      // Two appear at 15 s, one more at 30 s; they become ready at 75, 90 and 105 s: first in, first out.
      name: 'several replicas are matched first in, first out',
      script: [
        [0, 1, 1],
        [15, 3, 1],
        [30, 4, 1],
        [75, 4, 2],
        [90, 4, 3],
        [105, 4, 4],
      ],
      want: 75,
    },
    {
      // Of two pending replicas the newer is removed before it is ready; the older's start-up counts.
      name: 'a pending replica removed before ready leaves from the back',
      script: [
        [0, 1, 1],
        [15, 2, 1],
        [30, 3, 1],
        [45, 2, 1],
        [75, 2, 2],
      ],
      want: 60,
    },
    {
      name: 'replicas already pending when first seen give no sample',
      script: [
        [0, 3, 1],
        [60, 3, 3],
      ],
      want: undefined,
    },
    {
      name: 'the median of the last samples: one slow start-up does not move it',
      script: [
        [0, 1, 1],
        [15, 2, 1],
        [75, 2, 2],
        [90, 3, 2],
        [150, 3, 3],
        [165, 4, 3],
        [465, 4, 4],
      ],
      want: 60,
    },
  ] as const)('$name', ({ script, want }) => {
    expect(learnedStartupS(learn(script))).toBe(want);
  });
});

const a = variant('a', { maxReplicas: 20 });
const SERVICE_S = 2;

/** `n` ready replicas at KV `kv`, each completing `rate` req/s (Little: running = rate x service). */
function fleet(n: number, kv: number, rate: number): ReplicaMetrics[] {
  return Array.from({ length: n }, (_, i) => ({
    ...replica(a, i, kv, 0, rate * SERVICE_S, undefined, SERVICE_S),
    kvCacheUsageNow: kv,
    queueLengthNow: 0,
  }));
}

/** KV use per req/s on one replica. */
const KV_PER_RPS = 0.11;

/** A ramp of arrivals over `replicas` replicas every 15 s; KV follows the load. */
function ramp(replicas: number, from: number, perMinute: number, minutes: number): Cycle[] {
  return Array.from({ length: minutes * 4 }, (_, i) => {
    const at = NOW + i * 15_000;
    const per = (from + (perMinute * i) / 4) / replicas;
    return {
      at,
      states: [state(a, replicas)],
      metrics: metrics(fleet(replicas, KV_PER_RPS * per, per), { collectedAt: at - 1000 }),
    };
  });
}

/** The first cycle that asks for more than `n` replicas (Infinity when none does). */
function firstAbove(outcomes: readonly ModelOutcome[], n: number): number {
  const i = outcomes.findIndex((o) => desiredTotal(o) > n);
  return i < 0 ? Infinity : i;
}

describe('look-ahead decisions', () => {
  it('a rising load gets capacity one start-up early, with a coded note; without look-ahead it waits', () => {
    // 4 replicas, 12 -> 30 req/s over 10 minutes: KV per replica 0.33 -> 0.83; the 0.70 target is
    // crossed at about 25.5 req/s, 7.5 minutes in, when the trend has seen the ramp for a while.
    const cycles = ramp(4, 12, 1.8, 10);
    const withLook = runSeries(cycles);
    const without = runSeries(cycles, { ...DEFAULT_ENGINE_FEATURES, lookahead: false });
    const early = firstAbove(withLook, 4);
    const late = firstAbove(without, 4);
    expect(late).toBeLessThan(Infinity);
    expect(early, withLook.map(reasonsOf).join('\n')).toBeLessThanOrEqual(late - 2); // at least 30 s sooner
    expect(withLook[early]?.targets.notes.map((n) => n.code)).toContain('lookahead');
  });

  it("the look-ahead's contribution is bounded by WVA_LOOKAHEAD_MAX_FRACTION of current", () => {
    const steep = ramp(4, 12, 12, 3);
    const f = { ...DEFAULT_ENGINE_FEATURES, lookaheadMaxFraction: 0.25 };
    for (const o of runSeries(steep, f)) {
      const ahead = o.targets.notes.some((n) => n.code === 'lookahead');
      if (ahead && o.targets.action === 'scale-up' && !o.analysis.scaleUpNeeded)
        expect(desiredTotal(o) - 4, reasonsOf(o)).toBeLessThanOrEqual(1);
    }
  });

  it('a falling load never removes capacity early: the same decisions as without look-ahead', () => {
    const falling = ramp(6, 36, -4, 5);
    const codes = (fs: typeof DEFAULT_ENGINE_FEATURES): number[] => runSeries(falling, fs).map(desiredTotal);
    expect(codes(DEFAULT_ENGINE_FEATURES)).toEqual(codes({ ...DEFAULT_ENGINE_FEATURES, lookahead: false }));
  });

  it('a flat noisy load adds nothing', () => {
    const cycles = ramp(4, 22, 0, 10).map((c, i) => {
      const per = (22 * (1 + 0.1 * noise(i))) / 4;
      return { ...c, metrics: metrics(fleet(4, KV_PER_RPS * per, per), { collectedAt: c.at - 1000 }) };
    });
    for (const o of runSeries(cycles)) expect(desiredTotal(o), reasonsOf(o)).toBeLessThanOrEqual(4);
  });

  it('every feature off: no look-ahead note, and no scale-up before the target is crossed', () => {
    const outcomes = runSeries(ramp(4, 20, 2, 5), NO_ENGINE_FEATURES);
    for (const o of outcomes) expect(o.targets.notes.map((n) => n.code)).not.toContain('lookahead');
    expect(firstAbove(outcomes, 4)).toBeGreaterThanOrEqual(10);
  });
});

describe('KV look-ahead before a per-replica rate is known', () => {
  const a = variant('a', { maxReplicas: 10 });
  /** One ready replica whose KV use now and at its 1-minute peak is `kv`; nothing finished yet. */
  const coldReplica = (kv: number, running: number): ReplicaMetrics => ({
    ...replica(a, 0, kv, 0, running, 0),
    kvCacheUsageNow: kv,
    queueLengthNow: 0,
  });
  /** Two cycles 15 s apart on one replica: KV `from` then `to`. */
  const twoCycles = (from: number, to: number): Cycle[] =>
    [from, to].map((kv, i) => ({
      at: NOW + i * 15_000,
      states: [state(a, 1)],
      metrics: metrics([coldReplica(kv, Math.round(kv * 400))], { collectedAt: NOW + i * 15_000 - 1000 }),
    }));
  const kvAheadIn = (o: ModelOutcome | undefined): boolean =>
    o?.targets.notes.some((n) => n.code === 'lookahead-kv') ?? false;

  it.each([
    // 0 -> 0.63 in 15 s: 0.042/s carries to 3.16 over the 60 s start-up setting, above 0.80 -> +1
    // (DESIGN's cap at one replica), a cycle before step 2 would see the threshold crossed.
    { name: 'a fresh replica filling fast grows the model early', from: 0, to: 0.63, want: 2, noted: true },
    // 0.10 -> 0.20: reaches 0.60 in 60 s, below the threshold.
    { name: 'KV rising slowly adds nothing', from: 0.1, to: 0.2, want: 1, noted: false },
    { name: 'falling KV adds nothing', from: 0.65, to: 0.6, want: 1, noted: false },
  ])('$name', ({ from, to, want, noted }) => {
    const [, second] = runSeries(twoCycles(from, to));
    expect(second && desiredTotal(second), second && reasonsOf(second)).toBe(want);
    expect(kvAheadIn(second)).toBe(noted);
  });

  it('without look-ahead the fresh replica waits for step 2', () => {
    const [, second] = runSeries(twoCycles(0, 0.63), { ...DEFAULT_ENGINE_FEATURES, lookahead: false });
    expect(second && desiredTotal(second)).toBe(1);
  });

  it('once a rate is known, throughput sizing decides instead', () => {
    // The replica ran near its KV target at a steady 4 req/s (8 running over 2 s): a learned rate.
    const known: Cycle[] = twoCycles(0, 0.63).map((c) => ({
      ...c,
      metrics: metrics([{ ...coldReplica(0.72, 8), requestRate: 4, serviceSeconds: 2 }], {
        collectedAt: c.at - 1000,
      }),
    }));
    const warm = runSeries([...known, ...twoCycles(0, 0.63).map((c) => ({ ...c, at: c.at + 30_000 }))]);
    for (const o of warm) expect(kvAheadIn(o), reasonsOf(o)).toBe(false);
  });
});
