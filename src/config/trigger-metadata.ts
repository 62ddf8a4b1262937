/**
 * Trigger metadata -> Variant, KEDA-style (its scalersconfig): every key is declared once in
 * METADATA_KEYS with its parser (the shared scalars of scalars.ts) and parseTriggerMetadata
 * validates them all in one place. A bad key is a MetadataError naming the key, the value and what
 * is expected (the gRPC layer answers it as INVALID_ARGUMENT).
 *
 * KEDA's own keys (scalerAddress, TLS options) are accepted and ignored. Unknown keys are rejected
 * so that a typo such as `kvCacheThreshhold` cannot silently fall back to a default.
 *
 * `<key>FromEnv` is KEDA's way to take a value from the scale target's container environment: KEDA
 * resolves it and forwards it under the same key (`modelIDFromEnv: "meta-llama/..."`), or drops it
 * when the variable is unset. So on the wire `<key>FromEnv` is `<key>`; giving both is ambiguous.
 */
import { spareProblemRefusedAtLoad, type SaturationOverrides } from '../domain/saturation.js';
import { DEFAULT_MAX_REPLICAS, DEFAULT_VARIANT_COST, variantKey, type Variant } from '../domain/variant.js';
import { SLO_TARGET_SCALAR, THRESHOLD_SCALARS } from './saturation-config.js';
import {
  booleanScalar,
  decimalScalar,
  dnsLabelScalar,
  dnsSubdomainScalar,
  InvalidValueError,
  isEmptyValue,
  quoteKeyValue,
  replicasScalar,
  retentionScalar,
  textScalar,
  type Scalar,
} from './scalars.js';

export class MetadataError extends InvalidValueError {
  constructor(key: string, value: string | undefined, expected: string) {
    super(`invalid trigger metadata: ${quoteKeyValue(key, value)}: expected ${expected}`, key, value, expected);
    this.name = 'MetadataError';
  }
}

type KeySpec<T> = Scalar<T> & { readonly required?: boolean };

/** Longest modelID: vLLM's served model names are Hugging Face ids or paths, far below this. */
export const MODEL_ID_MAX = 256;
const modelIDScalar = textScalar(MODEL_ID_MAX, 'the vLLM model_name served by this variant');
/** Every key this scaler reads from a trigger's metadata. */
export const METADATA_KEYS = {
  modelID: { ...modelIDScalar, required: true, expected: `${modelIDScalar.expected} (required)` },
  accelerator: textScalar(63, 'an accelerator name'),
  variantCost: decimalScalar(0, 1_000_000, { above: true }),
  deployment: dnsSubdomainScalar,
  ...THRESHOLD_SCALARS,
  minReplicas: replicasScalar,
  maxReplicas: replicasScalar,
  scaleToZero: booleanScalar,
  scaleToZeroRetention: retentionScalar,
  sloMode: booleanScalar,
  targetTTFT: SLO_TARGET_SCALAR,
  targetITL: SLO_TARGET_SCALAR,
} as const satisfies Record<string, KeySpec<unknown>>;

/** KEDA's own keys: present in scalerMetadata, not ours to interpret. */
export const KEDA_KEYS: ReadonlySet<string> = new Set([
  'scalerAddress',
  'enableTLS',
  'unsafeSsl',
  'caCert',
  'tlsClientCert',
  'tlsClientKey',
  'tlsCertFile',
]);

type Parsed = { -readonly [K in keyof typeof METADATA_KEYS]?: ReturnType<(typeof METADATA_KEYS)[K]['parse']> };

/** KEDA's suffix for a value taken from the scale target's container environment. */
export const FROM_ENV = 'FromEnv';
type OurKey = keyof typeof METADATA_KEYS;
const isOurKey = (key: string): key is OurKey => Object.hasOwn(METADATA_KEYS, key);

/** Our key's raw value and the key it was given under (`modelID` or `modelIDFromEnv`), for errors. */
function rawValues(metadata: Readonly<Record<string, string>>): Map<OurKey, { given: string; raw: string }> {
  const out = new Map<OurKey, { given: string; raw: string }>();
  for (const [given, raw] of Object.entries(metadata)) {
    if (KEDA_KEYS.has(given)) continue;
    const key = given.endsWith(FROM_ENV) ? given.slice(0, -FROM_ENV.length) : given;
    if (!isOurKey(key)) {
      throw new MetadataError(
        given,
        raw,
        `a known key (${Object.keys(METADATA_KEYS).join(', ')}; each also as <key>FromEnv)`,
      );
    }
    // The one rule for empty values: an empty value is one not given (Helm renders an unset
    // value as "", KEDA forwards an empty variable behind <key>FromEnv as "").
    if (isEmptyValue(raw)) continue;
    const other = out.get(key);
    if (other)
      throw new MetadataError(given, raw, `either ${key} or ${key}${FROM_ENV}, not both (${other.given} is also set)`);
    out.set(key, { given, raw });
  }
  return out;
}

