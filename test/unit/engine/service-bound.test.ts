import { describe, expect, it } from 'vitest';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import { EMPTY_MODEL_STATE, type ModelState } from '../../../src/engine/model-state.js';
import { buildModelContext } from '../../../src/engine/model-context.js';
import { analyzeModel } from '../../../src/engine/saturation-analyzer.js';
import {
  COMPUTE_TARGET,
  servedBy,
  serviceBoundInputsOf,
  serviceCapacity,
  type ServiceBoundInputs,
} from '../../../src/engine/service-bound.js';
import { flatOutRate } from '../../../src/engine/slo/latency-model.js';
import { DEFAULT_ENGINE_FEATURES, NO_ENGINE_FEATURES } from '../../../src/domain/engine-features.js';
import { resolveThresholds, EMPTY_SATURATION_CONFIG } from '../../../src/config/saturation-config.js';
import { MODEL, NOW, NS, confidentServiceModel, metrics, replica, state, variant } from './fixtures.js';

const h100 = variant('h100', { cost: 30 });
const l4 = variant('l4', { cost: 1 });
/** The fleet's H100 (src/sim/fleet/profiles.ts), γ left out: one request's work is β x its tokens. */
const H100 = { alpha: 7.29, beta: 0.0325, gamma: 0 };
const L4 = { alpha: 56, beta: 0.265, gamma: 0 };

/** A replica finishing `rate`/s of requests with `prompt` / `output` tokens each. */
function serving(v: typeof h100, i: number, rate: number, prompt = 2000, output = 400): ReplicaMetrics {
  return { ...replica(v, i, 0.1, 0, 60, rate), promptTokensPerRequest: prompt, outputTokensPerRequest: output };
}

interface Case {
  readonly reps: readonly ReplicaMetrics[];
  readonly current?: Readonly<Record<string, number>>;
  readonly service?: ModelState['service'];
  readonly arrivals?: number;
  readonly features?: typeof DEFAULT_ENGINE_FEATURES;
}

function ctxOf(c: Case) {
  const current = c.current ?? { h100: c.reps.length };
  const states = Object.entries(current).map(([name, n]) => state(name === 'l4' ? l4 : h100, n));
  const m = metrics(c.reps, c.arrivals === undefined ? {} : { gatewayArrivalRate: c.arrivals });
  const t = resolveThresholds(EMPTY_SATURATION_CONFIG, NS, MODEL);
  const analysis = analyzeModel({
    namespace: NS,
    modelID: MODEL,
    variants: states,
    metrics: m,
    thresholdsByVariant: new Map(states.map((s) => [s.variant.key, t])),
    modelThresholds: t,
    now: NOW,
    replicaDetail: true,
  });
  const serviceBound: ServiceBoundInputs = serviceBoundInputsOf(
    states.map((s) => s.variant.key),
    c.reps,
  );
  return buildModelContext({
    analysis,
    variants: states,
    previous: new Map(),
    scaleToZero: { enabled: false, retentionMs: 600_000 },
    maxScaleUpRate: 2,
    now: NOW,
    features: c.features ?? DEFAULT_ENGINE_FEATURES,
    state: { ...EMPTY_MODEL_STATE, service: c.service ?? new Map([[h100.key, confidentServiceModel(H100, NOW)]]) },
    serviceBound,
  });
}

describe('serviceBoundInputsOf', () => {
  it("takes each variant's highest completion rate and the model's token mix", () => {
    const inputs = serviceBoundInputsOf(
      [h100.key, l4.key],
      [serving(h100, 0, 6), serving(h100, 1, 9), serving(l4, 0, 1)],
    );
    expect(inputs.servedRates).toEqual(
      new Map([
        [h100.key, 9],
        [l4.key, 1],
      ]),
    );
    expect(inputs.workloads?.get(h100.key)).toMatchObject({ promptTokens: 2000, outputTokens: 400 });
  });

  it('has no workloads when no replica reports its tokens per request', () => {
    expect(serviceBoundInputsOf([h100.key], [replica(h100, 0, 0.1, 0, 60, 5)]).workloads).toBeUndefined();
  });
});

