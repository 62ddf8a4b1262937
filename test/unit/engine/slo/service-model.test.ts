import { describe, expect, it } from 'vitest';
import {
  initialServiceModel,
  parseServiceModel,
  reopenServiceModel,
  updateServiceModel,
  type Observation,
  type ServiceModelState,
} from '../../../../src/engine/slo/service-model.js';
import { ACCELERATOR_PROFILES } from '../../../../src/sim/fleet/profiles.js';
import { Prng } from '../../../../src/sim/fleet/prng.js';

/** Deterministic uniform [0, 1) (the fleet's mulberry32). */
function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

interface Truth {
  alpha: number;
  beta: number;
  gamma: number;
}
const truthOf = (a: 'H100' | 'A100' | 'L4'): Truth => {
  const p = ACCELERATOR_PROFILES[a];
  return { alpha: p.alphaMs, beta: p.betaMsPerToken, gamma: p.gammaMsPerKvToken };
};

/** Observations of a replica at random load: ITL and prefill, with relative noise and outliers. */
function synthetic(t: Truth, count: number, seed: number, noise = 0, outlierShare = 0, kvMax = 300_000): Observation[] {
  const r = rng(seed);
  const out: Observation[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(r() * 200);
    const k = 1000 + r() * kvMax;
    const p = 100 + r() * 3000;
    const hItl: [number, number, number] = [1, n, k];
    const hPre: [number, number, number] = [1, p + n, k + p];
    for (const [kind, h] of [
      ['itl', hItl],
      ['prefill', hPre],
    ] as const) {
      const y0 = t.alpha * h[0] + t.beta * h[1] + t.gamma * h[2];
      const e = (r() * 2 - 1) * noise * Math.sqrt(3); // uniform with std = noise
      const wild = r() < outlierShare ? 5 + r() * 20 : 1; // a wild sample: 5-25 times the truth
      out.push({ kind, y: y0 * (1 + e) * wild, h });
    }
  }
  return out;
}

function learn(obs: readonly Observation[], batch = 4, start?: ServiceModelState): ServiceModelState {
  let s = start;
  for (let i = 0; i < obs.length; i += batch) s = updateServiceModel(s, obs.slice(i, i + batch), i * 1000) ?? s;
  if (!s) throw new Error('nothing learned');
  return s;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / b;

describe('service model learner (Kalman filter on α, β, γ)', () => {
  it.each(['H100', 'A100', 'L4'] as const)('recovers the true α/β/γ of %s from exact observations', (acc) => {
    const t = truthOf(acc);
    const s = learn(synthetic(t, 100, 1));
    expect(rel(s.alpha, t.alpha)).toBeLessThan(0.02);
    expect(rel(s.beta, t.beta)).toBeLessThan(0.02);
    expect(rel(s.gamma, t.gamma)).toBeLessThan(0.05);
    expect(s.confident).toBe(true);
  });

  it('recovers them within 10 % under 10 % noise', () => {
    const t = truthOf('H100');
    const s = learn(synthetic(t, 400, 2, 0.1));
    expect(rel(s.alpha, t.alpha)).toBeLessThan(0.1);
    expect(rel(s.beta, t.beta)).toBeLessThan(0.1);
    expect(rel(s.gamma, t.gamma)).toBeLessThan(0.15);
  });

  it('is robust to 10 % wild outliers (5-25 x the truth)', () => {
    const t = truthOf('A100');
    const s = learn(synthetic(t, 400, 3, 0.05, 0.1));
    expect(rel(s.alpha, t.alpha)).toBeLessThan(0.15);
    expect(rel(s.beta, t.beta)).toBeLessThan(0.15);
    expect(rel(s.gamma, t.gamma)).toBeLessThan(0.25);
  });

  it('never returns a negative parameter, even from observations that pull one below 0', () => {
    // Latencies that fall as the batch grows: the least-squares β would be negative.
    const obs: Observation[] = Array.from({ length: 40 }, (_, i) => ({
      kind: i % 2 === 0 ? 'itl' : 'prefill',
      y: 50 - i,
      h: [1, 10 + 5 * i, 1000],
    }));
    const s = learn(obs);
    expect(s.alpha).toBeGreaterThanOrEqual(0);
    expect(s.beta).toBeGreaterThanOrEqual(0);
    expect(s.gamma).toBeGreaterThanOrEqual(0);
  });

  it('is not confident on a few samples, nor on one kind only', () => {
    const t = truthOf('H100');
    expect(learn(synthetic(t, 2, 4)).confident).toBe(false);
    const itlOnly = synthetic(t, 100, 5).filter((o) => o.kind === 'itl');
    expect(learn(itlOnly).confident).toBe(false);
  });

  it('re-learns after the speed changes (H100 -> L4) within a few dozen observations', () => {
    const h100 = learn(synthetic(truthOf('H100'), 100, 6));
    const l4 = truthOf('L4');
    const after = learn(synthetic(l4, 30, 7), 4, h100);
    expect(rel(after.alpha, l4.alpha)).toBeLessThan(0.1);
    expect(rel(after.gamma, l4.gamma)).toBeLessThan(0.2);
  });

  it('ignores unusable observations and does not mutate the previous state', () => {
    const s0 = initialServiceModel(0);
    const frozen = Object.freeze({ ...s0, covariance: Object.freeze([...s0.covariance]) });
    expect(updateServiceModel(frozen, [{ kind: 'itl', y: NaN, h: [1, 1, 1] }], 1)).toBe(frozen);
    expect(updateServiceModel(undefined, [], 1)).toBeUndefined();
    const next = updateServiceModel(frozen, [{ kind: 'itl', y: 20, h: [1, 10, 1000] }], 1);
    expect(next).not.toBe(frozen);
    expect(next?.samples).toBe(1);
  });

  it('round-trips through JSON and refuses a malformed stored value', () => {
    const s = learn(synthetic(truthOf('H100'), 50, 8));
    const back = parseServiceModel(JSON.parse(JSON.stringify(s)));
    expect(back).toEqual(s);
    expect(parseServiceModel({ ...s, covariance: [1, 2] })).toBeUndefined();
    expect(parseServiceModel({ ...s, alpha: 'x' })).toBeUndefined();
    expect(parseServiceModel(null)).toBeUndefined();
    // A re-opened model stays re-opened (and not confident) for a restarted scaler.
    const reopened = reopenServiceModel(s, 42);
    expect(parseServiceModel(JSON.parse(JSON.stringify(reopened)))).toEqual(reopened);
  });
});
