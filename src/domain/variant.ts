/**
 * A variant: one Deployment serving a model on one accelerator type, with a cost.
 * One ScaledObject (or WVA VariantAutoscaling) each. Its key is `namespace/name`, where name is the
 * ScaledObject's (or VariantAutoscaling's) name.
 */
import type { SaturationOverrides } from './saturation.js';
import type { SloOverrides } from './slo.js';

export type VariantSource = 'grpc' | 'scaledobject' | 'variantautoscaling' | 'static';

export interface Variant {
  /** `namespace/name` — the key everything else is indexed by. */
  readonly key: string;
  readonly namespace: string;
  /** ScaledObject (or VariantAutoscaling) name. */
  readonly name: string;
  /** vLLM's `model_name` label value. */
  readonly modelID: string;
  readonly accelerator: string | undefined;
  /** Relative cost of one replica; > 0. Cheaper variants grow first and shrink last. */
  readonly cost: number;
  /** Name of the scale target Deployment (defaults to the ScaledObject name). */
  readonly deployment: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Per-variant overrides from trigger metadata; merged over the saturation config. */
  readonly saturation: SaturationOverrides;
  /** Per-variant scale-to-zero override; undefined = follow the config. */
  readonly scaleToZero: boolean | undefined;
  /** Per-variant scale-to-zero retention override in ms; undefined = follow the config. */
  readonly scaleToZeroRetentionMs: number | undefined;
  /** Per-variant SLO overrides from trigger metadata (sloMode, targetTTFT, targetITL); absent = none. */
  readonly slo?: SloOverrides | undefined;
  readonly source: VariantSource;
  /** Set while the owning object is being deleted; such variants are not `ready()`. */
  readonly deleting: boolean;
}

export const DEFAULT_VARIANT_COST = 10;
/** KEDA's own default maxReplicaCount. */
export const DEFAULT_MAX_REPLICAS = 100;

/** Every field but the override maps, as a record so that a new Variant field must be listed here. */
const PLAIN_FIELDS: Readonly<Record<Exclude<keyof Variant, 'saturation' | 'slo'>, true>> = {
  key: true,
  namespace: true,
  name: true,
  modelID: true,
  accelerator: true,
  cost: true,
  deployment: true,
  minReplicas: true,
  maxReplicas: true,
  scaleToZero: true,
  scaleToZeroRetentionMs: true,
  source: true,
  deleting: true,
};
const OVERRIDE_FIELDS: Readonly<Record<keyof SaturationOverrides, true>> = {
  kvCacheThreshold: true,
  queueLengthThreshold: true,
  kvSpareTrigger: true,
  queueSpareTrigger: true,
};

const SLO_FIELDS: Readonly<Record<keyof SloOverrides, true>> = { sloMode: true, targetTTFT: true, targetITL: true };

/**
 * Whether two variants are the same in every field: a registration that changes nothing is not an
 * update (GetMetricSpec re-registers on every KEDA poll). Field by field, so the order in which
 * saturation overrides were written does not matter.
 */
export function sameVariant(a: Variant, b: Variant): boolean {
  const plain = Object.keys(PLAIN_FIELDS) as (keyof typeof PLAIN_FIELDS)[];
  const overrides = Object.keys(OVERRIDE_FIELDS) as (keyof SaturationOverrides)[];
  const slo = Object.keys(SLO_FIELDS) as (keyof SloOverrides)[];
  return (
    plain.every((f) => a[f] === b[f]) &&
    overrides.every((f) => a.saturation[f] === b.saturation[f]) &&
    slo.every((f) => a.slo?.[f] === b.slo?.[f])
  );
}

export function variantKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** `namespace/modelID`: the unit the engine analyses (all variants of one model together). */
export function modelKey(namespace: string, modelID: string): string {
  return `${namespace}/${modelID}`;
}
