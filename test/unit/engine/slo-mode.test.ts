import { describe, expect, it } from 'vitest';
import { parseSaturationConfig, EMPTY_SATURATION_CONFIG } from '../../../src/config/saturation-config.js';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import {
  DEFAULT_ENGINE_FEATURES,
  NO_ENGINE_FEATURES,
  type EngineFeatures,
} from '../../../src/domain/engine-features.js';
import { decideModel, type ModelOutcome } from '../../../src/engine/model-decision.js';
import { trackedModelOf } from '../../../src/engine/engine.js';
import { EMPTY_MODEL_STATE, type ModelState } from '../../../src/engine/model-state.js';
import { maxRateWithin } from '../../../src/engine/slo/latency-model.js';
import type { ServiceModelState } from '../../../src/engine/slo/service-model.js';
import { ACCELERATOR_PROFILES } from '../../../src/sim/fleet/profiles.js';
import type { VariantState } from '../../../src/engine/saturation-analyzer.js';
import { MODEL, NOW, NS, confidentServiceModel, metrics, state, variant } from './fixtures.js';

const H100 = ACCELERATOR_PROFILES.H100;
const TRUE = { alpha: H100.alphaMs, beta: H100.betaMsPerToken, gamma: H100.gammaMsPerKvToken };
const SLO = parseSaturationConfig({ default: 'sloMode: true\ntargetTTFT: 2000\ntargetITL: 50' });
const KV_TOKENS = H100.numGpuBlocks * 16;
const P = 1000;
const O = 200;

/** An H100 replica serving `rate` req/s, with the latencies its true α/β/γ give at that load. */
function replica(i: number, rate: number): ReplicaMetrics {
  const running = 60;
  const k = running * (P + O / 2);
  // The fixed points of the observation model (slo/observations.ts): arrivals' prompt chunks share each step.
  const share = 1 - (TRUE.beta * rate * P) / 1000;
  const itl = (TRUE.alpha + TRUE.beta * running + TRUE.gamma * k) / share;
  // Prefill: y = α + β·(P·(1 + λ·(itl + y)/2000) + n) + γ·(K + P), solved for y.
  const prefill =
    (TRUE.alpha + TRUE.beta * (P * (1 + (rate * itl) / 2000) + running) + TRUE.gamma * (k + P)) /
    (1 - (TRUE.beta * P * rate) / 2000);
  return {
    namespace: NS,
    modelID: MODEL,
    pod: `h100-${i}`,
    variantKey: `${NS}/h100`,
    kvCacheUsage: k / KV_TOKENS,
    kvCacheUsageNow: k / KV_TOKENS,
    queueLength: 0,
    queueLengthNow: 0,
    running,
    requestRate: rate,
    serviceSeconds: undefined,
    kvCapacityTokens: KV_TOKENS,
    promptTokensPerRequest: P,
    outputTokensPerRequest: O,
    itlMeanMs: itl,
    ttftMeanMs: prefill + 20,
    queueTimeMeanMs: 20,
    ttftP95Ms: prefill * 2,
  };
}

const confident: ServiceModelState = confidentServiceModel(TRUE, NOW - 15_000);

function run(
  current: number,
  ratePerReplica: number,
  opts: {
    learned?: ServiceModelState;
    saturation?: typeof SLO;
    states?: VariantState[];
    /** What every replica measured beyond its true α/β/γ's latencies. */
    measured?: Partial<ReplicaMetrics>;
    features?: EngineFeatures;
  } = {},
): ModelOutcome {
  const v = variant('h100', { maxReplicas: 20 });
  const st: ModelState = opts.learned
    ? { ...EMPTY_MODEL_STATE, service: new Map([[v.key, opts.learned]]) }
    : EMPTY_MODEL_STATE;
  return decideModel({
    namespace: NS,
    modelID: MODEL,
    variants: opts.states ?? [state(v, current)],
    metrics: metrics(Array.from({ length: current }, (_, i) => ({ ...replica(i, ratePerReplica), ...opts.measured }))),
    config: {
      saturation: opts.saturation ?? SLO,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
      maxScaleUpRate: 2,
      features: opts.features,
    },
    previous: new Map(),
    now: NOW,
    state: st,
  });
}

const codes = (o: ModelOutcome): string[] => o.targets.notes.map((n) => n.code);