describe('serviceCapacity', () => {
  // 2,000 prompt / 400 output tokens on the H100: 0.0325 x 2,400 = 78 ms of work a request, 12.82/s flat out.
  const flat = flatOutRate(H100, { promptTokens: 2000, outputTokens: 400, maxBatch: 256 });

  it('prices each replica at COMPUTE_TARGET of its flat-out rate at the mix of this minute', () => {
    expect(flat).toBeCloseTo(1000 / 78, 6);
    const cap = serviceCapacity(ctxOf({ reps: [0, 1, 2, 3].map((i) => serving(h100, i, 10)), arrivals: 40 }));
    expect(cap?.demand).toBe(40);
    expect(cap?.rates.get(h100.key)).toBeCloseTo(COMPUTE_TARGET * flat, 6);
    expect(cap?.text).toContain('2000 prompt / 400 output tokens');
    // 3 replicas serve 32.7/s at the target: fewer than the 40/s arriving; 4 serve 43.6/s.
    expect(servedBy(new Map([[h100.key, 3]]), cap!)).toBeLessThan(40);
    expect(servedBy(new Map([[h100.key, 4]]), cap!)).toBeGreaterThan(40);
  });

  it('prices a lighter mix higher: the same model, half the tokens, twice the rate', () => {
    const light = serviceCapacity(ctxOf({ reps: [0, 1].map((i) => serving(h100, i, 10, 1000, 200)), arrivals: 20 }));
    expect(light?.rates.get(h100.key)).toBeCloseTo(2 * COMPUTE_TARGET * flat, 6);
  });

  it.each<[string, Case]>([
    ['the token-capacity feature is off', { reps: [serving(h100, 0, 5)], arrivals: 5, features: NO_ENGINE_FEATURES }],
    ['nothing reports completions or arrivals', { reps: [{ ...serving(h100, 0, 5), requestRate: undefined }] }],
    ['the token mix is unknown', { reps: [replica(h100, 0, 0.1, 0, 60, 5)], arrivals: 5 }],
    [
      'the model of a variant with replicas is not confident',
      {
        reps: [serving(h100, 0, 5)],
        arrivals: 5,
        service: new Map([[h100.key, { ...confidentServiceModel(H100, NOW), confident: false }]]),
      },
    ],
    ['a variant with replicas has no model', { reps: [serving(h100, 0, 5)], arrivals: 5, service: new Map() }],
    // 13/s completed where the model says 12.82/s is all one serves: the model is wrong, not the replica.
    [
      'a replica completes more than its model says one serves flat out',
      { reps: [serving(h100, 0, 13)], arrivals: 13 },
    ],
  ])('no bound when %s', (_, c) => {
    expect(serviceCapacity(ctxOf(c))).toBeUndefined();
  });

  it("prices each variant at its own model's rate and skips a variant without replicas", () => {
    const both = new Map([
      [h100.key, confidentServiceModel(H100, NOW)],
      [l4.key, confidentServiceModel(L4, NOW)],
    ]);
    const cap = serviceCapacity(
      ctxOf({
        reps: [serving(h100, 0, 5), serving(l4, 0, 1)],
        current: { h100: 1, l4: 1 },
        service: both,
        arrivals: 6,
      }),
    );
    expect(cap?.rates.get(h100.key)).toBeCloseTo(COMPUTE_TARGET * flat, 6);
    expect(cap?.rates.get(l4.key)).toBeCloseTo(
      COMPUTE_TARGET * flatOutRate(L4, { promptTokens: 2000, outputTokens: 400, maxBatch: 1 }),
      6,
    );
    // An L4 without replicas and without a model does not keep the H100's bound from applying.
    const h100Only = serviceCapacity(ctxOf({ reps: [serving(h100, 0, 5)], current: { h100: 1, l4: 0 }, arrivals: 5 }));
    expect([...(h100Only?.rates.keys() ?? [])]).toEqual([h100.key]);
  });
});
