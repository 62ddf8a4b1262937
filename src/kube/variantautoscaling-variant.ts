/**
 * WVA VariantAutoscaling (llmd.ai/v1alpha1) -> Variant (pure). WVA's spec: `modelID` (required),
 * `variantCost` (a decimal string, default "10"), `scaleTargetRef` (a Deployment); the accelerator
 * comes from the label `inference.optimization/acceleratorName` (or newer WVA's `spec.accelerator`).
 * WVA has no min/max on the resource (the HPA holds them): 0 and KEDA's default max apply.
 */
import { DEFAULT_MAX_REPLICAS, DEFAULT_VARIANT_COST, variantKey } from '../domain/variant.js';
import { field, isDeleting, refOf, str } from './object-fields.js';
import type { MappedVariant } from './scaledobject-variant.js';

export const ACCELERATOR_LABEL = 'inference.optimization/acceleratorName';

export function variantFromVariantAutoscaling(va: unknown): MappedVariant {
  const ref = refOf(va);
  if (!ref) return { kind: 'ignored' };
  const key = variantKey(ref.namespace, ref.name);
  const modelID = str(va, 'spec', 'modelID')?.trim();
  if (!modelID)
    return {
      kind: 'invalid',
      key,
      error: 'spec.modelID is missing: expected the vLLM model_name served by this variant',
    };
  const rawCost = field(va, 'spec', 'variantCost');
  let cost = DEFAULT_VARIANT_COST;
  if (rawCost !== undefined && rawCost !== null) {
    const n =
      typeof rawCost === 'number'
        ? rawCost
        : typeof rawCost === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(rawCost)
          ? Number(rawCost)
          : Number.NaN;
    if (!Number.isFinite(n) || n <= 0) {
      return {
        kind: 'invalid',
        key,
        error: `spec.variantCost=${JSON.stringify(rawCost)}: expected a decimal number above 0 such as "10.5"`,
      };
    }
    cost = n;
  }
  const targetKind = str(va, 'spec', 'scaleTargetRef', 'kind') ?? 'Deployment';
  if (targetKind !== 'Deployment') {
    return {
      kind: 'invalid',
      key,
      error: `spec.scaleTargetRef.kind=${JSON.stringify(targetKind)}: expected Deployment`,
    };
  }
  return {
    kind: 'variant',
    variant: {
      key,
      namespace: ref.namespace,
      name: ref.name,
      modelID,
      accelerator: str(va, 'metadata', 'labels', ACCELERATOR_LABEL) ?? str(va, 'spec', 'accelerator'),
      cost,
      deployment: str(va, 'spec', 'scaleTargetRef', 'name') ?? ref.name,
      minReplicas: 0,
      maxReplicas: DEFAULT_MAX_REPLICAS,
      saturation: {},
      scaleToZero: undefined,
      scaleToZeroRetentionMs: undefined,
      source: 'variantautoscaling',
      deleting: isDeleting(va),
    },
  };
}
