import { describe, expect, it } from 'vitest';
import type { ReplicaMetrics } from '../../../../src/domain/metrics.js';
import { checkServiceModels, contradictionOf } from '../../../../src/engine/slo/contradiction.js';
import { predictLatency, type Workload } from '../../../../src/engine/slo/latency-model.js';
import {
  MAX_REL_STD,
  PRIOR_STD,
  reopenServiceModel,
  updateServiceModel,
  type Observation,
  type ServiceModelState,
} from '../../../../src/engine/slo/service-model.js';
import { ACCELERATOR_PROFILES } from '../../../../src/sim/fleet/profiles.js';
import { confidentServiceModel } from '../fixtures.js';

const paramsOf = (a: 'H100' | 'A100' | 'L4') => {
  const p = ACCELERATOR_PROFILES[a];
  return { alpha: p.alphaMs, beta: p.betaMsPerToken, gamma: p.gammaMsPerKvToken };
};
const W: Workload = { promptTokens: 1000, outputTokens: 200, maxBatch: 256 };
const T = { ttftMs: 2000, itlMs: 100 };
const A100 = paramsOf('A100');

const confident: ServiceModelState = confidentServiceModel(A100, 0);

const replica = (over: Partial<ReplicaMetrics>): ReplicaMetrics => ({
  namespace: 'ns',
  modelID: 'm',
  pod: 'a100-0',
  variantKey: 'ns/a100',
  kvCacheUsage: 0.5,
  queueLength: 0,
  running: 10,
  requestRate: 1.1,
  serviceSeconds: undefined,
  ttftP95Ms: 400,
  itlMeanMs: 30,
  ...over,
});

describe('a learned model that measurement contradicts', () => {
  // The A100 model at 1.1 req/s predicts both targets met; what the replica measured decides.
  it.each([
    ['p95 TTFT over target (a slower GPU)', { ttftP95Ms: 40_000 }, 'ttft'],
    ['ITL over target (a slower GPU)', { itlMeanMs: 180 }, 'itl'],
    ['both over: TTFT is named first', { ttftP95Ms: 40_000, itlMeanMs: 180 }, 'ttft'],
    ['both within target', {}, undefined],
    ['TTFT not measured: no evidence', { ttftP95Ms: undefined }, undefined],
    ['no completion in the window: no load to compare', { requestRate: 0, ttftP95Ms: 40_000 }, undefined],
    ['completion rate unknown', { requestRate: undefined, ttftP95Ms: 40_000 }, undefined],
    // At the most an A100 completes, the model itself predicts the objective missed: overload, not a wrong model.
    ['over target while the model predicts it missed at that load', { requestRate: 50, ttftP95Ms: 40_000 }, undefined],
  ] as const)('%s', (_name, over, kind) => {
    const c = contradictionOf(A100, W, [replica(over)], T);
    expect(c?.kind).toBe(kind);
    if (c) {
      expect(c.pod).toBe('a100-0');
      expect(c.rate).toBe(1.1);
      const pred = predictLatency(A100, W, 1.1);
      expect(c.predictedMs).toBe(kind === 'ttft' ? pred.ttftP95Ms : pred.itlMs);
    }
  });

  it('any one replica over target while the model says it meets it is enough', () => {
    const c = contradictionOf(A100, W, [replica({}), replica({ pod: 'a100-1', itlMeanMs: 150 })], T);
    expect(c).toMatchObject({ pod: 'a100-1', kind: 'itl', measuredMs: 150 });
  });

  it('a contradicted confident model is re-opened; others and non-confident ones are left as they are', () => {
    const learning: ServiceModelState = { ...confident, confident: false };
    const service = new Map([
      ['ns/a100', confident],
      ['ns/other', confident],
      ['ns/learning', learning],
    ]);
    const inputs = {
      target: T,
      workloads: new Map([
        ['ns/a100', W],
        ['ns/other', W],
        ['ns/learning', W],
      ]),
    };
    const slow = { ttftP95Ms: 40_000 };
    const checked = checkServiceModels(
      service,
      inputs,
      [
        replica(slow),
        replica({ pod: 'other-0', variantKey: 'ns/other' }),
        replica({ ...slow, pod: 'learning-0', variantKey: 'ns/learning' }),
      ],
      7,
    );
    expect([...checked.contradictions.keys()]).toEqual(['ns/a100']);
    expect(checked.service.get('ns/a100')).toMatchObject({ confident: false, reopenedAt: 7 });
    expect(checked.service.get('ns/other')).toBe(confident);
    expect(checked.service.get('ns/learning')).toBe(learning);
  });

  it('nothing contradicted: the same map back', () => {
    const service = new Map([['ns/a100', confident]]);
    const checked = checkServiceModels(service, { target: T, workloads: new Map([['ns/a100', W]]) }, [replica({})], 7);
    expect(checked.service).toBe(service);
    expect(checked.contradictions.size).toBe(0);
  });
});

describe('re-opening a learner', () => {
  it('keeps the estimate, widens the covariance towards the prior and drops confidence until both kinds re-learn', () => {
    const r = reopenServiceModel(confident, 7);
    expect(r.reopenedAt).toBe(7);
    expect([r.alpha, r.beta, r.gamma]).toEqual([A100.alpha, A100.beta, A100.gamma]);
    PRIOR_STD.forEach((s, i) => expect(r.covariance[i * 4]).toBeGreaterThanOrEqual((s * s) / 4));
    expect(r.confident).toBe(false);
    expect(r.itlRelStd).toBeUndefined();
    expect(r.prefillRelStd).toBeUndefined();
    // ITL observations alone (an overloaded replica gives no prefill one) do not make it confident again.
    const itl: Observation = { kind: 'itl', y: 60, h: [1, 20, 100_000] };
    const after = updateServiceModel(
      r,
      Array.from({ length: 20 }, () => itl),
      1,
    );
    expect(after?.itlRelStd).toBeLessThanOrEqual(MAX_REL_STD);
    expect(after?.confident).toBe(false);
    expect(after?.reopenedAt).toBe(7);
    // Prefill observations too: confident again, and no longer re-opened.
    const prefill: Observation = { kind: 'prefill', y: 90, h: [1, 1100, 101_000] };
    const settled = updateServiceModel(after, [...Array.from({ length: 20 }, () => prefill), itl], 2);
    expect(settled?.confident).toBe(true);
    expect(settled?.reopenedAt).toBeUndefined();
  });

  it('re-learns a slower GPU from its ITL observations at once rather than creeping', () => {
    const l4 = paramsOf('L4');
    const obs: Observation[] = [];
    for (let n = 5; n <= 25; n += 5)
      for (const k of [50_000, 100_000, 150_000]) {
        const h: [number, number, number] = [1, n, k];
        obs.push({ kind: 'itl', y: l4.alpha + l4.beta * n + l4.gamma * k, h });
      }
    const after = updateServiceModel(reopenServiceModel(confident, 7), obs, 1);
    const at = (m: typeof l4) => m.alpha + m.beta * 20 + m.gamma * 120_000;
    expect(Math.abs(at(after!) - at(l4)) / at(l4)).toBeLessThan(0.1);
  });
});
