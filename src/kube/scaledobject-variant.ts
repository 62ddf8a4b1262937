/**
 * ScaledObject -> Variant (pure). A ScaledObject is ours when one of its triggers has type
 * `external` or `external-push` and a `scalerAddress` containing WVA_SCALER_ADDRESS_MATCH. Its
 * trigger metadata is validated by the same parser GetMetricSpec uses; the ScaledObject itself
 * supplies what the metadata leaves out: the scale target's Deployment and min/maxReplicaCount.
 *
 * `<key>FromEnv` names a variable of the scale target's container (`envSourceContainerName`, else
 * the first container). KEDA resolves it before GetMetricSpec; here we resolve it the same way from
 * the Deployment's plain `env` values. A variable we cannot see (valueFrom, envFrom, Deployment not
 * cached yet) defers the variant to GetMetricSpec, which receives KEDA's resolved value: never a
 * variant registered under the variable's name instead of its value.
 */
import { MAX_REPLICAS_BOUND, quoteValue, replicasScalar } from '../config/scalars.js';
import { FROM_ENV, hasKey, MetadataError, parseTriggerMetadata } from '../config/trigger-metadata.js';

/**
 * WVA v0.9's discovery annotations (llm-d WVA docs/developer-guide/migrating-from-va-crd.md): a
 * ScaledObject annotated `llm-d.ai/managed: "true"` names its model in `llm-d.ai/model-id` and may
 * set its cost in `llm-d.ai/variant-cost`. Its trigger pointing at this scaler then needs no
 * `modelID`; trigger metadata wins where it gives the same thing (`modelID`, `variantCost`).
 */
export const WVA_MANAGED = 'llm-d.ai/managed';
export const WVA_MODEL_ID = 'llm-d.ai/model-id';
export const WVA_VARIANT_COST = 'llm-d.ai/variant-cost';

/** The trigger metadata with what WVA's annotations add (metadata keys win). */
export function withWvaAnnotations(
  scaledObject: unknown,
  metadata: Record<string, string>,
): { ok: true; metadata: Record<string, string> } | { ok: false; error: string } {
  const annotations = asRecord(field(scaledObject, 'metadata', 'annotations'));
  const managed = annotations?.[WVA_MANAGED];
  if (managed !== 'true') return { ok: true, metadata };
  const out = { ...metadata };
  const model = annotations?.[WVA_MODEL_ID];
  if (!hasKey(metadata, 'modelID')) {
    if (typeof model !== 'string' || model.trim() === '')
      return {
        ok: false,
        error: `annotation ${WVA_MANAGED}: "true" needs ${WVA_MODEL_ID} (the vLLM model_name) when the trigger gives no modelID`,
      };
    out['modelID'] = model;
  }
  const cost = annotations?.[WVA_VARIANT_COST];
  if (typeof cost === 'string' && cost.trim() !== '' && !hasKey(metadata, 'variantCost')) out['variantCost'] = cost;
  return { ok: true, metadata: out };
}
import { DEFAULT_MAX_REPLICAS, variantKey, type Variant } from '../domain/variant.js';
import { asRecord, field, int, isDeleting, refOf, str } from './object-fields.js';

export type MappedVariant =
  | { readonly kind: 'variant'; readonly variant: Variant }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'invalid'; readonly key: string; readonly error: string }
  /** Ours, but only KEDA can resolve it (see FromEnv above): GetMetricSpec registers it. */
  | { readonly kind: 'deferred'; readonly key: string; readonly why: string };

/** The Deployment object a ScaledObject targets, from the informer cache. */
export type DeploymentOf = (namespace: string, name: string) => unknown;

/** Plain `env` values of the named container, else the first (KEDA's envSourceContainerName rule). */
export function containerEnv(
  deployment: unknown,
  containerName: string | undefined,
): ReadonlyMap<string, string> | undefined {
  const containers = field(deployment, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers) || containers.length === 0) return undefined;
  const list: readonly unknown[] = containers;
  const container = containerName === undefined ? list[0] : list.find((c) => str(c, 'name') === containerName);
  if (container === undefined) return undefined;
  const out = new Map<string, string>();
  const env = field(container, 'env');
  if (Array.isArray(env)) {
    const entries: readonly unknown[] = env;
    for (const e of entries) {
      const name = str(e, 'name');
      const value = str(e, 'value');
      if (name !== undefined && value !== undefined) out.set(name, value);
    }
  }
  return out;
}

/**
 * Replaces each `<key>FromEnv: VAR` by VAR's value in the target container, as KEDA forwards it.
 * A string is why it cannot be resolved here.
 */
