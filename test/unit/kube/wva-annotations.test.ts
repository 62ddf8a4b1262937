/** WVA v0.9's discovery annotations on a ScaledObject whose trigger points at this scaler. */
import { describe, expect, it } from 'vitest';
import { variantFromScaledObject } from '../../../src/kube/scaledobject-variant.js';

const so = (annotations: Record<string, string>, metadata: Record<string, string> = {}) => ({
  metadata: { name: 'llama-l4', namespace: 'llm', annotations },
  spec: {
    scaleTargetRef: { name: 'llama-l4' },
    triggers: [{ type: 'external-push', metadata: { scalerAddress: 'wva-scaler.keda:9090', ...metadata } }],
  },
});

describe('llm-d.ai annotations', () => {
  it.each([
    {
      name: 'managed + model-id: no modelID needed',
      obj: so({ 'llm-d.ai/managed': 'true', 'llm-d.ai/model-id': 'meta/llama-8b' }),
      modelID: 'meta/llama-8b',
      cost: 10,
    },
    {
      name: 'variant-cost sets the cost',
      obj: so({ 'llm-d.ai/managed': 'true', 'llm-d.ai/model-id': 'm', 'llm-d.ai/variant-cost': '4.5' }),
      modelID: 'm',
      cost: 4.5,
    },
    {
      name: 'metadata wins over both annotations',
      obj: so(
        { 'llm-d.ai/managed': 'true', 'llm-d.ai/model-id': 'm', 'llm-d.ai/variant-cost': '4.5' },
        { modelID: 'x', variantCost: '7' },
      ),
      modelID: 'x',
      cost: 7,
    },
  ])('$name', ({ obj, modelID, cost }) => {
    const r = variantFromScaledObject(obj, 'wva-scaler');
    expect(r.kind).toBe('variant');
    if (r.kind === 'variant') expect([r.variant.modelID, r.variant.cost]).toEqual([modelID, cost]);
  });

  it.each([
    { name: 'managed without model-id', obj: so({ 'llm-d.ai/managed': 'true' }), error: /llm-d.ai\/model-id/ },
    { name: 'not managed: modelID still required', obj: so({ 'llm-d.ai/model-id': 'm' }), error: /modelID/ },
    {
      name: 'a bad cost names the annotation',
      obj: so({ 'llm-d.ai/managed': 'true', 'llm-d.ai/model-id': 'm', 'llm-d.ai/variant-cost': 'cheap' }),
      error: /variantCost.*llm-d.ai\/variant-cost/,
    },
  ])('$name: invalid with a clear error', ({ obj, error }) => {
    const r = variantFromScaledObject(obj, 'wva-scaler');
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.error).toMatch(error);
  });
});

describe('GpuCapacity condition', () => {
  it('is False with the shortfall reason while a model is short of GPUs, absent otherwise', async () => {
    const { conditionsFor } = await import('../../../src/kube/status-writer.js');
    const base = {
      variantKey: 'llm/a',
      namespace: 'llm',
      variantName: 'a',
      modelID: 'm',
      accelerator: 'L4',
      desiredReplicas: 2,
      currentReplicas: 2,
      reasons: ['GPU shortfall: 1 replica(s) fit nowhere (llm/a: NVIDIA-L4 full (0 free, 1 per replica))'],
      steps: [],
      clamp: undefined,
      metricsAgeMs: 1000,
      freshness: 'fresh' as const,
      decidedAt: 0,
    };
    const c = conditionsFor({ ...base, gpuShortfall: 1 }).find((x) => x.type === 'GpuCapacity');
    expect(c).toMatchObject({ status: 'False', reason: 'GpuShortfall' });
    expect(c?.message).toMatch(/NVIDIA-L4 full/);
    expect(conditionsFor(base).some((x) => x.type === 'GpuCapacity')).toBe(false);
  });
});
