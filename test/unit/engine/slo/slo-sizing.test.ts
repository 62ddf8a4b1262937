import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxRateWithin, predictLatency, erlangC, type Workload } from '../../../../src/engine/slo/latency-model.js';
import { sizeForSlo, type SloVariant } from '../../../../src/engine/slo/slo-sizing.js';
import { ACCELERATOR_PROFILES } from '../../../../src/sim/fleet/profiles.js';

const paramsOf = (a: 'H100' | 'A100' | 'L4') => {
  const p = ACCELERATOR_PROFILES[a];
  return { alpha: p.alphaMs, beta: p.betaMsPerToken, gamma: p.gammaMsPerKvToken };
};
const W: Workload = { promptTokens: 1000, outputTokens: 200, maxBatch: 256 };
const T = { ttftMs: 2000, itlMs: 50 };

const variant = (key: string, acc: 'H100' | 'A100' | 'L4', cost: number, maxReplicas = 100): SloVariant => ({
  key,
  cost,
  maxReplicas,
  model: paramsOf(acc),
  workload: acc === 'L4' ? { ...W, maxBatch: 25 } : W,
});

describe('latency model', () => {
  it('predicts α at no load and more as arrivals grow, infinite past what a replica keeps up with', () => {
    const p = paramsOf('H100');
    expect(predictLatency(p, W, 0).itlMs).toBeCloseTo(p.alpha, 9);
    const a = predictLatency(p, W, 5);
    const b = predictLatency(p, W, 20);
    expect(b.itlMs).toBeGreaterThan(a.itlMs);
    expect(b.ttftP95Ms).toBeGreaterThan(a.ttftP95Ms);
    expect(predictLatency(p, W, 1e6).itlMs).toBe(Infinity);
  });

  it('Erlang C: 0 without load, 1 at or beyond the servers, one server is ρ', () => {
    expect(erlangC(4, 0)).toBe(0);
    expect(erlangC(4, 4)).toBe(1);
    expect(erlangC(1, 0.3)).toBeCloseTo(0.3, 12);
  });

  it('the max rate within targets meets them and a little more does not', () => {
    for (const acc of ['H100', 'A100', 'L4'] as const) {
      const p = paramsOf(acc);
      const w = acc === 'L4' ? { ...W, maxBatch: 25 } : W;
      const t = acc === 'L4' ? { ...T, itlMs: 100 } : T;
      const r = maxRateWithin(p, w, t);
      expect(r).toBeGreaterThan(0);
      const at = predictLatency(p, w, r);
      expect(at.itlMs).toBeLessThanOrEqual(t.itlMs + 1e-9);
      expect(at.ttftP95Ms).toBeLessThanOrEqual(t.ttftMs + 1e-9);
      const over = predictLatency(p, w, r * 1.01);
      expect(over.itlMs > t.itlMs || over.ttftP95Ms > t.ttftMs).toBe(true);
    }
  });

  it('an ITL target below α is unreachable: capacity 0', () => {
    expect(maxRateWithin(paramsOf('L4'), W, { ttftMs: 2000, itlMs: 20 })).toBe(0);
  });
});

describe('SLO sizing', () => {
  it('fills by cost per unit of capacity, not cost per replica', () => {
    // The L4 is cheapest per replica but takes far less per replica: the H100 is cheaper per req/s.
    const vs = [variant('ns/h100', 'H100', 10), variant('ns/l4', 'L4', 2)];
    const plan = sizeForSlo(vs, 30, T);
    expect(plan.capacities[0]?.key).toBe('ns/h100');
    expect(plan.replicas.get('ns/h100')).toBeGreaterThan(0);
    expect(plan.replicas.get('ns/l4')).toBe(0);
    expect(plan.unmet).toBe(0);
  });

  it('spills to the next variant at max, and reports what none can take', () => {
    const vs = [variant('ns/h100', 'H100', 10, 1), variant('ns/a100', 'A100', 10, 1)];
    const cap = sizeForSlo(vs, 0.001, T).capacities;
    const total = cap.reduce((s, c) => s + c.perReplica, 0);
    const plan = sizeForSlo(vs, total * 2, T);
    expect(plan.replicas.get('ns/h100')).toBe(1);
    expect(plan.replicas.get('ns/a100')).toBe(1);
    expect(plan.unmet).toBeCloseTo(total, 6);
  });

  it('zero demand needs no replica (the floor is the engine stage)', () => {
    expect([...sizeForSlo([variant('ns/h100', 'H100', 10)], 0, T).replicas.values()]).toEqual([0]);
  });

  const accArb = fc.constantFrom('H100' as const, 'A100' as const, 'L4' as const);

  it('property: more arrivals never give any variant fewer replicas', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(accArb, fc.double({ min: 0.5, max: 50, noNaN: true }), fc.integer({ min: 1, max: 20 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        (spec, d1, d2) => {
          const vs = spec.map(([acc, cost, max], i) => variant(`ns/v${i}`, acc, cost, max));
          const [lo, hi] = d1 <= d2 ? [d1, d2] : [d2, d1];
          const a = sizeForSlo(vs, lo, T).replicas;
          const b = sizeForSlo(vs, hi, T).replicas;
          for (const v of vs) expect(b.get(v.key) ?? 0).toBeGreaterThanOrEqual(a.get(v.key) ?? 0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: a tighter target never gives fewer replicas (one variant)', () => {
    fc.assert(
      fc.property(
        accArb,
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.double({ min: 200, max: 10_000, noNaN: true }),
        fc.double({ min: 0.3, max: 1, noNaN: true }),
        fc.double({ min: 60, max: 200, noNaN: true }),
        fc.double({ min: 0.3, max: 1, noNaN: true }),
        (acc, demand, ttft, ttftShrink, itl, itlShrink) => {
          const vs = [variant('ns/v', acc, 10, 10_000)];
          const loose = sizeForSlo(vs, demand, { ttftMs: ttft, itlMs: itl });
          const tight = sizeForSlo(vs, demand, { ttftMs: ttft * ttftShrink, itlMs: itl * itlShrink });
          // Fewer replicas only where the tight target is unreachable (then demand is unmet, not served).
          if (tight.unmet === 0)
            expect(tight.replicas.get('ns/v') ?? 0).toBeGreaterThanOrEqual(loose.replicas.get('ns/v') ?? 0);
          else expect(tight.unmet).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