function resolveFromEnv(
  metadata: Record<string, string>,
  target: () => { deployment: unknown; container: string | undefined; name: string },
): Record<string, string> | string {
  const fromEnv = Object.keys(metadata).filter((k) => k.endsWith(FROM_ENV));
  if (fromEnv.length === 0) return metadata;
  const t = target();
  const env = containerEnv(t.deployment, t.container);
  const where = `container ${t.container === undefined ? '(first)' : JSON.stringify(t.container)} of Deployment ${t.name}`;
  if (env === undefined) return `${fromEnv.join(', ')} need ${where}, which is not in the cache (yet)`;
  const out = { ...metadata };
  for (const key of fromEnv) {
    const value = env.get(metadata[key] ?? '');
    if (value === undefined || value === '')
      return `${key}=${JSON.stringify(metadata[key])} is not a plain env value of ${where} (valueFrom and envFrom are resolved by KEDA only)`;
    out[key] = value;
  }
  return out;
}

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

/** "namespace/deployment" of the scale target when the ScaledObject's trigger for us uses `<key>FromEnv`. */
export function fromEnvDeployment(scaledObject: unknown, addressMatch: string): string | undefined {
  const ref = refOf(scaledObject);
  const metadata = ourTriggerMetadata(scaledObject, addressMatch);
  if (!ref || !metadata || !Object.keys(metadata).some((k) => k.endsWith(FROM_ENV))) return undefined;
  return `${ref.namespace}/${str(scaledObject, 'spec', 'scaleTargetRef', 'name') ?? ref.name}`;
}

export function variantFromScaledObject(
  scaledObject: unknown,
  addressMatch: string,
  deploymentOf: DeploymentOf = () => undefined,
): MappedVariant {
  const ref = refOf(scaledObject);
  if (!ref) return { kind: 'ignored' };
  const raw = ourTriggerMetadata(scaledObject, addressMatch);
  if (!raw) return { kind: 'ignored' };
  const key = variantKey(ref.namespace, ref.name);
  const metadata = resolveFromEnv(raw, () => {
    const name = str(scaledObject, 'spec', 'scaleTargetRef', 'name') ?? ref.name;
    return {
      deployment: deploymentOf(ref.namespace, name),
      container: str(scaledObject, 'spec', 'scaleTargetRef', 'envSourceContainerName'),
      name,
    };
  });
  if (typeof metadata === 'string') return { kind: 'deferred', key, why: metadata };
  const annotated = withWvaAnnotations(scaledObject, metadata);
  if (!annotated.ok) return { kind: 'invalid', key, error: annotated.error };
  let parsed: Variant;
  try {
    parsed = parseTriggerMetadata(ref.namespace, ref.name, annotated.metadata);
  } catch (err) {
    if (err instanceof MetadataError) {
      const fromAnnotation =
        (err.key === 'variantCost' && !hasKey(metadata, 'variantCost')) ||
        (err.key === 'modelID' && !hasKey(metadata, 'modelID'));
      return {
        kind: 'invalid',
        key,
        error: fromAnnotation
          ? `${err.message} (from annotation ${err.key === 'modelID' ? WVA_MODEL_ID : WVA_VARIANT_COST})`
          : err.message,
      };
    }
    throw err;
  }
  const targetKind = str(scaledObject, 'spec', 'scaleTargetRef', 'kind') ?? 'Deployment';
  const targetName = str(scaledObject, 'spec', 'scaleTargetRef', 'name');
  if (targetKind !== 'Deployment') {
    return { kind: 'invalid', key, error: `spec.scaleTargetRef.kind=${quoteValue(targetKind)}: expected Deployment` };
  }
  // Trigger metadata wins where given; otherwise KEDA's own fields (its defaults: 0 and 100).
  const minReplicas = hasKey(metadata, 'minReplicas')
    ? parsed.minReplicas
    : (int(scaledObject, 'spec', 'minReplicaCount') ?? 0);
  const maxReplicas = hasKey(metadata, 'maxReplicas')
    ? parsed.maxReplicas
    : (int(scaledObject, 'spec', 'maxReplicaCount') ?? DEFAULT_MAX_REPLICAS);
  for (const [field, n] of [
    ['minReplicaCount', minReplicas],
    ['maxReplicaCount', maxReplicas],
  ] as const) {
    if (n < 0 || n > MAX_REPLICAS_BOUND)
      return { kind: 'invalid', key, error: `spec.${field}=${n}: expected ${replicasScalar.expected}` };
  }
  if (maxReplicas < Math.max(1, minReplicas)) {
    return {
      kind: 'invalid',
      key,
      error: `maxReplicas ${maxReplicas}: expected >= max(1, minReplicas ${minReplicas})`,
    };
  }
  return {
    kind: 'variant',
    variant: {
      ...parsed,
      deployment: hasKey(metadata, 'deployment') ? parsed.deployment : (targetName ?? parsed.deployment),
      minReplicas,
      maxReplicas,
      source: 'scaledobject',
      deleting: isDeleting(scaledObject),
    },
  };
}