/** True when the metadata gives `key`, directly or as `<key>FromEnv`. */
export function hasKey(metadata: Readonly<Record<string, string>>, key: OurKey): boolean {
  return !isEmptyValue(metadata[key]) || !isEmptyValue(metadata[key + FROM_ENV]);
}

function parseKeys(raws: ReadonlyMap<OurKey, { given: string; raw: string }>): Parsed {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(METADATA_KEYS) as [OurKey, KeySpec<unknown>][]) {
    const given = raws.get(key);
    if (given === undefined) {
      if (spec.required)
        throw new MetadataError(
          key,
          undefined,
          `${spec.expected}; or ${key}${FROM_ENV} naming a variable set in the scale target's container`,
        );
      continue;
    }
    const value = spec.parse(given.raw);
    if (value === undefined) throw new MetadataError(given.given, given.raw, spec.expected);
    out[key] = value;
  }
  return out;
}

/**
 * Validates a ScaledObject reference and its trigger metadata and returns the Variant it
 * describes. Pure: no I/O, safe to call on every GetMetricSpec.
 */
export function parseTriggerMetadata(
  namespace: string,
  name: string,
  metadata: Readonly<Record<string, string>>,
): Variant {
  // As Kubernetes validates them: neither holds a "/", so no two (namespace, name) share a variant key.
  if (dnsLabelScalar.parse(namespace) !== namespace)
    throw new MetadataError('namespace', namespace, `the ScaledObject namespace, ${dnsLabelScalar.expected}`);
  if (dnsSubdomainScalar.parse(name) !== name)
    throw new MetadataError('name', name, `the ScaledObject name, ${dnsSubdomainScalar.expected}`);
  const raws = rawValues(metadata);
  const p = parseKeys(raws);
  const fail = (key: OurKey, expected: string): never => {
    const given = raws.get(key);
    throw new MetadataError(given?.given ?? key, given?.raw, expected);
  };
  const saturation: { -readonly [K in keyof SaturationOverrides]: SaturationOverrides[K] } = {};
  for (const field of Object.keys(THRESHOLD_SCALARS) as (keyof SaturationOverrides)[]) {
    const v = p[field];
    if (v !== undefined) saturation[field] = v;
  }
  // Only pairs given together here: the config these overrides merge over is not known yet.
  const spare = spareProblemRefusedAtLoad(saturation);
  if (spare) fail(spare.trigger, `<= ${spare.threshold} (${spare.thresholdValue})`);
  // The saturation config the SLO fields merge over is not known here either, so a trigger that
  // turns SLO mode on states both targets itself (a half-given objective is refused, never guessed).
  if (p.sloMode === true) {
    if (p.targetTTFT === undefined) fail('targetTTFT', 'a p95 time to first token in ms (sloMode is true)');
    if (p.targetITL === undefined) fail('targetITL', 'an inter-token latency in ms (sloMode is true)');
  }
  const slo =
    p.sloMode === undefined && p.targetTTFT === undefined && p.targetITL === undefined
      ? undefined
      : { sloMode: p.sloMode, targetTTFT: p.targetTTFT, targetITL: p.targetITL };
  const minReplicas = p.minReplicas ?? 0;
  const maxReplicas = p.maxReplicas ?? Math.max(DEFAULT_MAX_REPLICAS, minReplicas);
  if (maxReplicas < 1) fail('maxReplicas', 'a whole number >= 1');
  if (maxReplicas < minReplicas) fail('maxReplicas', `>= minReplicas (${minReplicas})`);
  return {
    key: variantKey(namespace, name),
    namespace,
    name,
    modelID: p.modelID ?? '',
    accelerator: p.accelerator,
    cost: p.variantCost ?? DEFAULT_VARIANT_COST,
    deployment: p.deployment ?? name,
    minReplicas,
    maxReplicas,
    saturation,
    scaleToZero: p.scaleToZero,
    scaleToZeroRetentionMs: p.scaleToZeroRetention,
    ...(slo ? { slo } : {}),
    source: 'grpc',
    deleting: false,
  };
}
