/**
 * ScaledObject -> Variant (pure). A ScaledObject is ours when one of its triggers has type
 * `external` or `external-push` and a `scalerAddress` containing WVA_SCALER_ADDRESS_MATCH. Its
 * trigger metadata is validated by the same parser GetMetricSpec uses; the ScaledObject itself
 * supplies what the metadata leaves out: the scale target's Deployment and min/maxReplicaCount.
 */
import { MetadataError, parseTriggerMetadata } from '../grpc/metadata.js';
import { DEFAULT_MAX_REPLICAS, variantKey, type Variant } from '../domain/variant.js';
import { asRecord, field, int, isDeleting, refOf, str } from './object-fields.js';

export type MappedVariant =
  | { readonly kind: 'variant'; readonly variant: Variant }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'invalid'; readonly key: string; readonly error: string };

const OUR_TRIGGER_TYPES = new Set(['external', 'external-push']);

/** The metadata of the first trigger that points at this scaler, as strings; undefined if none. */
export function ourTriggerMetadata(scaledObject: unknown, addressMatch: string): Record<string, string> | undefined {
  const triggers = field(scaledObject, 'spec', 'triggers');
  if (!Array.isArray(triggers)) return undefined;
  for (const t of triggers) {
    const type = str(t, 'type');
    const meta = asRecord(field(t, 'metadata'));
    if (!type || !OUR_TRIGGER_TYPES.has(type) || !meta) continue;
    const address = meta['scalerAddress'];
    if (typeof address !== 'string' || !address.includes(addressMatch)) continue;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    }
    return out;
  }
  return undefined;
}

export function variantFromScaledObject(scaledObject: unknown, addressMatch: string): MappedVariant {
  const ref = refOf(scaledObject);
  if (!ref) return { kind: 'ignored' };
  const metadata = ourTriggerMetadata(scaledObject, addressMatch);
  if (!metadata) return { kind: 'ignored' };
  const key = variantKey(ref.namespace, ref.name);
  let parsed: Variant;
  try {
    parsed = parseTriggerMetadata(ref.namespace, ref.name, metadata);
  } catch (err) {
    if (err instanceof MetadataError) return { kind: 'invalid', key, error: err.message };
    throw err;
  }
  const targetKind = str(scaledObject, 'spec', 'scaleTargetRef', 'kind') ?? 'Deployment';
  const targetName = str(scaledObject, 'spec', 'scaleTargetRef', 'name');
  if (targetKind !== 'Deployment') {
    return { kind: 'invalid', key, error: `spec.scaleTargetRef.kind=${JSON.stringify(targetKind)}: expected Deployment` };
  }
  // Trigger metadata wins where given; otherwise KEDA's own fields (its defaults: 0 and 100).
  const minReplicas = metadata['minReplicas'] !== undefined ? parsed.minReplicas : (int(scaledObject, 'spec', 'minReplicaCount') ?? 0);
  const maxReplicas = metadata['maxReplicas'] !== undefined ? parsed.maxReplicas : (int(scaledObject, 'spec', 'maxReplicaCount') ?? DEFAULT_MAX_REPLICAS);
  if (maxReplicas < Math.max(1, minReplicas)) {
    return { kind: 'invalid', key, error: `maxReplicas ${maxReplicas}: expected >= max(1, minReplicas ${minReplicas})` };
  }
  return {
    kind: 'variant',
    variant: {
      ...parsed,
      deployment: metadata['deployment'] !== undefined ? parsed.deployment : (targetName ?? parsed.deployment),
      minReplicas,
      maxReplicas,
      source: 'scaledobject',
      deleting: isDeleting(scaledObject),
    },
  };
}