describe('SLO mode in the engine', () => {
  it('falls back to saturation sizing, saying so, while the learner is not confident', () => {
    const o = run(3, 5);
    expect(codes(o)).toContain('slo-fallback');
    expect(codes(o)).not.toContain('slo-size');
    expect(o.decisions[0]?.reasons.some((r) => r.startsWith('SLO mode: sized by saturation: learning'))).toBe(true);
  });

  it('learns the service model from the cycle in SLO mode, and in saturation mode for step 4 unless token capacity is off', () => {
    const o = run(3, 5);
    const learned = o.state.service.get(`${NS}/h100`);
    expect(learned?.samples).toBe(6); // 3 replicas x (ITL + prefill)
    expect(o.decisions[0]?.serviceModel?.samples).toBe(6);
    // Saturation mode learns it too (step 4's bound, service-bound.ts), but shows no SLO plan.
    const sat = run(3, 5, { saturation: EMPTY_SATURATION_CONFIG });
    expect(sat.state.service.get(`${NS}/h100`)?.samples).toBe(6);
    expect(sat.decisions[0]?.serviceModel).toBeUndefined();
    expect(codes(sat)).not.toContain('slo-fallback');
    const off = run(3, 5, { saturation: EMPTY_SATURATION_CONFIG, features: NO_ENGINE_FEATURES });
    expect(off.state.service.size).toBe(0);
  });

  it('sizes by the learned model once confident: up to what keeps the targets at the arrivals', () => {
    const cap = maxRateWithin(TRUE, { promptTokens: P, outputTokens: O, maxBatch: 256 }, { ttftMs: 2000, itlMs: 50 });
    // 3 replicas serve 3 x 1.2 cap: the plan is ceil(3.6) = 4.
    const o = run(3, cap * 1.2, { learned: confident });
    expect(codes(o)).toContain('slo-size');
    expect(codes(o)).not.toContain('slo-fallback');
    expect(o.targets.action).toBe('scale-up');
    expect(o.decisions[0]?.desiredReplicas).toBe(4);
    // The reason shows the model's plan beside what the replicas measured.
    expect(o.decisions[0]?.reasons.find((r) => r.startsWith('SLO sizing: scale up by 1'))).toMatch(
      /within p95 TTFT 2000 ms and ITL 50 ms \(ns\/h100 [\d.]+\/s per replica\); measured: p95 TTFT \d+ ms, ITL \d+ ms/,
    );
    expect(o.decisions[0]?.serviceModel?.confident).toBe(true);
    expect(o.decisions[0]?.serviceModel?.ratePerReplica).toBeCloseTo(cap, 1);
  });

  it('scales down to the plan at the highest recent arrivals plus headroom, keeping the floor', () => {
    const cap = maxRateWithin(TRUE, { promptTokens: P, outputTokens: O, maxBatch: 256 }, { ttftMs: 2000, itlMs: 50 });
    // 4 replicas at 0.2 cap each: 0.8 cap x 1.1 -> 1 replica.
    const o = run(4, cap * 0.2, { learned: confident });
    expect(o.targets.action).toBe('scale-down');
    expect(o.decisions[0]?.desiredReplicas).toBe(1);
    const idle = run(2, 0.001, { learned: confident });
    expect(idle.decisions[0]?.desiredReplicas).toBe(1); // the floor: never 0 without scale to zero
  });

  it('a confident model its replicas contradict does not size: saturation decides, saying why, and the learner re-opens', () => {
    const cap = maxRateWithin(TRUE, { promptTokens: P, outputTokens: O, maxBatch: 256 }, { ttftMs: 2000, itlMs: 50 });
    // At half its capacity the model predicts both targets met; the replicas measured 30 s (a slower GPU).
    const o = run(3, cap * 0.5, { learned: confident, measured: { ttftP95Ms: 30_000 } });
    expect(codes(o)).toContain('slo-model-contradicted');
    expect(codes(o)).not.toContain('slo-size');
    expect(o.decisions[0]?.reasons.find((r) => r.includes('contradicted'))).toMatch(
      /^SLO mode: sized by saturation: ns\/h100's service model is contradicted: h100-0 measured p95 TTFT 30000 ms \(target 2000 ms\) at [\d.]+\/s where the model predicts \d+ ms; re-learning$/,
    );
    const reopened = o.state.service.get(`${NS}/h100`);
    expect(reopened?.confident).toBe(false);
    expect(o.decisions[0]?.serviceModel?.confident).toBe(false);
    // The same replicas measuring within target: the model sizes.
    expect(codes(run(3, cap * 0.5, { learned: confident }))).toContain('slo-size');
  });

  it('never scales down while a replica is pending', () => {
    const v = variant('h100', { maxReplicas: 20 });
    const o = run(4, 1, { learned: confident, states: [state(v, 4, 3)] });
    expect(o.targets.action).toBe('hold');
    expect(o.decisions[0]?.desiredReplicas).toBe(4);
  });

  it('holds on missing metrics as in saturation mode', () => {
    const v = variant('h100', { maxReplicas: 20 });
    const o = decideModel({
      namespace: NS,
      modelID: MODEL,
      variants: [state(v, 3)],
      metrics: undefined,
      config: { saturation: SLO, scaleToZero: { enabled: false, retentionMs: 600_000 }, maxScaleUpRate: 2 },
      previous: new Map(),
      now: NOW,
      state: { ...EMPTY_MODEL_STATE, service: new Map([[v.key, confident]]) },
    });
    expect(o.decisions.every((d) => d.desiredReplicas >= 3) || o.targets.unavailableReason !== undefined).toBe(true);
    expect(codes(o)).not.toContain('slo-size');
  });
});

describe('what the collector is asked for', () => {
  const config = (saturation: typeof SLO, features: EngineFeatures = NO_ENGINE_FEATURES) => ({
    saturation,
    scaleToZero: { enabled: false, retentionMs: 600_000 },
    maxScaleUpRate: 2,
    features,
  });

  it('latency signals for a model in SLO mode (config or trigger metadata) or with token capacity on, none else', () => {
    expect(trackedModelOf([variant('a')], config(SLO)).latency).toBe(true);
    expect(trackedModelOf([variant('a')], config(EMPTY_SATURATION_CONFIG)).latency).toBe(false);
    const fromMetadata = variant('b', { slo: { sloMode: true, targetTTFT: 1500, targetITL: 40 } });
    expect(trackedModelOf([variant('a'), fromMetadata], config(EMPTY_SATURATION_CONFIG)).latency).toBe(true);
    // Step 4's service-model bound learns from them in saturation mode (the default features).
    expect(trackedModelOf([variant('a')], config(EMPTY_SATURATION_CONFIG, DEFAULT_ENGINE_FEATURES)).latency).toBe(true);
  });
});
