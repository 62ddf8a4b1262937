import { describe, expect, it } from 'vitest';
import {
  gpuCost,
  overBudgetMinutes,
  peakReplicas,
  policyFigures,
  sloAttainment,
  ttftPercentileMs,
  wrongDirectionActions,
  type CycleFigures,
} from '../../../bench/lib/quality-figures.js';

describe('SLO attainment', () => {
  it.each([
    { name: 'all within', served: [100, 2000], censored: [], budget: 2000, want: 1 },
    { name: 'one of four over', served: [100, 500, 1999, 2001], censored: [], budget: 2000, want: 0.75 },
    { name: 'a censored request past the budget is a miss', served: [100], censored: [5000], budget: 2000, want: 0.5 },
    {
      name: 'a censored request still within the budget is not judged',
      served: [100],
      censored: [500],
      budget: 2000,
      want: 1,
    },
    { name: 'no requests', served: [], censored: [], budget: 2000, want: 1 },
  ])('$name', ({ served, censored, budget, want }) => {
    expect(sloAttainment({ servedMs: served, censoredMs: censored }, budget)).toBe(want);
  });
});

describe('TTFT percentiles', () => {
  it.each([
    { q: 0.95, served: Array.from({ length: 100 }, (_, i) => i + 1), censored: [], want: 95 },
    { q: 0.99, served: Array.from({ length: 100 }, (_, i) => i + 1), censored: [], want: 99 },
    { q: 0.5, served: [1, 2], censored: [10], want: 2 },
    { q: 0.99, served: [1, 2], censored: [10], want: 10 },
    { q: 0.95, served: [], censored: [], want: 0 },
  ])('p$q of $served.length served and $censored.length censored', ({ q, served, censored, want }) => {
    expect(ttftPercentileMs({ servedMs: served, censoredMs: censored }, q)).toBe(want);
  });
});

describe('GPU cost, peaks, minutes over budget', () => {
  it('weights replica-minutes by the variant cost', () => {
    const ms = new Map([
      ['h100', 3 * 60_000],
      ['l4', 60_000],
    ]);
    expect(gpuCost(ms, (d) => (d === 'h100' ? 30 : 5))).toBe(95);
  });

  it('peak replicas counts what the HPA set and what was there', () => {
    expect(
      peakReplicas([
        { current: 1, desired: 3 },
        { current: 3, desired: 2 },
      ]),
    ).toBe(3);
    expect(peakReplicas([])).toBe(0);
  });

  it('counts minutes whose longest wait exceeds the budget', () => {
    expect(overBudgetMinutes([0, 5000, 5001, 9000], 5000)).toBe(2);
  });
});

/** Cycles every 15 s: [seconds, current, desired, backlog]. */
const cycles = (rows: readonly (readonly [number, number, number, number])[]): CycleFigures[] =>
  rows.map(([s, current, desired, backlog]) => ({ atMs: s * 1000, current, desired, backlog }));

/** A piecewise-constant offered rate: [from s, req/s]; the rate over a window is its mean. */
function rateOf(steps: readonly (readonly [number, number])[]): (fromMs: number, toMs: number) => number {
  const at = (ms: number): number => {
    let r = 0;
    for (const [s, v] of steps) if (s * 1000 <= ms) r = v;
    return r;
  };
  return (fromMs, toMs) => {
    let sum = 0;
    for (let t = fromMs; t < toMs; t += 1000) sum += at(t);
    return sum / ((toMs - fromMs) / 1000);
  };
}

describe('wrong-direction actions', () => {
  it.each([
    {
      name: 'a scale-up while the rate falls and the backlog does not grow',
      rows: [
        [0, 2, 2, 0],
        [120, 2, 2, 0],
        [240, 2, 3, 0],
      ],
      rate: [
        [0, 10],
        [180, 5],
      ],
      kinds: ['up-while-falling'],
    },
    {
      name: 'a scale-up while the rate falls but the backlog grows is right',
      rows: [
        [0, 2, 2, 0],
        [120, 2, 2, 3],
        [240, 2, 3, 40],
      ],
      rate: [
        [0, 10],
        [180, 5],
      ],
      kinds: [],
    },
    {
      name: 'a scale-up on a steady rate is not judged here',
      rows: [
        [0, 2, 2, 0],
        [240, 2, 3, 0],
      ],
      rate: [[0, 10]],
      kinds: [],
    },
    {
      name: 'a fall within 10 % is noise, not a fall',
      rows: [
        [0, 2, 2, 0],
        [240, 2, 3, 0],
      ],
      rate: [
        [0, 10],
        [180, 9.5],
      ],
      kinds: [],
    },
    {
      name: 'a scale-down undone within 5 minutes on the same load is flapping',
      rows: [
        [120, 3, 2, 0],
        [320, 2, 3, 0],
      ],
      rate: [[0, 10]],
      kinds: ['flap'],
    },
    {
      name: 'a scale-down followed by a scale-up after the load rose by more than 10 % is right',
      rows: [
        [120, 3, 2, 0],
        [320, 2, 3, 0],
      ],
      rate: [
        [0, 10],
        [200, 20],
      ],
      kinds: [],
    },
    {
      name: 'a scale-up more than 5 minutes after a scale-down is not flapping',
      rows: [
        [120, 3, 2, 0],
        [435, 2, 3, 0],
      ],
      rate: [[0, 10]],
      kinds: [],
    },
  ] as const)('$name', ({ rows, rate, kinds }) => {
    expect(wrongDirectionActions(cycles(rows), rateOf(rate)).map((a) => a.kind)).toEqual(kinds);
  });
});

describe('policyFigures', () => {
  it('puts the figures together in seconds and fractions', () => {
    const f = policyFigures({
      policy: 'p',
      ttft: { servedMs: [500, 1500, 3000, 12_000], censoredMs: [] },
      replicaMsByDeployment: new Map([['d', 120_000]]),
      costOf: () => 30,
      cycles: cycles([[0, 1, 2, 0]]),
      rate: () => 1,
      maxWaitMsPerMinute: [0, 6000],
      waitBudgetMs: 5000,
    });
    expect(f).toEqual({
      policy: 'p',
      sloAttainment2s: 0.5,
      sloAttainment10s: 0.75,
      p95TtftS: 12,
      p99TtftS: 12,
      gpuCost: 60,
      wrongDirection: 0,
      overBudgetMinutes: 1,
      peakReplicas: 2,
    });
  });
});
