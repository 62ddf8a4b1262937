/** Issue 20's capacity in KV tokens and the per-replica throughput learned per variant. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_FEATURES } from '../../../src/domain/engine-features.js';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import { replicasForTokens, tokenLoad } from '../../../src/engine/token-capacity.js';
import { THROUGHPUT_WEIGHT, modelReplicaRate, updateThroughput } from '../../../src/engine/throughput-learning.js';
import { learnIdle } from '../../../src/engine/model-state.js';
import { decide, desiredByName, metrics, replica, state, variant } from './fixtures.js';

const small = variant('l4', { cost: 3, maxReplicas: 10 });
const big = variant('h100', { cost: 10, maxReplicas: 10 });

const withTokens = (r: ReplicaMetrics, capacity: number, prompt?: number): ReplicaMetrics => ({
  ...r,
  kvCapacityTokens: capacity,
  promptTokensPerRequest: prompt,
});

describe('token load', () => {
  it.each([
    {
      name: 'tokens in use add up across accelerators of different sizes',
      reps: [withTokens(replica(small, 0, 0.5, 0), 10_000), withTokens(replica(big, 0, 0.5, 0), 40_000)],
      gateway: 0,
      demand: 25_000,
      queued: 0,
    },
    {
      name: 'queued requests count their prompt tokens, at the gateway too',
      reps: [withTokens(replica(big, 0, 0.5, 4), 40_000, 1000)],
      gateway: 2,
      demand: 20_000 + 4000 + 2000,
      queued: 6000,
    },
    {
      name: 'no prompt size known: queued requests add no tokens (the queue need still counts them)',
      reps: [withTokens(replica(big, 0, 0.5, 4), 40_000)],
      gateway: 2,
      demand: 20_000,
      queued: 0,
    },
  ])('$name', ({ reps, gateway, demand, queued }) => {
    const load = tokenLoad(reps, gateway);
    expect(load?.demandTokens).toBeCloseTo(demand);
    expect(load?.queuedTokens).toBeCloseTo(queued);
  });

  it('is unknown when any reporting replica lacks the info gauge: sized as before', () => {
    expect(tokenLoad([withTokens(replica(big, 0, 0.5, 0), 40_000), replica(big, 1, 0.5, 0)], 0)).toBeUndefined();
  });

  it.each([
    // 2 x 10k-token replicas at 0.7 hold 14k: 21k tokens need 1 more 40k-token replica (0.7 x 40k = 28k).
    { demand: 21_000, current: 2, newCapacity: 40_000, want: 3 },
    // Within what the current ones hold: the count that holds it at their mean capacity.
    { demand: 6_000, current: 2, newCapacity: 40_000, want: 1 },
    { demand: 0, current: 2, newCapacity: 40_000, want: 0 },
  ])('replicasForTokens($demand tokens, $current current) = $want', ({ demand, current, newCapacity, want }) => {
    const load = {
      demandTokens: demand,
      queuedTokens: 0,
      capacityByVariant: new Map([[small.key, 10_000]]),
      meanCapacity: 10_000,
    };
    expect(replicasForTokens(load, new Map([[small.key, current]]), 0.7, newCapacity)).toBe(want);
  });
});

describe('decisions in tokens', () => {
  // One small replica full of KV with a long queue of long prompts; the next replica is a big one.
  const reps = [withTokens(replica(small, 0, 0.78, 4), 10_000, 2000)];
  const scenario = { states: [state(small, 1), state(big, 0)], metrics: metrics(reps) };

  it('counts the queued prompts as KV demand: 7,800 in use + 8,000 queued needs 15,800 / 0.7', () => {
    const out = decide(scenario);
    expect(out.targets.reasons.join(' | ')).toContain('KV demand 15800 tokens (8000 queued)');
    expect(desiredByName(out)).toEqual({ l4: 2, h100: 0 });
  });

  it('without the feature the same model is sized by KV fractions and queue length as before', () => {
    const out = decide({ ...scenario, features: { ...DEFAULT_ENGINE_FEATURES, tokenCapacity: false } });
    expect(out.targets.reasons.join(' | ')).toContain('KV load 0.78');
  });
});

describe('throughput learned per variant', () => {
  const target = 0.7;
  it.each([
    // 2 req/s at KV 0.7: 2 req/s at the target.
    { name: 'a replica at its target gives its rate', kv: 0.7, running: 4, want: 2 },
    // 3 req/s at KV 0.84 (above the target): 3 x 0.7 / 0.84 = 2.5 at the target.
    { name: 'a replica above its target is scaled down to it', kv: 0.84, running: 6, want: 2.5 },
    { name: 'a replica far below its target gives no sample', kv: 0.2, running: 1, want: undefined },
    // Compute-bound: 2 waiting now (the queue target) at KV 0.05, 8 running over 2 s: 4 req/s flat out.
    {
      name: 'a replica with its queue target waiting gives its rate at any KV',
      kv: 0.05,
      running: 8,
      queue: 2,
      want: 4,
    },
    { name: 'one request waiting between steps is not flat out', kv: 0.05, running: 8, queue: 1, want: undefined },
    // Little's law over the minute: 2.5 req/s x 2 s = 5 running on average, 4 now: steady, 4 / 2 s.
    { name: 'a steady minute gives running over service time', kv: 0.7, running: 4, completions: 2.5, want: 2 },
    // A burst's start: 40 running now over the quiet minute's 2 s (2 req/s x 2 s = 4 on average)
    // would say 20 req/s for a replica that completed 2: no sample.
    {
      name: "a burst's running count over a quiet minute's service time gives no sample",
      kv: 0.7,
      running: 40,
      completions: 2,
      want: undefined,
    },
    {
      name: 'nor does the flat-out path, whatever its queue',
      kv: 0.05,
      running: 40,
      queue: 2,
      completions: 2,
      want: undefined,
    },
    // After a burst: 1 running now, 8 on average over the minute (4 req/s x 2 s): no sample either.
    { name: 'a burst ending within the minute gives no sample', kv: 0.7, running: 1, completions: 4, want: undefined },
  ])('$name', ({ kv, running, want, queue, completions }) => {
    const r = {
      ...replica(small, 0, kv, 0, running, completions, 2),
      kvCacheUsageNow: kv,
      queueLengthNow: queue ?? 0,
    };
    const learned = updateThroughput(new Map(), [r], target, 2);
    if (want === undefined) expect(learned.get(small.key)).toBeUndefined();
    else expect(learned.get(small.key)).toBeCloseTo(want);
  });

  it('is an exponentially-weighted estimate, and the model is sized by its slowest learned variant', () => {
    const at = (rate: number): ReplicaMetrics => ({
      ...replica(small, 0, 0.7, 0, rate * 2, undefined, 2),
      kvCacheUsageNow: 0.7,
      queueLengthNow: 0,
    });
    const first = updateThroughput(new Map(), [at(2)], target, 2);
    const second = updateThroughput(first, [at(4)], target, 2);
    expect(second.get(small.key)).toBeCloseTo(2 + THROUGHPUT_WEIGHT * 2);
    expect(
      modelReplicaRate(
        new Map([
          [small.key, 2],
          [big.key, 5],
        ]),
        [small.key, big.key],
      ),
    ).toBe(2);
  });
});

describe('when each replica last ran nothing (ModelState.idleAt)', () => {
  it('is now for a replica running nothing, kept while it runs, absent for one never seen idle or gone', () => {
    const idle = replica(small, 0, 0.1, 0, 0);
    const busy = replica(small, 1, 0.9, 0, 40);
    const neverIdle = replica(small, 2, 0.9, 0, 40);
    const first = learnIdle(undefined, [idle, busy, neverIdle], 1_000);
    expect([...first]).toEqual([[idle.pod, 1_000]]);
    // 15 s later the first runs 40: it has been loaded since 1_000; the second went idle.
    const next = learnIdle(
      first,
      [
        { ...idle, running: 40 },
        { ...busy, running: 0 },
      ],
      16_000,
    );
    expect(next.get(idle.pod)).toBe(1_000);
    expect(next.get(busy.pod)).toBe(16_000);
    // Gone from the metrics: forgotten.
    expect(learnIdle(next, [busy], 31_000).has(idle.pod)).toBe(false);
  });
});
