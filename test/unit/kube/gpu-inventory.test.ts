/**
 * The GPU inventory from informer caches: nodes, pods (bound, pending, Unschedulable),
 * Deployments' pod templates and ResourceQuotas, as one snapshot.
 */
import { describe, expect, it } from 'vitest';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import {
  acceleratorMatches,
  deviceQuantity,
  KubeGpuInventory,
  pinnedProduct,
  podSpecGpus,
} from '../../../src/kube/gpu-inventory.js';
import { variant } from '../engine/fixtures.js';

const NOW = Date.parse('2025-01-01T00:10:00Z');

const node = (name: string, product: string, gpus: number) => ({
  metadata: { name, labels: { 'nvidia.com/gpu.product': product } },
  status: { allocatable: { 'nvidia.com/gpu': String(gpus) }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const spec = (gpus: number, product?: string) => ({
  ...(product ? { nodeSelector: { 'nvidia.com/gpu.product': product } } : {}),
  containers: [{ name: 'vllm', resources: gpus ? { limits: { 'nvidia.com/gpu': String(gpus) } } : {} }],
});
const pod = (
  name: string,
  s: object,
  o: { nodeName?: string; unschedulableSince?: string; created?: string } = {},
) => ({
  metadata: { name, namespace: 'ns', creationTimestamp: o.created ?? '2025-01-01T00:00:00Z' },
  spec: { ...s, ...(o.nodeName ? { nodeName: o.nodeName } : {}) },
  status: {
    phase: o.nodeName ? 'Running' : 'Pending',
    conditions: o.unschedulableSince
      ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: o.unschedulableSince }]
      : [],
  },
});

describe('pure readers', () => {
  it.each([
    ['2', 2],
    ['2000m', 2],
    [3, 3],
    ['x', undefined],
  ])('deviceQuantity(%s) = %s', (q, n) => expect(deviceQuantity(q)).toBe(n));
  it('podSpecGpus sums requests, else limits; none when the template requests no GPU', () => {
    expect(podSpecGpus(spec(2))).toEqual({ resource: 'nvidia.com/gpu', count: 2 });
    expect(podSpecGpus(spec(0))).toBeUndefined();
  });
  it('pinnedProduct: nodeSelector, or a one-value required affinity', () => {
    expect(pinnedProduct(spec(1, 'NVIDIA-L4'))).toBe('NVIDIA-L4');
    const affinity = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-A100'] }] },
            ],
          },
        },
      },
    };
    expect(pinnedProduct(affinity)).toBe('NVIDIA-A100');
  });
  it.each([
    ['L4', 'NVIDIA-L4', true],
    ['H100', 'NVIDIA-H100-80GB-HBM3', true],
    ['h100', 'NVIDIA-H100-80GB-HBM3', true],
    ['L4', 'NVIDIA-L40S', false],
    ['A100', 'NVIDIA-H100-80GB-HBM3', false],
  ])('accelerator %s matches %s: %s', (a, p, m) => expect(acceleratorMatches(a, p)).toBe(m));
});

describe('KubeGpuInventory', () => {
  const l4 = variant('llama-l4', { accelerator: 'L4', cost: 5 });
  const h100 = variant('llama-h100', { accelerator: 'H100', cost: 30 });
  const cpu = variant('llama-cpu', { accelerator: undefined, cost: 1 });
  function build(pods: object[], quotas: object[] = []) {
    const registry = new VariantRegistry();
    for (const v of [l4, h100, cpu]) registry.upsert(v);
    const deployments: Record<string, object> = {
      'llama-l4': { spec: { template: { spec: spec(1) } } },
      'llama-h100': { spec: { template: { spec: spec(2, 'NVIDIA-H100-80GB-HBM3') } } },
      'llama-cpu': { spec: { template: { spec: spec(0) } } },
    };
    return new KubeGpuInventory({
      nodes: {
        list: () => [node('a', 'NVIDIA-L4', 2), node('b', 'NVIDIA-L4', 2), node('c', 'NVIDIA-H100-80GB-HBM3', 8)],
      },
      pods: { list: () => pods },
      deployments: { get: (name) => deployments[name] },
      resourceQuotas: { list: () => quotas },
      registry,
      variantOf: (_ns, p) => (p.startsWith('llama-l4') ? l4.key : p.startsWith('llama-h100') ? h100.key : undefined),
    });
  }

  it('free per node after bound pods and first-fit pending ones; variants from their templates', () => {
    const inv = build([
      pod('llama-l4-1', spec(1), { nodeName: 'a' }),
      pod('other', spec(1, 'NVIDIA-L4'), { nodeName: 'a' }),
      pod('llama-l4-2', spec(1)),
    ]).snapshot(NOW);
    expect(inv.types.get('NVIDIA-L4')?.nodeFree).toEqual([0, 1]);
    expect(inv.types.get('NVIDIA-L4')?.used).toBe(3);
    expect(inv.variants.get(l4.key)).toMatchObject({ type: 'NVIDIA-L4', gpusPerReplica: 1, unschedulable: 0 });
    expect(inv.variants.get(h100.key)).toMatchObject({ type: 'NVIDIA-H100-80GB-HBM3', gpusPerReplica: 2 });
    expect(inv.variants.get(cpu.key)?.gpusPerReplica).toBe(0);
  });

  it('pods Unschedulable past the bound make the variant full, held after they go away', () => {
    const long = pod('llama-l4-9', spec(1), { unschedulableSince: '2025-01-01T00:09:00Z' });
    const fresh = pod('llama-l4-8', spec(1), { unschedulableSince: '2025-01-01T00:09:55Z' });
    const live: object[] = [long, fresh];
    const source = build(live);
    const first = source.snapshot(NOW).variants.get(l4.key);
    expect(first?.unschedulable).toBe(1);
    expect(first?.fullReason).toMatch(/Unschedulable/);
    live.splice(0); // they went away (scaled down)
    expect(source.snapshot(NOW + 30_000).variants.get(l4.key)?.fullReason).toMatch(/held 60s/);
    expect(source.snapshot(NOW + 61_000).variants.get(l4.key)?.fullReason).toBeUndefined();
  });

  it('ResourceQuota room on requests.nvidia.com/gpu, the tightest of several', () => {
    const rq = (name: string, hard: string, used: string) => ({
      metadata: { name, namespace: 'ns' },
      status: { hard: { 'requests.nvidia.com/gpu': hard }, used: { 'requests.nvidia.com/gpu': used } },
    });
    const q = build([], [rq('a', '8', '2'), rq('b', '4', '2')])
      .snapshot(NOW)
      .namespaceQuotas.get('ns')
      ?.get('nvidia.com/gpu');
    expect(q).toMatchObject({ room: 2, hard: 4, name: 'b' });
  });
});
