import { describe, expect, it } from 'vitest';
import { fromEnvDeployment, variantFromScaledObject } from '../../../src/kube/scaledobject-variant.js';
import { variantFromVariantAutoscaling } from '../../../src/kube/variantautoscaling-variant.js';

const so = (
  meta: Record<string, unknown>,
  spec: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) => ({
  metadata: { name: 'llama-h100', namespace: 'llm', ...extra },
  spec: {
    scaleTargetRef: { name: 'llama-deploy' },
    minReplicaCount: 2,
    maxReplicaCount: 9,
    triggers: [{ type: 'external-push', metadata: { scalerAddress: 'wva-scaler.keda:9090', modelID: 'm', ...meta } }],
    ...spec,
  },
});

describe('variantFromScaledObject', () => {
  it('takes the Deployment and min/max from the ScaledObject when the metadata leaves them out', () => {
    const m = variantFromScaledObject(so({ variantCost: '7', accelerator: 'H100' }), 'wva-scaler');
    expect(m).toMatchObject({
      kind: 'variant',
      variant: {
        key: 'llm/llama-h100',
        deployment: 'llama-deploy',
        minReplicas: 2,
        maxReplicas: 9,
        cost: 7,
        accelerator: 'H100',
        source: 'scaledobject',
        deleting: false,
      },
    });
  });

  it('lets trigger metadata override them', () => {
    const m = variantFromScaledObject(so({ deployment: 'other', minReplicas: '1', maxReplicas: '4' }), 'wva-scaler');
    expect(m).toMatchObject({ kind: 'variant', variant: { deployment: 'other', minReplicas: 1, maxReplicas: 4 } });
  });

  it('uses KEDA defaults (0, 100) when neither gives min/max', () => {
    const m = variantFromScaledObject(so({}, { minReplicaCount: undefined, maxReplicaCount: undefined }), 'wva-scaler');
    expect(m).toMatchObject({ kind: 'variant', variant: { minReplicas: 0, maxReplicas: 100 } });
  });

  it('ignores triggers of other types or other scalers', () => {
    expect(variantFromScaledObject(so({ scalerAddress: 'other:9090' }), 'wva-scaler').kind).toBe('ignored');
    const cpu = so({}, { triggers: [{ type: 'cpu', metadata: { scalerAddress: 'wva-scaler' } }] });
    expect(variantFromScaledObject(cpu, 'wva-scaler').kind).toBe('ignored');
    expect(variantFromScaledObject({ spec: {} }, 'wva-scaler').kind).toBe('ignored');
  });

  it('reports bad metadata with the key, value and what is expected', () => {
    const m = variantFromScaledObject(so({ kvCacheThreshold: '1.5' }), 'wva-scaler');
    expect(m.kind).toBe('invalid');
    if (m.kind === 'invalid') expect(m.error).toMatch(/kvCacheThreshold=.*1\.5.*expected a number in \[0, 1\]/);
    const missing = variantFromScaledObject(so({ modelID: undefined }), 'wva-scaler');
    expect(missing.kind === 'invalid' && missing.error).toMatch(/modelID/);
  });

  it('rejects a scale target that is not a Deployment and max below min', () => {
    expect(
      variantFromScaledObject(so({}, { scaleTargetRef: { kind: 'StatefulSet', name: 'x' } }), 'wva-scaler'),
    ).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/expected Deployment/) });
    expect(variantFromScaledObject(so({}, { minReplicaCount: 5, maxReplicaCount: 3 }), 'wva-scaler').kind).toBe(
      'invalid',
    );
  });

  describe('<key>FromEnv, resolved like KEDA from the target container', () => {
    const deployment = (containers: unknown[]) => ({
      metadata: { name: 'llama-deploy', namespace: 'llm' },
      spec: { template: { spec: { containers } } },
    });
    const vllm = {
      name: 'vllm',
      env: [
        { name: 'MODEL', value: 'Qwen/Qwen2.5-7B' },
        { name: 'COST', value: '3' },
        { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    };
    const sidecar = { name: 'proxy', env: [{ name: 'MODEL', value: 'wrong/model' }] };
    const withEnv = (meta: Record<string, unknown>, ref: Record<string, unknown> = {}) =>
      so({ modelID: undefined, ...meta }, { scaleTargetRef: { name: 'llama-deploy', ...ref } });

    it('reads plain env values of the first container, or of envSourceContainerName', () => {
      const lookups: string[] = [];
      const of = (ns: string, name: string) => (lookups.push(`${ns}/${name}`), deployment([vllm, sidecar]));
      expect(
        variantFromScaledObject(withEnv({ modelIDFromEnv: 'MODEL', variantCostFromEnv: 'COST' }), 'wva-scaler', of),
      ).toMatchObject({
        kind: 'variant',
        variant: { modelID: 'Qwen/Qwen2.5-7B', cost: 3, deployment: 'llama-deploy', minReplicas: 2, maxReplicas: 9 },
      });
      expect(lookups).toEqual(['llm/llama-deploy']);
      const named = variantFromScaledObject(
        withEnv({ modelIDFromEnv: 'MODEL' }, { envSourceContainerName: 'proxy' }),
        'wva-scaler',
        of,
      );
      expect(named.kind === 'variant' && named.variant.modelID).toBe('wrong/model');
    });

    it('defers to GetMetricSpec, never registering the variable name, when it cannot see the value', () => {
      const of = () => deployment([vllm]);
      for (const [meta, why] of [
        [
          { modelIDFromEnv: 'SECRET' },
          /modelIDFromEnv="SECRET" is not a plain env value of container \(first\) of Deployment llama-deploy/,
        ],
        [{ modelIDFromEnv: 'UNSET' }, /modelIDFromEnv="UNSET"/],
      ] as const) {
        expect(variantFromScaledObject(withEnv(meta), 'wva-scaler', of)).toMatchObject({
          kind: 'deferred',
          key: 'llm/llama-h100',
          why: expect.stringMatching(why),
        });
      }
      expect(variantFromScaledObject(withEnv({ modelIDFromEnv: 'MODEL' }), 'wva-scaler')).toMatchObject({
        kind: 'deferred',
        why: expect.stringMatching(/not in the cache/),
      });
      expect(
        variantFromScaledObject(
          withEnv({ modelIDFromEnv: 'MODEL' }, { envSourceContainerName: 'nope' }),
          'wva-scaler',
          of,
        ).kind,
      ).toBe('deferred');
    });

    it('names the Deployment to watch only for ScaledObjects that use FromEnv', () => {
      expect(fromEnvDeployment(withEnv({ modelIDFromEnv: 'MODEL' }), 'wva-scaler')).toBe('llm/llama-deploy');
      expect(fromEnvDeployment(so({}), 'wva-scaler')).toBeUndefined();
    });
  });

  it('marks a ScaledObject being deleted', () => {
    const m = variantFromScaledObject(so({}, {}, { deletionTimestamp: '2025-01-01T00:00:00Z' }), 'wva-scaler');
    expect(m.kind === 'variant' && m.variant.deleting).toBe(true);
  });
});

