/**
 * Lease leader election between instances, through the real @kubernetes/client-node against the
 * fake API server: one leader at a time, release on stop hands over at once, an expired Lease of
 * a dead holder is taken over, a leader whose Lease calls hang steps down at the renew deadline,
 * and only the leader writes VariantAutoscaling status.
 *
 * Why a fake server here, now that test/cluster runs a real one: the real Lease and a SIGKILLed
 * leader are in test/cluster/08-leader-redis.test.ts, and the API server stopped for 30 s (the
 * leader steps down and leads again) in 06-faults.test.ts. Only a fake server can hang a Lease
 * call forever while it stays up, lose a resourceVersion race on demand, and run the timings at
 * 1 s lease durations in milliseconds of test time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../src/cache/global-config.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { defaultSettings } from '../../src/config/settings.js';
import { KubernetesIntegration } from '../../src/kube/kubernetes-integration.js';
import { LeaseLeaderElector } from '../../src/kube/leader-election.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { waitFor } from '../helpers/ports.js';

const NS = 'keda';
const FAST = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 100 };

describe('Lease leader election', () => {
  let api: FakeKubeApi;
  const stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    api = await FakeKubeApi.start();
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await api.close();
  });

  function elector(identity: string): LeaseLeaderElector {
    const e = new LeaseLeaderElector(
      api.kubeConfig(),
      { namespace: NS, name: 'wva-scaler-leader', identity, ...FAST },
      silentLogger(),
    );
    stops.push(() => e.stop());
    return e;
  }

  it('elects exactly one of two candidates, hands over on release, and records the holder', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    const changes: string[] = [];
    a.onChange((l) => changes.push(`a:${l}`));
    b.onChange((l) => changes.push(`b:${l}`));
    a.start();
    await waitFor(() => a.isLeader(), 5000, 'a leads');
    b.start();
    // Several retry periods: b must keep failing to acquire while a renews.
    await new Promise((r) => setTimeout(r, 500));
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    const lease = api.get('leases', NS, 'wva-scaler-leader');
    expect(lease?.['spec']).toMatchObject({ holderIdentity: 'pod-a', leaseDurationSeconds: 1 });
    expect(String((lease?.['spec'] as { renewTime: string }).renewTime)).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );

    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect((api.get('leases', NS, 'wva-scaler-leader')?.['spec'] as { holderIdentity: string }).holderIdentity).toBe(
      '',
    );
    // Released: b takes over within a few retry periods, not after the lease duration.
    const released = Date.now();
    await waitFor(() => b.isLeader(), 5000, 'b leads');
    expect(Date.now() - released).toBeLessThan(FAST.leaseDurationMs);
    expect(changes).toEqual(['a:true', 'a:false', 'b:true']);
    expect(
      (api.get('leases', NS, 'wva-scaler-leader')?.['spec'] as { leaseTransitions: number }).leaseTransitions,
    ).toBe(0);
  });

  it('takes over a Lease whose holder stopped renewing, only after the lease duration', async () => {
    api.upsert('leases', {
      metadata: { name: 'wva-scaler-leader', namespace: NS },
      spec: {
        holderIdentity: 'dead-pod',
        leaseDurationSeconds: 1,
        renewTime: '2020-01-01T00:00:00.000000Z',
        leaseTransitions: 3,
      },
    });
    const c = elector('pod-c');
    const started = Date.now();
    c.start();
    await waitFor(() => c.isLeader(), 5000, 'c takes over');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAST.leaseDurationMs);
    expect(api.get('leases', NS, 'wva-scaler-leader')?.['spec']).toMatchObject({
      holderIdentity: 'pod-c',
      leaseTransitions: 4,
    });
  });

  it('two candidates racing for a free Lease: the resourceVersion conflict leaves one winner', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    const [ra, rb] = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    expect(api.requests.some((r) => r.method === 'POST' || r.method === 'PUT')).toBe(true);
  });

  it('steps down when it cannot renew past the renew deadline', async () => {
    const a = elector('pod-a');
    a.start();
    await waitFor(() => a.isLeader(), 5000, 'a leads');
    api.failNext((r) => r.path.endsWith('/leases/wva-scaler-leader'), 500, 1000);
    await waitFor(() => !a.isLeader(), 5000, 'a steps down');
  });

  it('steps down at the renew deadline when its Lease calls hang, and leads again once they are answered', async () => {
    const a = elector('pod-a');
    const changes: boolean[] = [];
    a.onChange((l) => changes.push(l));
    a.start();
    await waitFor(() => a.isLeader(), 5000, 'a leads');
    api.hang((r) => r.path.endsWith('/leases/wva-scaler-leader'));
    await waitFor(() => api.hungRequests() > 0, 5000, 'a Lease call hangs');
    // A blackholed API server never answers: the call must be given up, not awaited forever.
    await waitFor(() => !a.isLeader(), 5000, 'a steps down');
    await waitFor(() => api.hungRequests() === 0, 5000, 'the hung call is aborted');
    api.answerAgain();
    await waitFor(() => a.isLeader(), 5000, 'a leads again');
    expect(changes).toEqual([true, false, true]);
  });

  it('is no longer leader once the renew deadline passes without a renewal, even while a call still hangs', async () => {
    // A renew deadline far beyond the test's duration: only isLeader()'s own check can end it here.
    const a = new LeaseLeaderElector(
      api.kubeConfig(),
      {
        namespace: NS,
        name: 'wva-scaler-leader',
        identity: 'pod-a',
        leaseDurationMs: 600_000,
        renewDeadlineMs: 300_000,
        retryPeriodMs: 100,
      },
      silentLogger(),
    );
    stops.push(() => a.stop());
    const changes: boolean[] = [];
    a.onChange((l) => changes.push(l));
    a.start();
    await waitFor(() => a.isLeader(), 5000, 'a leads');
    api.hang((r) => r.path.endsWith('/leases/wva-scaler-leader'));
    await waitFor(() => api.hungRequests() > 0, 5000, 'a Lease call hangs');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + a.renewDeadlineMs);
      expect(a.isLeader()).toBe(false);
      expect(changes).toEqual([true, false]);
    } finally {
      vi.useRealTimers();
      api.answerAgain();
    }
  });

  it('only the leader of two integrations writes VariantAutoscaling status', async () => {
    api.upsert('variantautoscalings', {
      metadata: { name: 'llama-a100', namespace: 'llm' },
      spec: { modelID: 'meta/llama-8b', scaleTargetRef: { kind: 'Deployment', name: 'llama-a100' } },
    });
    const instances = ['pod-a', 'pod-b'].map((identity) => {
      const registry = new VariantRegistry();
      const decisions = new DecisionCache();
      const trigger = new DecisionTrigger();
      const kube = new KubernetesIntegration({
        kubeConfig: api.kubeConfig(),
        settings: defaultSettings({ POD_NAMESPACE: NS, POD_NAME: identity }),
        registry,
        decisions,
        trigger,
        globalConfig: new GlobalConfig({
          engineIntervalMs: 15_000,
          maxScaleUpRate: 2,
          scaleToZero: { enabled: false, retentionMs: 600_000 },
        }),
        metrics: new ScalerMetrics(),
        logger: silentLogger(),
        tuning: { ...FAST, syncTimeoutMs: 5000 },
      });
      stops.push(() => kube.stop());
      return { identity, kube, decisions, trigger };
    });
    for (const i of instances) await i.kube.start();
    await waitFor(() => instances.filter((i) => i.kube.leadership.isLeader()).length === 1, 5000, 'one leader');
    // Both replicas compute the same decision and publish it.
    for (const i of instances) {
      i.decisions.set({
        variantKey: 'llm/llama-a100',
        namespace: 'llm',
        variantName: 'llama-a100',
        modelID: 'meta/llama-8b',
        accelerator: undefined,
        desiredReplicas: 2,
        currentReplicas: 1,
        reasons: [],
        steps: [],
        clamp: undefined,
        metricsAgeMs: 0,
        freshness: 'fresh',
        decidedAt: 5_000,
      });
      i.trigger.publish({ variantKey: 'llm/llama-a100', desiredReplicas: 2, active: true, decidedAt: 5_000 });
    }
    await waitFor(() => api.patches().length >= 1, 5000, 'status patch');
    for (const i of instances) await i.kube.statusWriter.idle();
    expect(api.patches()).toHaveLength(1);
  });
});
