import { describe, expect, it } from 'vitest';
import {
  convergenceMs,
  minuteAttainment,
  minuteP95TtftMs,
  minutesMeeting,
  stepTimeError,
  typicalSteps,
  type LearnedSample,
} from '../../../bench/lib/quality-figures.js';
import { evaluateSloModeTarget } from '../../../bench/lib/quality-targets.js';

describe('minutes whose p95 TTFT meets the objective', () => {
  // Minute 0: 20 requests at 100 ms and one at 5 s (p95 of 21 = the 20th = 100 ms: met).
  // Minute 1: 10 requests, two of them slow (p95 = the 10th = 4 s: missed). Minute 2: nothing arrives.
  // Minute 3: one request, censored at its lower bound of 3 s (missed).
  const series = [
    ...Array.from({ length: 20 }, (_, i) => ({ arrivedAtMs: i * 1000, ttftMs: 100 })),
    { arrivedAtMs: 59_000, ttftMs: 5000 },
    ...Array.from({ length: 8 }, (_, i) => ({ arrivedAtMs: 60_000 + i * 1000, ttftMs: 200 })),
    { arrivedAtMs: 70_000, ttftMs: 3000 },
    { arrivedAtMs: 71_000, ttftMs: 4000 },
    { arrivedAtMs: 190_000, ttftMs: 3000 },
  ];

  it('p95 per minute of arrival, undefined for a minute without arrivals', () => {
    expect(minuteP95TtftMs(series, 240_000)).toEqual([100, 4000, undefined, 3000]);
  });

  it('the share over all minutes and over the minutes where the oracle meets it', () => {
    const met = minutesMeeting(minuteP95TtftMs(series, 240_000), 2000);
    expect(met).toEqual([true, false, undefined, false]);
    expect(minuteAttainment(met)).toBeCloseTo(1 / 3, 12);
    // The oracle met minutes 0 and 3 only: of those, this policy met one.
    expect(minuteAttainment(met, [true, false, true, true])).toBe(0.5);
    // The oracle met none: nothing to judge.
    expect(minuteAttainment(met, [false, false, false, false])).toBeUndefined();
  });
});

describe('learner convergence', () => {
  const truth = { alpha: 10, beta: 0.1, gamma: 0.0001 };
  const steps = typicalSteps(1000, 200);

  it('the typical steps: 16 decoding sequences at the mean context, and the same with a prompt in it', () => {
    expect(steps).toEqual([
      { tokens: 16, kvTokens: 16 * 1100 },
      { tokens: 1016, kvTokens: 16 * 1100 + 1000 },
    ]);
    expect(stepTimeError(truth, truth, steps)).toBe(0);
    expect(stepTimeError({ ...truth, alpha: 12 }, truth, steps)).toBeGreaterThan(0.1);
  });

  it('the first time from which the model stays within 10 %, counted from the window start', () => {
    const off = { ...truth, alpha: 20 };
    const near = { ...truth, alpha: 10.5 };
    const samples: LearnedSample[] = [
      { atMs: 0, model: undefined },
      { atMs: 15_000, model: near }, // converged once, then lost: does not count
      { atMs: 30_000, model: off },
      { atMs: 45_000, model: near },
      { atMs: 60_000, model: truth },
      { atMs: 75_000, model: off }, // after the window
    ];
    expect(convergenceMs(samples, truth, steps, 0, 75_000)).toBe(45_000);
    expect(convergenceMs(samples, truth, steps, 30_000, 75_000)).toBe(15_000);
    expect(convergenceMs(samples, truth, steps, 0, 90_000)).toBeUndefined();
  });
});

describe("issue 22's target", () => {
  it('passes only when the SLO mode ran, met >= 95 % of the oracle minutes and cost less than saturation mode', () => {
    const engine = { minutesWhereOracleMeets: 0.9, gpuCost: 1000 };
    expect(evaluateSloModeTarget({ engineSlo: undefined, engine }).status).toBe('not run');
    expect(evaluateSloModeTarget({ engineSlo: { minutesWhereOracleMeets: 0.96, gpuCost: 900 }, engine }).status).toBe(
      'pass',
    );
    expect(evaluateSloModeTarget({ engineSlo: { minutesWhereOracleMeets: 0.94, gpuCost: 900 }, engine }).status).toBe(
      'fail',
    );
    expect(evaluateSloModeTarget({ engineSlo: { minutesWhereOracleMeets: 1, gpuCost: 1000 }, engine }).status).toBe(
      'fail',
    );
    expect(
      evaluateSloModeTarget({ engineSlo: { minutesWhereOracleMeets: undefined, gpuCost: 900 }, engine }).status,
    ).toBe('not judged');
  });

  it('where saturation mode already costs what the reactive oracle does, asks for no more than it, not less', () => {
    const engine = { minutesWhereOracleMeets: 1, gpuCost: 1830 };
    const at = (gpuCost: number) =>
      evaluateSloModeTarget({ engineSlo: { minutesWhereOracleMeets: 1, gpuCost }, engine, oracleCost: 1830 });
    expect(at(1830).status).toBe('pass');
    expect(at(1830).detail).toContain("= the reactive oracle's 1830");
    expect(at(2003).status).toBe('fail');
    // Above the oracle's cost, cheaper is reachable and required.
    const above = { minutesWhereOracleMeets: 1, gpuCost: 2310 };
    const slo = { minutesWhereOracleMeets: 1, gpuCost: 2310 };
    expect(evaluateSloModeTarget({ engineSlo: slo, engine: above, oracleCost: 1778 }).status).toBe('fail');
  });
});
