import { describe, expect, it } from 'vitest';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { Variant } from '../../../src/domain/variant.js';
import { DeploymentReplicas, replicaStatusOf, specFingerprint } from '../../../src/kube/deployment-replicas.js';
import { OwnerReferencePodMapper } from '../../../src/kube/pod-variant-mapper.js';

function variant(name: string, deployment: string, namespace = 'ns'): Variant {
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    modelID: 'm',
    accelerator: undefined,
    cost: 10,
    deployment,
    minReplicas: 0,
    maxReplicas: 10,
    saturation: {},
    scaleToZero: undefined,
    scaleToZeroRetentionMs: undefined,
    source: 'scaledobject',
    deleting: false,
  };
}
const lookup = (objs: Record<string, unknown>[]) => ({
  get: (name: string, namespace: string) =>
    objs.find(
      (o) =>
        (o['metadata'] as { name: string; namespace: string }).name === name &&
        (o['metadata'] as { namespace: string }).namespace === namespace,
    ),
});
const dep = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'ns' },
  spec,
  status,
});

describe('Deployment replicas', () => {
  it('current is spec.replicas (pending creations count), ready is status.readyReplicas', () => {
    expect(replicaStatusOf(dep('d', { replicas: 5 }, { replicas: 3, readyReplicas: 2 }))).toEqual({
      current: 5,
      ready: 2,
    });
    expect(replicaStatusOf(dep('d', {}, { replicas: 3, readyReplicas: 3 }))).toEqual({ current: 3, ready: 3 });
    expect(replicaStatusOf(dep('d', { replicas: 0 }, {}))).toEqual({ current: 0, ready: 0 });
    // During a rollout surge ready can exceed the target; pending is never negative.
    expect(replicaStatusOf(dep('d', { replicas: 2 }, { readyReplicas: 3 }))).toEqual({ current: 2, ready: 2 });
  });

  it('the spec fingerprint ignores replicas and key order', () => {
    const a = specFingerprint(dep('d', { replicas: 1, template: { spec: { a: 1, b: 2 } } }));
    expect(specFingerprint(dep('d', { template: { spec: { b: 2, a: 1 } }, replicas: 7 }))).toBe(a);
    expect(specFingerprint(dep('d', { replicas: 1, template: { spec: { a: 1, b: 3 } } }))).not.toBe(a);
  });

  it('calls the spec-change hook for every variant on the Deployment, not on the first sight or a scale', () => {
    const registry = new VariantRegistry();
    registry.upsert(variant('v1', 'd'));
    registry.upsert(variant('v2', 'other'));
    const changed: string[] = [];
    const replicas = new DeploymentReplicas(registry, (k) => changed.push(k));
    const objs = [dep('d', { replicas: 1, template: { image: 'a' } }, { readyReplicas: 1 })];
    replicas.attach(lookup(objs));
    replicas.onUpsert(objs[0]!);
    replicas.onUpsert(dep('d', { replicas: 4, template: { image: 'a' } }));
    expect(changed).toEqual([]);
    replicas.onUpsert(dep('d', { replicas: 4, template: { image: 'b' } }));
    expect(changed).toEqual(['ns/v1']);
    expect(replicas.get(registry.get('ns/v1')!)).toEqual({ current: 1, ready: 1 });
    expect(replicas.get(registry.get('ns/v2')!)).toBeUndefined();
  });
});

describe('OwnerReferencePodMapper', () => {
  const pod = (name: string, rs: string | undefined, hash?: string) => ({
    metadata: {
      name,
      namespace: 'ns',
      labels: hash ? { 'pod-template-hash': hash } : {},
      ownerReferences: rs ? [{ kind: 'ReplicaSet', name: rs, controller: true }] : [],
    },
  });
  const rs = (name: string, deployment: string) => ({
    metadata: { name, namespace: 'ns', ownerReferences: [{ kind: 'Deployment', name: deployment, controller: true }] },
  });

  it('follows Pod -> ReplicaSet -> Deployment -> variant, and follows registry changes', () => {
    const registry = new VariantRegistry();
    registry.upsert(variant('llama-h100', 'llama-deploy'));
    const pods = [
      pod('p1', 'llama-deploy-abc12', 'abc12'),
      pod('p2', 'custom-rs'),
      pod('bare', undefined),
      pod('p3', 'gone-rs-9f', '9f'),
    ];
    const mapper = new OwnerReferencePodMapper(
      lookup(pods),
      lookup([rs('llama-deploy-abc12', 'llama-deploy'), rs('custom-rs', 'other-deploy')]),
      registry,
    );
    expect(mapper.variantOf('ns', 'p1')).toBe('ns/llama-h100');
    expect(mapper.variantOf('ns', 'p2')).toBeUndefined();
    expect(mapper.variantOf('ns', 'bare')).toBeUndefined();
    expect(mapper.variantOf('other-ns', 'p1')).toBeUndefined();
    // ReplicaSet not cached: its name minus the pod-template-hash is the Deployment.
    expect(mapper.deploymentOf('ns', 'p3')).toBe('gone-rs');
    registry.upsert(variant('other', 'other-deploy'));
    expect(mapper.variantOf('ns', 'p2')).toBe('ns/other');
    registry.remove('ns/llama-h100');
    expect(mapper.variantOf('ns', 'p1')).toBeUndefined();
  });
});
