import { describe, expect, it } from 'vitest';
import { DecisionCache } from '../../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../../src/cache/decision-trigger.js';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { Decision } from '../../../src/domain/decision.js';
import type { Variant } from '../../../src/domain/variant.js';
import type { LeadershipSource } from '../../../src/domain/leadership.js';
import {
  conditionsFor,
  StatusWriter,
  type StatusPatcher,
  type VariantAutoscalingStatusPatch,
} from '../../../src/kube/status-writer.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';

class FakeLeadership implements LeadershipSource {
  private listeners = new Set<(l: boolean) => void>();
  constructor(public leader: boolean) {}
  isLeader(): boolean {
    return this.leader;
  }
  onChange(l: (leader: boolean) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(leader: boolean): void {
    this.leader = leader;
    for (const l of this.listeners) l(leader);
  }
}

const va: Variant = {
  key: 'llm/v',
  namespace: 'llm',
  name: 'v',
  modelID: 'm',
  accelerator: 'A100',
  cost: 10,
  deployment: 'v',
  minReplicas: 0,
  maxReplicas: 10,
  saturation: {},
  scaleToZero: undefined,
  scaleToZeroRetentionMs: undefined,
  source: 'variantautoscaling',
  deleting: false,
};
const decision = (
  desired: number,
  decidedAt: number,
  freshness: Decision['freshness'] = 'fresh',
  reasons: string[] = [],
): Decision => ({
  variantKey: 'llm/v',
  namespace: 'llm',
  variantName: 'v',
  modelID: 'm',
  accelerator: 'A100',
  desiredReplicas: desired,
  currentReplicas: 1,
  reasons,
  steps: [],
  clamp: undefined,
  metricsAgeMs: 2000,
  freshness,
  decidedAt,
});

function setup(leader: boolean) {
  const calls: { ns: string; name: string; body: VariantAutoscalingStatusPatch }[] = [];
  const patcher: StatusPatcher = { patchStatus: async (ns, name, body) => void calls.push({ ns, name, body }) };
  const registry = new VariantRegistry();
  registry.upsert(va);
  const decisions = new DecisionCache();
  const leadership = new FakeLeadership(leader);
  const writer = new StatusWriter({
    patcher,
    registry,
    decisions,
    trigger: new DecisionTrigger(),
    leadership,
    metrics: new ScalerMetrics(),
    logger: silentLogger(),
  });
  writer.start();
  return { calls, registry, decisions, leadership, writer };
}

describe('conditionsFor', () => {
  it('maps freshness to MetricsAvailable and always reports OptimizationReady with the reasons', () => {
    expect(conditionsFor(decision(2, 0, 'fresh', ['KV spare low (0.05 < 0.10)']))).toEqual([
      expect.objectContaining({ type: 'MetricsAvailable', status: 'True', reason: 'MetricsFound' }),
      expect.objectContaining({
        type: 'OptimizationReady',
        status: 'True',
        message: expect.stringContaining('KV spare low (0.05 < 0.10)'),
      }),
    ]);
    expect(conditionsFor(decision(2, 0, 'stale'))[0]).toMatchObject({ status: 'True', reason: 'MetricsStale' });
    expect(conditionsFor(decision(2, 0, 'unavailable'))[0]).toMatchObject({
      status: 'False',
      reason: 'MetricsMissing',
    });
  });
});

describe('StatusWriter', () => {
  it('writes nothing while not leader, then everything once on becoming leader', async () => {
    const { calls, decisions, leadership, writer } = setup(false);
    decisions.set(decision(3, 1000));
    writer.request('llm/v');
    await writer.idle();
    expect(calls).toHaveLength(0);
    leadership.set(true);
    await writer.idle();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      ns: 'llm',
      name: 'v',
      body: {
        status: {
          desiredOptimizedAlloc: { numReplicas: 3, accelerator: 'A100', lastRunTime: new Date(1000).toISOString() },
        },
      },
    });
  });

  it('skips writes when only times or messages changed; writes when count or a condition changes', async () => {
    const { calls, decisions, writer } = setup(true);
    decisions.set(decision(3, 1000, 'fresh', ['a']));
    writer.request('llm/v');
    await writer.idle();
    decisions.set(decision(3, 16_000, 'fresh', ['b']));
    writer.request('llm/v');
    await writer.idle();
    expect(calls).toHaveLength(1);
    decisions.set(decision(3, 31_000, 'stale'));
    writer.request('llm/v');
    await writer.idle();
    decisions.set(decision(2, 46_000, 'stale'));
    writer.request('llm/v');
    await writer.idle();
    expect(calls.map((c) => c.body.status.desiredOptimizedAlloc.numReplicas)).toEqual([3, 3, 2]);
    const stale = calls[1]!.body.status.conditions;
    expect(stale.find((c) => c.type === 'MetricsAvailable')?.lastTransitionTime).toBe(new Date(1000).toISOString());
  });

  it('coalesces requests made while a write is in flight into one follow-up', async () => {
    const { calls, decisions, writer } = setup(true);
    await writer.idle(); // start() already asked once (no decision then)
    decisions.set(decision(1, 1000));
    writer.request('llm/v');
    decisions.set(decision(2, 2000));
    writer.request('llm/v');
    writer.request('llm/v');
    await writer.idle();
    expect(calls.map((c) => c.body.status.desiredOptimizedAlloc.numReplicas)).toEqual([1, 2]);
  });

  it('does not write for variants without a VariantAutoscaling, being deleted, or without a decision', async () => {
    const { calls, registry, decisions, writer } = setup(true);
    writer.request('llm/v');
    registry.upsert({ ...va, key: 'llm/so', name: 'so', source: 'scaledobject' });
    decisions.set({ ...decision(1, 0), variantKey: 'llm/so' });
    writer.request('llm/so');
    registry.upsert({ ...va, deleting: true }); // the VariantAutoscaling is being deleted
    decisions.set(decision(4, 0));
    writer.request('llm/v');
    await writer.idle();
    expect(calls).toHaveLength(0);
  });
});
