/**
 * The Kubernetes integration against a fake API server, through the real @kubernetes/client-node:
 * list + chunked watch, 410 Gone and re-list, dropped watches, status merge patches, the live
 * saturation ConfigMap, Deployment replica counts and spec changes, pod ownership.
 *
 * Why a fake server here, now that test/cluster runs a real one (npm run test:cluster):
 *  - covered there too, against the real API server and KEDA: registration of ScaledObjects and
 *    VariantAutoscalings (02, 04, 05), the live ConfigMap and a bad update (06), status patches
 *    with the chart's RBAC (05), re-list after the API server restarts (06), pod → variant mapping
 *    and Deployment replicas (every scaling scenario);
 *  - only here, because a real server cannot be made to produce them on demand: a 410 Gone at a
 *    chosen moment with changes compacted away, a watch dropped mid-stream while the server
 *    stays up, a registry that drifted from the informer cache, a failed status patch retried on
 *    the next event, and exact call counts (a patch only when something changed);
 *  - fast (seconds), so they run in every `npm test`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../src/cache/global-config.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { resolveThresholds } from '../../src/config/saturation-config.js';
import { defaultSettings } from '../../src/config/settings.js';
import type { Decision } from '../../src/domain/decision.js';
import { KubernetesIntegration } from '../../src/kube/kubernetes-integration.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { FakeKubeApi, type FakeObject } from '../helpers/fake-kube-api.js';
import { waitFor } from '../helpers/ports.js';

const NS = 'llm';
const OWN_NS = 'keda';

function scaledObject(
  name: string,
  opts: { address?: string; max?: number; min?: number; model?: string; target?: string } = {},
): FakeObject {
  return {
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { name: opts.target ?? `${name}-deploy` },
      minReplicaCount: opts.min ?? 1,
      maxReplicaCount: opts.max ?? 8,
      triggers: [
        { type: 'cpu', metadata: { value: '50' } },
        {
          type: 'external-push',
          metadata: {
            scalerAddress: opts.address ?? 'wva-scaler.keda.svc.cluster.local:9090',
            modelID: opts.model ?? 'meta/llama-8b',
            accelerator: 'H100',
            variantCost: '30',
          },
        },
      ],
    },
  };
}

function variantAutoscaling(name: string, cost = '12.5'): FakeObject {
  return {
    metadata: { name, namespace: NS, labels: { 'inference.optimization/acceleratorName': 'A100' } },
    spec: {
      modelID: 'meta/llama-8b',
      variantCost: cost,
      scaleTargetRef: { kind: 'Deployment', name: `${name}-deploy` },
    },
  };
}

function deployment(name: string, replicas: number, ready: number, image = 'vllm/vllm-openai:v0.10.0'): FakeObject {
  return {
    metadata: { name, namespace: NS, generation: 1 },
    spec: { replicas, template: { spec: { containers: [{ name: 'vllm', image }] } } },
    status: { replicas, readyReplicas: ready },
  };
}

function configMap(data: Record<string, string>): FakeObject {
  return { metadata: { name: 'wva-saturation-scaling-config', namespace: OWN_NS }, data };
}

function decision(
  variantKey: string,
  desired: number,
  decidedAt: number,
  freshness: Decision['freshness'] = 'fresh',
): Decision {
  const [namespace = '', variantName = ''] = variantKey.split('/');
  return {
    variantKey,
    namespace,
    variantName,
    modelID: 'meta/llama-8b',
    accelerator: 'A100',
    desiredReplicas: desired,
    currentReplicas: 2,
    reasons: ['KV spare low (0.05 < 0.10)'],
    steps: [],
    clamp: undefined,
    metricsAgeMs: 1000,
    freshness,
    decidedAt,
  };
}

describe('KubernetesIntegration against a fake API server', () => {
  let api: FakeKubeApi;
  let registry: VariantRegistry;
  let globalConfig: GlobalConfig;
  let trigger: DecisionTrigger;
  let decisions: DecisionCache;
  let metrics: ScalerMetrics;
  let kube: KubernetesIntegration;
  let specChanges: string[];

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    api.upsert('scaledobjects', scaledObject('llama-h100'));
    api.upsert('scaledobjects', scaledObject('someone-else', { address: 'other-scaler.ns:9090' }));
    api.upsert('variantautoscalings', variantAutoscaling('llama-a100'));
    api.upsert('deployments', deployment('llama-h100-deploy', 3, 2));
    api.upsert('deployments', deployment('llama-a100-deploy', 2, 2));
    api.upsert('replicasets', {
      metadata: {
        name: 'llama-h100-deploy-5f7c9',
        namespace: NS,
        ownerReferences: [{ kind: 'Deployment', name: 'llama-h100-deploy', controller: true }],
      },
    });
    api.upsert('pods', {
      metadata: {
        name: 'llama-h100-deploy-5f7c9-abcde',
        namespace: NS,
        labels: { 'pod-template-hash': '5f7c9' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'llama-h100-deploy-5f7c9', controller: true }],
      },
    });
    api.upsert('configmaps', configMap({ default: 'kvCacheThreshold: 0.7\nqueueLengthThreshold: 4\n' }));
    api.upsert('configmaps', {
      metadata: { name: 'unrelated', namespace: OWN_NS },
      data: { default: 'kvCacheThreshold: 0.1' },
    });

    registry = new VariantRegistry();
    globalConfig = new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
    });
    trigger = new DecisionTrigger();
    decisions = new DecisionCache();
    metrics = new ScalerMetrics();
    specChanges = [];
    kube = new KubernetesIntegration({
      kubeConfig: api.kubeConfig(),
      settings: defaultSettings({ POD_NAMESPACE: OWN_NS, WVA_LEADER_ELECTION: 'false' }),
      registry,
      globalConfig,
      trigger,
      decisions,
      metrics,
      logger: silentLogger(),
      hooks: { onDeploymentSpecChange: (k) => specChanges.push(k) },
      tuning: { syncTimeoutMs: 5000, maxBackoffMs: 200 },
    });
    await kube.start();
  });

  afterEach(async () => {
    await kube.stop();
    await api.close();
  });

  it('registers our ScaledObjects and VariantAutoscalings on start, with KEDA and WVA fields', () => {
    expect(
      registry
        .all()
        .map((v) => v.key)
        .sort(),
    ).toEqual(['llm/llama-a100', 'llm/llama-h100']);
    const so = registry.get('llm/llama-h100');
    expect(so).toMatchObject({
      modelID: 'meta/llama-8b',
      accelerator: 'H100',
      cost: 30,
      deployment: 'llama-h100-deploy',
      minReplicas: 1,
      maxReplicas: 8,
      source: 'scaledobject',
    });
    const va = registry.get('llm/llama-a100');
    expect(va).toMatchObject({
      modelID: 'meta/llama-8b',
      accelerator: 'A100',
      cost: 12.5,
      deployment: 'llama-a100-deploy',
      source: 'variantautoscaling',
    });
    expect(kube.ready()).toBe(true);
  });

  it('follows ScaledObjects as they change and go away, and drops one that stops pointing at us', async () => {
    api.upsert('scaledobjects', scaledObject('llama-h100', { max: 20 }));
    await waitFor(() => registry.get('llm/llama-h100')?.maxReplicas === 20, 5000, 'maxReplicas update');
    api.upsert('scaledobjects', scaledObject('llama-l40', { target: 'l40-deploy' }));
    await waitFor(() => registry.get('llm/llama-l40')?.deployment === 'l40-deploy', 5000, 'new ScaledObject');
    api.upsert('scaledobjects', scaledObject('llama-l40', { address: 'elsewhere:9090' }));
    await waitFor(() => registry.get('llm/llama-l40') === undefined, 5000, 'no longer ours');
    api.remove('scaledobjects', NS, 'llama-h100');
    await waitFor(() => registry.get('llm/llama-h100') === undefined, 5000, 'deleted ScaledObject');
    expect(registry.all().map((v) => v.key)).toEqual(['llm/llama-a100']);
  });

  it('follows VariantAutoscalings as they change and go away', async () => {
    api.upsert('variantautoscalings', variantAutoscaling('llama-a100', '7'));
    await waitFor(() => registry.get('llm/llama-a100')?.cost === 7, 5000, 'cost update');
    api.remove('variantautoscalings', NS, 'llama-a100');
    await waitFor(() => registry.get('llm/llama-a100') === undefined, 5000, 'deleted VA');
  });

  it('re-lists after 410 Gone: changes missed while the history was compacted are neither lost nor duplicated', async () => {
    const listsBefore = api.lists('scaledobjects');
    const events: string[] = [];
    registry.onChange((c) => events.push(`${c.type}:${c.variant.key}`));
    // Missed by the watch: one deleted, one added, one changed.
    api.removeSilently('scaledobjects', NS, 'llama-h100');
    api.upsertSilently('scaledobjects', scaledObject('llama-b200'));
    api.upsertSilently('variantautoscalings', variantAutoscaling('llama-a100', '9'));
    expect(api.expireWatches('scaledobjects')).toBe(1);
    await waitFor(
      () => registry.get('llm/llama-b200') !== undefined && registry.get('llm/llama-h100') === undefined,
      5000,
      're-list',
    );
    expect(api.lists('scaledobjects')).toBe(listsBefore + 1);
    expect(events.sort()).toEqual(['added:llm/llama-b200', 'removed:llm/llama-h100']);
    // The VA watch was not expired; a dropped and re-opened watch from a compacted version gets 410 too.
    api.compact('variantautoscalings');
    api.dropWatches('variantautoscalings');
    await waitFor(() => registry.get('llm/llama-a100')?.cost === 9, 5000, 'VA re-list after 410 on resume');
    expect(registry.size).toBe(2);
  });

  it('restarts a watch the server dropped and sees later changes', async () => {
    await waitFor(() => api.openWatches('scaledobjects') === 1, 5000, 'watch open');
    expect(api.dropWatches('scaledobjects')).toBe(1);
    await waitFor(() => api.openWatches('scaledobjects') === 1, 5000, 'watch re-opened');
    api.upsert('scaledobjects', scaledObject('llama-after-drop'));
    await waitFor(() => registry.get('llm/llama-after-drop') !== undefined, 5000, 'event after drop');
  });

  it('resync reconciles a registry that drifted from the cache', async () => {
    registry.remove('llm/llama-h100');
    registry.upsert({ ...registry.get('llm/llama-a100')!, key: 'llm/ghost', name: 'ghost', source: 'scaledobject' });
    kube.resync();
    expect(
      registry
        .all()
        .map((v) => v.key)
        .sort(),
    ).toEqual(['llm/llama-a100', 'llm/llama-h100']);
  });

  it('resolves modelIDFromEnv from the target Deployment, waiting for it, and follows its env', async () => {
    const so = scaledObject('qwen-l4', { target: 'qwen-deploy' });
    const trig = (so.spec as { triggers: { metadata: Record<string, string> }[] }).triggers[1]!;
    delete trig.metadata['modelID'];
    trig.metadata['modelIDFromEnv'] = 'SERVED_MODEL';
    api.upsert('scaledobjects', so);
    const withEnv = (model: string): FakeObject => {
      const d = deployment('qwen-deploy', 1, 1);
      (d.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec.containers[0]!.env = [
        { name: 'SERVED_MODEL', value: model },
      ];
      return d;
    };
    // Until the Deployment is cached the variable's value is unknown: nothing registered under its name.
    await new Promise((r) => setTimeout(r, 300));
    expect(registry.get('llm/qwen-l4')).toBeUndefined();
    api.upsert('deployments', withEnv('Qwen/Qwen2.5-7B'));
    await waitFor(() => registry.get('llm/qwen-l4')?.modelID === 'Qwen/Qwen2.5-7B', 5000, 'resolved modelID');
    expect(registry.get('llm/qwen-l4')).toMatchObject({
      deployment: 'qwen-deploy',
      minReplicas: 1,
      maxReplicas: 8,
      source: 'scaledobject',
    });
    api.upsert('deployments', withEnv('Qwen/Qwen3-8B'));
    await waitFor(() => registry.get('llm/qwen-l4')?.modelID === 'Qwen/Qwen3-8B', 5000, 'env change followed');
  });

  it('reports Deployment replicas and calls the hook on a spec change, not on scaling', async () => {
    const h100 = registry.get('llm/llama-h100')!;
    expect(kube.replicaStatus.get(h100)).toEqual({ current: 3, ready: 2 });
    api.upsert('deployments', deployment('llama-h100-deploy', 5, 2));
    await waitFor(() => kube.replicaStatus.get(h100)?.current === 5, 5000, 'scaled deployment');
    expect(specChanges).toEqual([]);
    api.upsert('deployments', deployment('llama-h100-deploy', 5, 2, 'vllm/vllm-openai:v0.11.0'));
    await waitFor(() => specChanges.length === 1, 5000, 'spec change hook');
    expect(specChanges).toEqual(['llm/llama-h100']);
  });

  it('maps pods to variants through ReplicaSet and Deployment owner references', async () => {
    expect(kube.podMapper.variantOf(NS, 'llama-h100-deploy-5f7c9-abcde')).toBe('llm/llama-h100');
    expect(kube.podMapper.variantOf(NS, 'unknown-pod')).toBeUndefined();
    api.upsert('pods', {
      metadata: {
        name: 'llama-a100-deploy-77aa1-zzzzz',
        namespace: NS,
        labels: { 'pod-template-hash': '77aa1' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'llama-a100-deploy-77aa1', controller: true }],
      },
    });
    // Its ReplicaSet is not known: the pod-template-hash names the Deployment.
    await waitFor(
      () => kube.podMapper.variantOf(NS, 'llama-a100-deploy-77aa1-zzzzz') === 'llm/llama-a100',
      5000,
      'pod mapping',
    );
  });

  it('follows the saturation ConfigMap live and keeps the last good config on a bad update', async () => {
    expect(resolveThresholds(globalConfig.get().saturation, NS, 'meta/llama-8b').kvCacheThreshold).toBe(0.7);
    api.upsert(
      'configmaps',
      configMap({
        default: 'kvCacheThreshold: 0.9\n',
        llama: 'model_id: meta/llama-8b\nnamespace: llm\nqueueLengthThreshold: 9\n',
      }),
    );
    await waitFor(
      () => resolveThresholds(globalConfig.get().saturation, NS, 'meta/llama-8b').queueLengthThreshold === 9,
      5000,
      'config update',
    );
    expect(resolveThresholds(globalConfig.get().saturation, NS, 'meta/llama-8b').kvCacheThreshold).toBe(0.9);
    const version = globalConfig.get().version;
    api.upsert('configmaps', configMap({ default: 'kvCacheThreshold: 1.7\n' }));
    await waitFor(
      async () =>
        ((await metrics.configErrors.get()).values.find((v) => v.labels['source'] === 'configmap')?.value ?? 0) === 1,
      5000,
      'config error counted',
    );
    expect(globalConfig.get().version).toBe(version);
    expect(resolveThresholds(globalConfig.get().saturation, NS, 'meta/llama-8b').kvCacheThreshold).toBe(0.9);
  });

  it('patches VariantAutoscaling status with a merge patch, only when something changed', async () => {
    const key = 'llm/llama-a100';
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    decisions.set(decision(key, 3, t0));
    trigger.publish({ variantKey: key, desiredReplicas: 3, active: true, decidedAt: t0 });
    await waitFor(() => api.patches().length === 1, 5000, 'first patch');
    const first = api.patches()[0]!;
    expect(first.path).toBe('/apis/llmd.ai/v1alpha1/namespaces/llm/variantautoscalings/llama-a100/status');
    expect(first.contentType).toBe('application/merge-patch+json');
    expect(first.body).toMatchObject({
      status: {
        desiredOptimizedAlloc: { numReplicas: 3, accelerator: 'A100', lastRunTime: '2025-06-01T10:00:00.000Z' },
        conditions: [
          {
            type: 'MetricsAvailable',
            status: 'True',
            reason: 'MetricsFound',
            lastTransitionTime: '2025-06-01T10:00:00.000Z',
          },
          { type: 'OptimizationReady', status: 'True', reason: 'OptimizationSucceeded' },
        ],
      },
    });
    expect(
      (
        api.get('variantautoscalings', NS, 'llama-a100')?.['status'] as {
          desiredOptimizedAlloc: { numReplicas: number };
        }
      ).desiredOptimizedAlloc.numReplicas,
    ).toBe(3);

    // Same decision, a later cycle: nothing to write.
    decisions.set(decision(key, 3, t0 + 15_000));
    trigger.publish({ variantKey: key, desiredReplicas: 3, active: true, decidedAt: t0 + 15_000 });
    trigger.flush();
    await kube.statusWriter.idle();
    expect(api.patches()).toHaveLength(1);

    // A new replica count and metrics gone stale: written, with the transition time of the changed condition only.
    decisions.set(decision(key, 4, t0 + 30_000, 'unavailable'));
    trigger.publish({ variantKey: key, desiredReplicas: 4, active: true, decidedAt: t0 + 30_000 });
    await waitFor(() => api.patches().length === 2, 5000, 'second patch');
    const second = api.patches()[1]!.body as {
      status: {
        desiredOptimizedAlloc: { numReplicas: number };
        conditions: { type: string; status: string; lastTransitionTime: string }[];
      };
    };
    expect(second.status.desiredOptimizedAlloc.numReplicas).toBe(4);
    expect(second.status.conditions.find((c) => c.type === 'MetricsAvailable')).toMatchObject({
      status: 'False',
      lastTransitionTime: '2025-06-01T10:00:30.000Z',
    });
    expect(second.status.conditions.find((c) => c.type === 'OptimizationReady')?.lastTransitionTime).toBe(
      '2025-06-01T10:00:00.000Z',
    );

    // ScaledObject variants have no status to write.
    decisions.set(decision('llm/llama-h100', 5, t0));
    trigger.publish({ variantKey: 'llm/llama-h100', desiredReplicas: 5, active: true, decidedAt: t0 });
    trigger.flush();
    await kube.statusWriter.idle();
    expect(api.patches()).toHaveLength(2);
  });

  it('a ScaledObject and a VariantAutoscaling of one name (WVA migration): the ScaledObject defines the variant, the VA gets status', async () => {
    api.upsert('scaledobjects', scaledObject('llama-a100', { max: 6, target: 'llama-a100-deploy' }));
    await waitFor(() => registry.get('llm/llama-a100')?.source === 'scaledobject', 5000, 'ScaledObject wins');
    api.upsert('variantautoscalings', variantAutoscaling('llama-a100', '3'));
    await waitFor(() => api.openWatches('variantautoscalings') === 1, 5000, 'watch');
    kube.resync();
    expect(registry.get('llm/llama-a100')).toMatchObject({ source: 'scaledobject', maxReplicas: 6, cost: 30 });
    decisions.set(decision('llm/llama-a100', 2, 1_000));
    trigger.publish({ variantKey: 'llm/llama-a100', desiredReplicas: 2, active: true, decidedAt: 1_000 });
    await waitFor(() => api.patches().length === 1, 5000, 'status patch of the VA');
  });

  it('retries a failed status patch on the next event', async () => {
    const key = 'llm/llama-a100';
    api.failNext((r) => r.method === 'PATCH', 500);
    decisions.set(decision(key, 2, 1_000));
    trigger.publish({ variantKey: key, desiredReplicas: 2, active: true, decidedAt: 1_000 });
    await waitFor(() => api.requests.some((r) => r.method === 'PATCH'), 5000, 'failed patch');
    await kube.statusWriter.idle();
    trigger.publish({ variantKey: key, desiredReplicas: 2, active: true, decidedAt: 2_000 });
    await waitFor(
      () => api.get('variantautoscalings', NS, 'llama-a100')?.['status'] !== undefined,
      5000,
      'retried patch',
    );
    expect(api.patches()).toHaveLength(2);
  });
});
