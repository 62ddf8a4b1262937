import { describe, expect, it } from 'vitest';
import { parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';
import { ACCELERATOR_PROFILES } from '../../../src/sim/fleet/profiles.js';
import type { PolicyObservation } from '../../../bench/lib/quality-policies.js';
import type { TokenPodView } from '../../../bench/lib/token-observer.js';
import {
  QM_DEFAULTS,
  WvaQueueingModelPolicy,
  aggregateWorkload,
  bootstrapParams,
  initialTunerState,
  maxRatePerReplica,
  predictLatency,
  tunerStep,
  type ServiceParams,
  type TunerObservation,
} from '../../../bench/lib/wva-queueing-model.js';
import { Prng } from '../../../src/sim/fleet/prng.js';

const H100 = ACCELERATOR_PROFILES.H100;
const TRUE: ServiceParams = { alpha: H100.alphaMs, beta: H100.betaMsPerToken, gamma: H100.gammaMsPerKvToken };

/** A seeded PRNG for the synthetic observations (the fleet's mulberry32). */
function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

/** Observations the model itself predicts at varied loads and mixes, with relative noise. */
function observations(p: ServiceParams, n: number, noise: number, seed: number): TunerObservation[] {
  const r = rng(seed);
  const out: TunerObservation[] = [];
  while (out.length < n) {
    const inputTokens = 200 + Math.floor(r() * 3000);
    const outputTokens = 50 + Math.floor(r() * 1000);
    const rps = r() * 3;
    const y = predictLatency(p, { rps, inputTokens, outputTokens });
    if (!y || y.iterationMs > 5 * p.alpha) continue;
    const jitter = (): number => 1 + noise * (2 * r() - 1);
    out.push({ workload: { rps, inputTokens, outputTokens }, ttftMs: y.ttftMs * jitter(), itlMs: y.itlMs * jitter() });
  }
  return out;
}

function lightLoad(p: ServiceParams): TunerObservation {
  const workload = { rps: 0.02, inputTokens: 1000, outputTokens: 200 };
  const y = predictLatency(p, workload);
  if (!y) throw new Error('unstable at light load');
  return { workload, ttftMs: y.ttftMs, itlMs: y.itlMs };
}

describe('WVA queueing model: the model (§9)', () => {
  it('at no load: TTFT = α + (β+γ)·i and ITL = α + β + γ(i + (o+1)/2)', () => {
    const y = predictLatency(TRUE, { rps: 0, inputTokens: 1000, outputTokens: 200 });
    expect(y?.ttftMs).toBeCloseTo(TRUE.alpha + (TRUE.beta + TRUE.gamma) * 1000, 9);
    expect(y?.itlMs).toBeCloseTo(TRUE.alpha + TRUE.beta + TRUE.gamma * (1000 + 100.5), 9);
  });

  it('is unstable at ρ ≥ 1', () => {
    expect(predictLatency(TRUE, { rps: 1e6, inputTokens: 1000, outputTokens: 200 })).toBeUndefined();
  });

  it('λ* meets the target and a tighter target never gives a higher rate', () => {
    let last = Infinity;
    for (const itlMs of [60, 40, 30, 20, 15, 12, 10, 8]) {
      const rate = maxRatePerReplica(TRUE, 1000, 200, { ttftMs: 2000, itlMs }, 256);
      expect(rate).toBeLessThanOrEqual(last);
      last = rate;
      if (rate > 0) {
        const y = predictLatency(TRUE, { rps: rate, inputTokens: 1000, outputTokens: 200 });
        expect(y?.itlMs).toBeLessThanOrEqual(itlMs + 1e-9);
      }
    }
    // Below the idle ITL (α + β + γ·...) nothing meets it.
    expect(maxRatePerReplica(TRUE, 1000, 200, { ttftMs: 2000, itlMs: TRUE.alpha }, 256)).toBe(0);
    let lastT = Infinity;
    for (const ttftMs of [5000, 1000, 200, 100, 60, 45]) {
      const rate = maxRatePerReplica(TRUE, 1000, 200, { ttftMs, itlMs: 1000 }, 256);
      expect(rate).toBeLessThanOrEqual(lastT);
      lastT = rate;
    }
  });

  it('the max batch bounds λ*', () => {
    const free = maxRatePerReplica(TRUE, 1000, 200, { ttftMs: 1e6, itlMs: 1e6 }, 1e9);
    const bounded = maxRatePerReplica(TRUE, 1000, 200, { ttftMs: 1e6, itlMs: 1e6 }, 8);
    expect(bounded).toBeLessThan(free);
    const y = predictLatency(TRUE, { rps: bounded, inputTokens: 1000, outputTokens: 200 });
    expect(y?.concurrency).toBeLessThanOrEqual(8 + 1e-6);
  });
});

describe('WVA queueing model: bootstrap and tuner (§4.2, §9.5)', () => {
  it('the bootstrap inverts light-load observations into positive parameters, or gives up', () => {
    const y = predictLatency(TRUE, { rps: 0.01, inputTokens: 1000, outputTokens: 200 });
    if (!y) throw new Error('unstable');
    const b = bootstrapParams(y.ttftMs, y.itlMs, 1000, 200);
    expect(b?.alpha).toBeCloseTo(0.9 * y.itlMs, 9);
    expect(b && b.beta > 0 && b.gamma > 0).toBe(true);
    // TTFT below 0.9 x ITL: β + γ would be negative.
    expect(bootstrapParams(5, 10, 1000, 200)).toBeUndefined();
  });

  it.each([
    { name: 'H100, noiseless', p: TRUE, noise: 0 },
    { name: 'H100, 5 % noise', p: TRUE, noise: 0.05 },
    {
      name: 'L4, 5 % noise',
      p: {
        alpha: ACCELERATOR_PROFILES.L4.alphaMs,
        beta: ACCELERATOR_PROFILES.L4.betaMsPerToken,
        gamma: ACCELERATOR_PROFILES.L4.gammaMsPerKvToken,
      },
      noise: 0.05,
    },
  ])('recovers known α/β/γ from observations at varied loads: $name', ({ p, noise }) => {
    const obs = observations(p, 400, noise, 7);
    // The bootstrap assumes light load (§9.5): the first observation is one.
    let s = initialTunerState(lightLoad(p));
    for (const o of obs) s = tunerStep(s, o);
    expect(s.accepted).toBeGreaterThan(300);
    const [a, b, g] = s.x;
    expect(Math.abs(a / p.alpha - 1)).toBeLessThan(0.1);
    expect(Math.abs(b / p.beta - 1)).toBeLessThan(0.1);
    expect(Math.abs(g / p.gamma - 1)).toBeLessThan(0.25);
  });

  it('a settled filter keeps its estimate when the GPU changes under it: the gate restores state and covariance', () => {
    const l4: ServiceParams = {
      alpha: ACCELERATOR_PROFILES.L4.alphaMs,
      beta: ACCELERATOR_PROFILES.L4.betaMsPerToken,
      gamma: ACCELERATOR_PROFILES.L4.gammaMsPerKvToken,
    };
    let s = initialTunerState(lightLoad(TRUE));
    for (const o of observations(TRUE, 200, 0.02, 5)) s = tunerStep(s, o);
    const settled = s;
    for (const o of observations(l4, 50, 0.02, 6)) s = tunerStep(s, o);
    expect(s.x).toEqual(settled.x);
    expect(s.P).toEqual(settled.P);
    expect(s.rejected).toBe(settled.rejected + 50);
  });

  it('rejects an outlier (NIS ≥ 7.378) and keeps the previous state', () => {
    const obs = observations(TRUE, 200, 0.02, 3);
    let s = initialTunerState(lightLoad(TRUE));
    for (const o of obs) s = tunerStep(s, o);
    const o = obs[5];
    if (!o) throw new Error('no observation');
    const after = tunerStep(s, { ...o, ttftMs: o.ttftMs * 20, itlMs: o.itlMs * 20 });
    expect(after.rejected).toBe(s.rejected + 1);
    expect(after.x).toEqual(s.x);
  });
});

const pod = (over: Partial<TokenPodView>): TokenPodView => ({
  pod: 'p',
  deployment: 'd',
  accelerator: 'H100',
  kvPeak: 0.2,
  waitingPeak: 0,
  kvCapacityTokens: 100_000,
  avgPromptTokens: 1000,
  avgOutputTokens: 200,
  completionRps: 1,
  avgTtftMs: 100,
  avgItlMs: 10,
  ...over,
});

describe('WVA queueing model: workload and sizing (§4.1, §4.3)', () => {
  it('averages weighted by arrival rate over the pods with traffic', () => {
    const w = aggregateWorkload([
      pod({ pod: 'a', completionRps: 3, avgPromptTokens: 1000, avgTtftMs: 100 }),
      pod({ pod: 'b', completionRps: 1, avgPromptTokens: 2000, avgTtftMs: 300 }),
      pod({ pod: 'c', completionRps: 0, avgPromptTokens: 9000 }),
    ]);
    expect(w).toMatchObject({ totalRps: 4, busyPods: 2, inputTokens: 1250, ttftMs: 150 });
    expect(aggregateWorkload([pod({ completionRps: 0 })])).toBeUndefined();
  });

  const variant = parseTriggerMetadata('ns', 'd', {
    modelID: 'm',
    variantCost: '10',
    minReplicas: '1',
    maxReplicas: '20',
  });
  const observation = (now: number, pods: TokenPodView[], current: number): PolicyObservation => ({
    now,
    namespace: 'ns',
    modelID: 'm',
    variants: [{ variant, current, ready: current }],
    metrics: {
      namespace: 'ns',
      modelID: 'm',
      replicas: [],
      requestsOverRetention: undefined,
      gatewayQueue: 0,
      collectedAt: now,
      seenModelNames: ['m'],
    },
    sumWaiting: 0,
    offeredRps: 0,
    peakOfferedRps: () => 0,
    tokens: { pods, sumKvUsage: 0, gatewayQueue: 0, gatewayQueuedTokens: 0, inflightTokens: 0, runningRequests: 0 },
  });

  it('holds until it has parameters, then asks for ceil(arrivals / λ*) and exposes what it learned', () => {
    const policy = new WvaQueueingModelPolicy({ ...QM_DEFAULTS, target: { ttftMs: 2000, itlMs: 20 } });
    const at = (rps: number): TokenPodView[] => {
      const y = predictLatency(TRUE, { rps, inputTokens: 1000, outputTokens: 200 });
      if (!y) throw new Error('unstable');
      return [pod({ completionRps: rps, avgTtftMs: y.ttftMs, avgItlMs: y.itlMs })];
    };
    // Inside the transient delay the tuner has nothing: hold.
    const early = policy.decide(observation(0, at(1), 1));
    expect(early.values.get(variant.key)).toBe(1);
    expect(early.note).toMatch(/hold/);
    expect(policy.learnedServiceModels().size).toBe(0);
    for (let t = 120_000; t <= 600_000; t += 15_000) policy.decide(observation(t, at(0.5 + (t % 60_000) / 60_000), 1));
    const learned = policy.learnedServiceModels().get(variant.key);
    expect(learned?.confident).toBe(true);
    if (!learned) throw new Error('nothing learned');
    const rate = maxRatePerReplica(learned, 1000, 200, { ttftMs: 2000, itlMs: 20 }, 256);
    expect(rate).toBeGreaterThan(0);
    // 12 req/s of arrivals on one pod (no latency in the window: the tuner skips it) at the learned λ*.
    const out = policy.decide(
      observation(615_000, [pod({ completionRps: 12, avgTtftMs: undefined, avgItlMs: undefined })], 1),
    );
    expect(out.values.get(variant.key)).toBe(Math.min(20, Math.ceil(12 / rate)));
    expect(out.values.get(variant.key)).toBeGreaterThan(1);
  });
});
