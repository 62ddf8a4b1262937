import { describe, expect, it } from 'vitest';
import type { ReplicaMetrics } from '../../../../src/domain/metrics.js';
import { contextTokens, observationsOf } from '../../../../src/engine/slo/observations.js';

const base: ReplicaMetrics = {
  namespace: 'ns',
  modelID: 'm',
  pod: 'p-1',
  variantKey: 'ns/p',
  kvCacheUsage: 0.3,
  kvCacheUsageNow: 0.25,
  queueLength: 0,
  running: 10,
  requestRate: 2,
  serviceSeconds: undefined,
  kvCapacityTokens: 100_000,
  promptTokensPerRequest: 1000,
  outputTokensPerRequest: 200,
  itlMeanMs: 20,
  ttftMeanMs: 130,
  queueTimeMeanMs: 30,
};

describe('observations from one replica', () => {
  it('gives an ITL and a prefill observation, linear in α/β/γ with the measured counts', () => {
    const [itl, prefill] = observationsOf(base);
    // n + λ·P·ITL/1000 = 10 + 2 x 1000 x 0.02; K = 0.25 x 100,000 (the latest KV, not the peak).
    expect(itl).toEqual({ kind: 'itl', y: 20, h: [1, 50, 25_000] });
    // y = 100; τ = (20 + 100)/2 = 60: P (1 + 2 x 0.06) + n = 1120 + 10; K + P.
    expect(prefill?.kind).toBe('prefill');
    expect(prefill?.y).toBe(100);
    expect(prefill?.h[1]).toBeCloseTo(1130, 9);
    expect(prefill?.h[2]).toBe(26_000);
  });

  it('without cache_config_info the context is running x (prompt + output / 2)', () => {
    expect(contextTokens({ ...base, kvCapacityTokens: undefined }, 10)).toBe(10 * 1100);
    expect(
      contextTokens({ ...base, kvCapacityTokens: undefined, outputTokensPerRequest: undefined }, 10),
    ).toBeUndefined();
  });

  it('a missing value gives no observation of its kind, never a 0', () => {
    expect(observationsOf({ ...base, running: 0 })).toEqual([]);
    expect(observationsOf({ ...base, running: undefined })).toEqual([]);
    expect(observationsOf({ ...base, itlMeanMs: undefined }).map((o) => o.kind)).toEqual(['prefill']);
    expect(observationsOf({ ...base, queueTimeMeanMs: undefined }).map((o) => o.kind)).toEqual(['itl']);
    expect(observationsOf({ ...base, ttftMeanMs: 20, queueTimeMeanMs: 30 }).map((o) => o.kind)).toEqual(['itl']);
  });

  it('a replica in a transient, near a full cache, or with a queue teaches nothing (or no prefill)', () => {
    // Just started: no completion in its window.
    expect(observationsOf({ ...base, requestRate: 0 })).toEqual([]);
    // Its load just fell: KV now far below its 1-minute peak.
    expect(observationsOf({ ...base, kvCacheUsage: 0.9, kvCacheUsageNow: 0.1 })).toEqual([]);
    // Near a full cache (preemptions: recompute the counts do not show).
    expect(observationsOf({ ...base, kvCacheUsage: 0.95, kvCacheUsageNow: 0.95 })).toEqual([]);
    // A request waited on it within the minute: its TTFT is not one step after its queue time.
    expect(observationsOf({ ...base, queueLength: 2 }).map((o) => o.kind)).toEqual(['itl']);
  });

  // An overloaded replica: its ITL (step time with the measured batch and context) is linear in α/β/γ
  // at any load; near a full cache it is biased by recompute, so it is taken only for a model that
  // measurement contradicted ('itl'); the prefill observation never under a queue or a full cache.
  it.each([
    ['queue and full cache', { queueLength: 40, kvCacheUsage: 1, kvCacheUsageNow: 0.99 }, 'none', []],
    [
      'queue and full cache, re-opened model',
      { queueLength: 40, kvCacheUsage: 1, kvCacheUsageNow: 0.99 },
      'itl',
      ['itl'],
    ],
    ['full cache, no queue', { kvCacheUsage: 0.97, kvCacheUsageNow: 0.96 }, 'none', []],
    ['full cache, no queue, re-opened model', { kvCacheUsage: 0.97, kvCacheUsageNow: 0.96 }, 'itl', ['itl']],
    ['queue, cache with room', { queueLength: 5, kvCacheUsage: 0.6, kvCacheUsageNow: 0.6 }, 'none', ['itl']],
    ['headroom, re-opened model', { kvCacheUsage: 0.6, kvCacheUsageNow: 0.6 }, 'itl', ['itl', 'prefill']],
    ['full cache in a transient (load fell)', { queueLength: 40, kvCacheUsage: 1, kvCacheUsageNow: 0.3 }, 'itl', []],
  ] as const)('overload: %s gives %j', (_name, over, fullCache, kinds) => {
    expect(observationsOf({ ...base, ...over }, fullCache).map((o) => o.kind)).toEqual(kinds);
  });

  it("an overloaded replica's ITL observation uses its measured batch and context", () => {
    const [itl] = observationsOf(
      { ...base, queueLength: 40, kvCacheUsage: 1, kvCacheUsageNow: 0.98, itlMeanMs: 120 },
      'itl',
    );
    // n + λ·P·ITL/1000 = 10 + 2 x 1000 x 0.12; K = 0.98 x 100,000.
    expect(itl?.h[0]).toBe(1);
    expect(itl?.h[1]).toBeCloseTo(250, 9);
    expect(itl?.h[2]).toBeCloseTo(98_000, 6);
  });
});