describe('variantFromVariantAutoscaling', () => {
  const va = (spec: Record<string, unknown>, labels: Record<string, string> = {}) => ({
    metadata: { name: 'v', namespace: 'llm', labels },
    spec,
  });

  it('reads modelID, the decimal-string cost, the target and the accelerator label', () => {
    const m = variantFromVariantAutoscaling(
      va(
        { modelID: 'm', variantCost: '12.50', scaleTargetRef: { kind: 'Deployment', name: 'd' } },
        { 'inference.optimization/acceleratorName': 'A100' },
      ),
    );
    expect(m).toMatchObject({
      kind: 'variant',
      variant: {
        key: 'llm/v',
        modelID: 'm',
        cost: 12.5,
        deployment: 'd',
        accelerator: 'A100',
        source: 'variantautoscaling',
      },
    });
  });

  it('defaults the cost to 10 and the Deployment to the VA name', () => {
    expect(variantFromVariantAutoscaling(va({ modelID: 'm' }))).toMatchObject({
      kind: 'variant',
      variant: { cost: 10, deployment: 'v', accelerator: undefined },
    });
  });

  it('rejects a missing modelID and a bad cost, saying what is expected', () => {
    expect(variantFromVariantAutoscaling(va({}))).toMatchObject({
      kind: 'invalid',
      error: expect.stringMatching(/spec.modelID/),
    });
    expect(variantFromVariantAutoscaling(va({ modelID: 'm', variantCost: 'cheap' }))).toMatchObject({
      kind: 'invalid',
      error: expect.stringMatching(/variantCost="cheap".*decimal/),
    });
    expect(variantFromVariantAutoscaling(va({ modelID: 'm', variantCost: '0' })).kind).toBe('invalid');
  });
});
