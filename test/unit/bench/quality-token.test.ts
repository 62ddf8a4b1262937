import { describe, expect, it } from 'vitest';
import { niceMax, renderPlotSvg } from '../../../bench/lib/quality-plot.js';
import { dominatesOn, evaluateTokenTargets, type SloCost } from '../../../bench/lib/quality-targets.js';
import { arrivalRate, offeredRpsAt, ttftSample } from '../../../bench/lib/token-loop.js';
import { poissonRequests, WVA_SCENARIOS } from '../../../bench/lib/token-scenarios.js';

const req = (atMs: number) => ({ atMs, promptTokens: 1, outputTokens: 1 });

describe('arrivals', () => {
  it('rates over windows of a sorted request list', () => {
    const rs = [0, 500, 1000, 1500, 2500].map(req);
    expect(arrivalRate(rs, 0, 2000)).toBe(2);
    expect(arrivalRate(rs, -1000, 1000)).toBe(2); // clipped at 0
    expect(arrivalRate(rs, 3000, 3000)).toBe(0);
    // What has arrived, never what is still to come: at t = 0 nothing has.
    expect(offeredRpsAt(rs, 0, 2000)).toBe(0);
    expect(offeredRpsAt(rs, 2000, 2000)).toBe(2); // [0, 2000)
    expect(offeredRpsAt(rs, 3000, 1000)).toBe(1); // the last cycle: [2000, 3000)
  });

  it('TTFTs of the served, time waited so far by the others', () => {
    const sent = [0, 1000, 2000].map(req);
    const s = ttftSample(
      sent,
      [
        { arrivedAtMs: 2000, atMs: 2500 },
        { arrivedAtMs: 0, atMs: 300 },
      ],
      5000,
    );
    expect(s).toEqual({ servedMs: [300, 500], censoredMs: [4000] });
  });

  it('Poisson arrivals are seeded, at the stage rates, with the fixed token counts', () => {
    const a = poissonRequests([{ fromS: 0, rps: 20 }], 600, 4000, 1000, 1);
    expect(poissonRequests([{ fromS: 0, rps: 20 }], 600, 4000, 1000, 1)).toEqual(a);
    expect(poissonRequests([{ fromS: 0, rps: 20 }], 600, 4000, 1000, 2)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(11_400);
    expect(a.length).toBeLessThan(12_600);
    expect(a.every((r) => r.promptTokens === 4000 && r.outputTokens === 1000)).toBe(true);
    const bursty = WVA_SCENARIOS.find((s) => s.name === 'wva-bursty')?.requests(1) ?? [];
    // 15 → 2 → 10 → 15 → 5 → 2 req/s for 150 s each: 7,350 expected.
    expect(bursty.length).toBeGreaterThan(7000);
    expect(bursty.length).toBeLessThan(7700);
    expect(arrivalRate(bursty, 150_000, 300_000)).toBeLessThan(3);
  });
});

const fig = (policy: string, slo: number, cost: number, wrong = 0): SloCost => ({
  policy,
  sloAttainment2s: slo,
  gpuCost: cost,
  wrongDirection: wrong,
});

describe('issue 20 targets', () => {
  it('domination needs cheaper-or-equal and at least as good, one strictly', () => {
    expect(dominatesOn(fig('b', 0.9, 100), fig('e', 0.9, 110))).toBe(true);
    expect(dominatesOn(fig('b', 0.9, 100), fig('e', 0.9, 100))).toBe(false);
    expect(dominatesOn(fig('b', 0.95, 120), fig('e', 0.9, 100))).toBe(false);
  });

  const base = {
    oracle: fig('oracle-reactive', 0.95, 100),
    kedaEpp: fig('llmd-keda-epp', 0.9, 120),
    wvaV2: fig('wva-v2', 0.85, 110),
    deterministic: true,
  };

  it.each([
    {
      name: 'an engine as good as the best recipe at 0.9x the cheaper one meets all five',
      engine: fig('engine', 0.94, 99),
      met: [true, true, true, true, true],
    },
    {
      name: 'a cheaper baseline as good dominates; too costly against the recipes and the oracle',
      engine: fig('engine', 0.9, 125, 1),
      met: [false, false, false, false, true],
    },
  ])('$name', ({ engine, met }) => {
    const v = evaluateTokenTargets({ ...base, engine, baselines: [base.kedaEpp, base.wvaV2] });
    expect(v.map((t) => t.met)).toEqual(met);
    expect(v.every((t) => !t.relaxed)).toBe(true);
  });

  it('a target the reactive oracle misses becomes "within 3 points of the oracle"', () => {
    // The oracle costs more than 0.9x the cheaper recipe and is not 5 points better: it misses the recipe target.
    const oracle = fig('oracle-reactive', 0.92, 115, 2);
    const v = evaluateTokenTargets({
      ...base,
      oracle,
      engine: fig('engine', 0.9, 118, 1),
      baselines: [base.kedaEpp, base.wvaV2],
    });
    const byId = new Map(v.map((t) => [t.id, t]));
    expect(byId.get('vs-recipes')).toMatchObject({ relaxed: true, met: true });
    expect(byId.get('no-wrong-direction')).toMatchObject({ relaxed: true, met: true });
    expect(byId.get('near-oracle')).toMatchObject({ relaxed: false, met: true });
  });
});

describe('plot', () => {
  it('nice axis maxima', () => {
    expect([0, 0.7, 3, 11, 49, 120].map(niceMax)).toEqual([1, 1, 5, 20, 50, 200]);
  });

  it('renders one step line per policy, the load and a legend', () => {
    const svg = renderPlotSvg({
      title: 'a <b>',
      series: [
        {
          name: 'engine',
          points: [
            [0, 1],
            [1, 3],
          ],
        },
        {
          name: 'oracle',
          points: [
            [0, 1],
            [1, 2],
          ],
          dashed: true,
        },
      ],
      load: [
        [0, 5],
        [1, 9],
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('<polygon');
  });
});
