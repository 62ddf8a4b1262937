/**
 * WVA's `wva-saturation-scaling-config` format: a map whose `default` entry (or WVA's scale-to-zero
 * `__defaults__`) and per-model entries are YAML documents. Per-model entries name `model_id` and
 * optionally `namespace`. Scale-to-zero fields (`enable_scale_to_zero`, `retention_period`) of
 * WVA's scale-to-zero ConfigMap are accepted in the same entries.
 *
 * Merge order, field by field: built-in defaults <- `default` <- per-model entry <- trigger metadata.
 * Field values go through the shared scalar parsers (scalars.ts); THRESHOLD_SCALARS is shared with
 * the trigger-metadata parser, and the spare-trigger rule is domain/saturation.ts's, checked here on
 * each entry's merged thresholds.
 *
 * SLO mode (issue 22): `sloMode`, `targetTTFT` (p95 time to first token, ms) and `targetITL` (mean
 * inter-token latency, ms), WVA v0.9's QueueingModelAnalyzer field names (llm-d WVA
 * docs/developer-guide/slo-queuemodel.md), in any entry; they merge field by field like the
 * thresholds, and an entry whose merged `sloMode` is on without both targets is refused.
 */
import { parse as parseYaml } from 'yaml';
import {
  booleanScalar,
  decimalScalar,
  fractionScalar,
  InvalidValueError,
  isEmptyValue,
  queueScalar,
  quoteKeyValue,
  retentionScalar,
  yamlScalarText,
  type Scalar,
} from './scalars.js';
import { DEFAULT_LIMITER_CONFIG, DEFAULT_PRIORITY, type LimiterConfig } from '../domain/gpu.js';
import { LimiterConfigError, parseLimiters } from './limiters.js';
import {
  DEFAULT_SATURATION,
  spareProblemRefusedAtLoad,
  type SaturationOverrides,
  type SaturationThresholds,
  type ScaleToZeroConfig,
} from '../domain/saturation.js';
import { mergeSlo, missingSloTarget, sloTargetOf, type SloOverrides, type SloTarget } from '../domain/slo.js';
import type { Variant } from '../domain/variant.js';

export class SaturationConfigError extends InvalidValueError {
  /** `detail` replaces the generic "field=value is invalid: expected ..." (cross-field rules). */
  constructor(
    readonly entry: string,
    field: string,
    value: unknown,
    expected: string,
    detail?: string,
  ) {
    super(
      `saturation config entry "${entry}": ${detail ?? `${quoteKeyValue(field, value)} is invalid: expected ${expected}`}`,
      field,
      value,
      expected,
    );
    this.name = 'SaturationConfigError';
  }
}

export interface SaturationEntry {
  /** ConfigMap key of the entry (for messages). */
  readonly name: string;
  readonly modelID: string;
  /** undefined = applies in every namespace. */
  readonly namespace: string | undefined;
  readonly thresholds: SaturationOverrides;
  readonly scaleToZero: boolean | undefined;
  readonly retentionMs: number | undefined;
  /** WVA V2's knobs (see V2_FIELDS); undefined where the entry does not give them. */
  readonly v2: V2Knobs;
  /** SLO mode and its targets as this entry gives them (absent: none given). */
  readonly slo?: SloOverrides;
}

/**
 * WVA v0.9's V2 knobs, meaning here what they mean there (llm-d WVA
 * docs/developer-guide/saturation-scaling-config.md):
 *  - `scaleUpThreshold` (0,1]: V2 scales up when KV demand exceeds this share of the supply at
 *    `kvCacheThreshold`, and sizes to demand / scaleUpThreshold. Here that is the per-replica KV
 *    target `kvCacheThreshold x scaleUpThreshold`, i.e. kvSpareTrigger = kvCacheThreshold x
 *    (1 - scaleUpThreshold); V2 ignores kvSpareTrigger, so where a scaleUpThreshold applies it
 *    replaces the config's kvSpareTrigger (trigger metadata still wins).
 *  - `scaleDownBoundary` (0,1): V2 removes capacity only while demand stays below this share of the
 *    supply left; here a scale-down also needs the projected KV use per replica at most
 *    `kvCacheThreshold x scaleDownBoundary`.
 *  - `priority` (> 0, default 1): the model's weight when models compete for one GPU type.
 */
export interface V2Knobs {
  readonly scaleUpThreshold?: number | undefined;
  readonly scaleDownBoundary?: number | undefined;
  readonly priority?: number | undefined;
}

export interface SaturationConfig {
  readonly defaults: SaturationOverrides;
  readonly defaultScaleToZero: boolean | undefined;
  readonly defaultRetentionMs: number | undefined;
  readonly entries: readonly SaturationEntry[];
  /** The `default` entry's V2 knobs (per-model entries merge over them field by field). */
  readonly defaultV2?: V2Knobs;
  /** `enableLimiter` and `limiters:` of the `default` entry (cluster-wide, as in WVA). */
  readonly limiter?: LimiterConfig;
  /** The `default` entry's SLO fields (per-model entries merge over them field by field). */
  readonly defaultSlo?: SloOverrides;
}

export const EMPTY_SATURATION_CONFIG: SaturationConfig = Object.freeze({
  defaults: {},
  defaultScaleToZero: undefined,
  defaultRetentionMs: undefined,
  entries: [],
  defaultV2: {},
  limiter: DEFAULT_LIMITER_CONFIG,
});

/**
 * Ranges of each field alone, as DESIGN's validation states them; shared with trigger metadata.
 * Values that pass here and still leave no load per replica (a trigger not below its threshold)
 * are held by the engine with the reason; only DESIGN's own pair rule refuses a config
 * (domain/saturation.ts: spareProblemRefusedAtLoad).
 */
export const THRESHOLD_SCALARS: Readonly<Record<keyof SaturationThresholds, Scalar<number>>> = {
  kvCacheThreshold: fractionScalar,
  queueLengthThreshold: queueScalar,
  kvSpareTrigger: fractionScalar,
  queueSpareTrigger: queueScalar,
};

const THRESHOLD_NAMES = Object.keys(THRESHOLD_SCALARS) as (keyof SaturationThresholds)[];

/** Where each effective threshold came from, for messages ("the built-in default", "entry \"llama\""). */
export type ThresholdOrigins = Readonly<Record<keyof SaturationThresholds, string>>;

export const BUILT_IN_ORIGIN = 'the built-in default';
export const DEFAULT_ENTRY_ORIGIN = 'the default entry';
export const METADATA_ORIGIN = 'trigger metadata';

type Layer = readonly [origin: string, values: SaturationOverrides];

/** Field-by-field merge of layers, later ones winning, remembering which layer gave each field. */
function mergeLayers(layers: readonly Layer[]): { thresholds: SaturationThresholds; origins: ThresholdOrigins } {
  const thresholds: Record<keyof SaturationThresholds, number> = { ...DEFAULT_SATURATION };
  const origins: Record<keyof SaturationThresholds, string> = {
    kvCacheThreshold: BUILT_IN_ORIGIN,
    queueLengthThreshold: BUILT_IN_ORIGIN,
    kvSpareTrigger: BUILT_IN_ORIGIN,
    queueSpareTrigger: BUILT_IN_ORIGIN,
  };
  for (const [origin, values] of layers) {
    for (const field of THRESHOLD_NAMES) {
      const v = values[field];
      if (v === undefined) continue;
      thresholds[field] = v;
      origins[field] = origin;
    }
  }
  return { thresholds, origins };
}

/** Parses one field's YAML value with a shared scalar parser; throws naming entry, field and value. */
/** The one rule for empty values: a field that is absent, null or blank is not given. */
function given(raw: unknown): boolean {
  return raw !== undefined && raw !== null && !(typeof raw === 'string' && isEmptyValue(raw));
}

function parseField<T>(entry: string, field: string, raw: unknown, scalar: Scalar<T>): T {
  const text = yamlScalarText(raw);
  const value = text === undefined ? undefined : scalar.parse(text);
  if (value === undefined) throw new SaturationConfigError(entry, field, raw, scalar.expected);
  return value;
}

/** A field the entry may leave out (absent, null or empty: undefined), else parsed or refused. */
function optionalField<T>(
  entry: string,
  fields: Record<string, unknown>,
  field: string,
  scalar: Scalar<T>,
): T | undefined {
  const raw = fields[field];
  return given(raw) ? parseField(entry, field, raw, scalar) : undefined;
}

/**
 * DESIGN's cross-field rule (kvCacheThreshold >= kvSpareTrigger), on the effective (merged)
 * thresholds of one entry: each layer can be valid alone, e.g. a per-model `kvCacheThreshold: 0.05`
 * under the default `kvSpareTrigger: 0.1`. The error says which layer gave each value. WVA's own
 * validation is the same rule, so a config WVA loads loads here.
 */
function checkEffective(entry: string, layers: readonly Layer[]): void {
  const { thresholds, origins } = mergeLayers(layers);
  const p = spareProblemRefusedAtLoad(thresholds);
  if (!p) return;
  const from =
    origins[p.trigger] === origins[p.threshold]
      ? `both from ${origins[p.trigger]}`
      : `${p.trigger} from ${origins[p.trigger]}, ${p.threshold} from ${origins[p.threshold]}`;
  throw new SaturationConfigError(
    entry,
    p.trigger,
    p.triggerValue,
    `<= ${p.threshold} (${p.thresholdValue})`,
    `${p.trigger} (${p.triggerValue}) must not exceed ${p.threshold} (${p.thresholdValue}) (${from})`,
  );
}

/** WVA V2 fields accepted in any entry (see V2Knobs), and those only the `default` entry may carry. */
const V2_FIELDS = ['scaleUpThreshold', 'scaleDownBoundary', 'priority', 'analyzers', 'analyzerName'] as const;
const CLUSTER_FIELDS = ['enableLimiter', 'limiters'] as const;
const SLO_FIELDS = ['sloMode', 'targetTTFT', 'targetITL'] as const;

/** A latency target in ms: above 0, at most an hour (a larger one is a unit mistake, e.g. µs). */
export const SLO_TARGET_SCALAR = decimalScalar(0, 3_600_000, { above: true });

const KNOWN_FIELDS = new Set<string>([
  ...THRESHOLD_NAMES,
  'model_id',
  'modelID',
  'namespace',
  'enable_scale_to_zero',
  'retention_period',
  ...V2_FIELDS,
  ...CLUSTER_FIELDS,
  ...SLO_FIELDS,
]);

const scaleUpThresholdScalar = decimalScalar(0, 1, { above: true });
const scaleDownBoundaryScalar = decimalScalar(0, 1, { above: true });
const priorityScalar = decimalScalar(0, 1_000_000, { above: true });

/**
 * WVA's analyzer selection: this scaler has one analyzer (saturation, with WVA V1's spare
 * triggers and, where given, V2's thresholds), so `analyzers:` may name only it.
 */
function checkAnalyzers(entry: string, fields: Record<string, unknown>): void {
  const name = fields['analyzerName'];
  if (given(name) && name !== 'saturation')
    throw new SaturationConfigError(entry, 'analyzerName', name, '"saturation" (the only analyzer this scaler has)');
  const list = fields['analyzers'];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list))
    throw new SaturationConfigError(entry, 'analyzers', list, 'a list of {name: saturation} entries');
  for (const a of list as unknown[]) {
    const rec = a !== null && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : undefined;
    const n = rec?.['type'] ?? rec?.['name'];
    if (n !== 'saturation')
      throw new SaturationConfigError(
        entry,
        'analyzers',
        n ?? a,
        'only {name: saturation}: this scaler has no throughput or queueing-model analyzer',
      );
    const extra = Object.keys(rec ?? {}).filter((k) => !['name', 'type', 'score', 'enabled'].includes(k));
    if (extra.length > 0)
      throw new SaturationConfigError(
        entry,
        `analyzers.${extra[0]}`,
        rec?.[extra[0] ?? ''],
        'name, type, score or enabled only (put scaleUpThreshold and scaleDownBoundary on the entry itself)',
      );
  }
}

function parseV2(entry: string, fields: Record<string, unknown>): V2Knobs {
  checkAnalyzers(entry, fields);
  const priorityRaw = fields['priority'];
  if (given(priorityRaw) && yamlScalarText(priorityRaw)?.trim() === '0')
    throw new SaturationConfigError(
      entry,
      'priority',
      priorityRaw,
      'a number above 0; to put a model last write a small positive value such as 0.00001 (WVA rewrites 0 to 1, the opposite)',
    );
  const v2: V2Knobs = {
    scaleUpThreshold: optionalField(entry, fields, 'scaleUpThreshold', scaleUpThresholdScalar),
    scaleDownBoundary: optionalField(entry, fields, 'scaleDownBoundary', scaleDownBoundaryScalar),
    priority: optionalField(entry, fields, 'priority', priorityScalar),
  };
  if (v2.scaleDownBoundary !== undefined && v2.scaleDownBoundary >= 1)
    throw new SaturationConfigError(entry, 'scaleDownBoundary', v2.scaleDownBoundary, 'a number above 0 and below 1');
  return v2;
}

function parseSlo(entry: string, fields: Record<string, unknown>): SloOverrides {
  return {
    sloMode: optionalField(entry, fields, 'sloMode', booleanScalar),
    targetTTFT: optionalField(entry, fields, 'targetTTFT', SLO_TARGET_SCALAR),
    targetITL: optionalField(entry, fields, 'targetITL', SLO_TARGET_SCALAR),
  };
}

/** `sloMode: true` on the merged entry needs both targets: say which one is missing and from where. */
function checkSlo(entry: string, merged: SloOverrides): void {
  const missing = missingSloTarget(merged);
  if (missing === undefined) return;
  throw new SaturationConfigError(
    entry,
    missing,
    undefined,
    'a target in ms',
    `sloMode is true but ${missing} is not set (in this entry or the default entry): SLO mode needs both targetTTFT (p95 time to first token, ms) and targetITL (inter-token latency, ms)`,
  );
}

/** `enableLimiter` and `limiters:`: the `default` entry's, cluster-wide (WVA reads them only there). */
function parseLimiter(entry: string, fields: Record<string, unknown>): LimiterConfig {
  const enabled = optionalField(entry, fields, 'enableLimiter', booleanScalar) ?? DEFAULT_LIMITER_CONFIG.enabled;
  try {
    const quotas =
      fields['limiters'] === undefined || fields['limiters'] === null ? [] : parseLimiters(entry, fields['limiters']);
    return { enabled, quotas };
  } catch (err) {
    if (err instanceof LimiterConfigError)
      throw new SaturationConfigError(entry, `limiters${err.path}`, err.value, err.expected);
    throw err;
  }
}

/** WVA v0.9's per-model key `<modelID>#<namespace>` (its resolveSaturationConfig lookup). */
function splitModelKey(name: string): { modelID: string; namespace: string } | undefined {
  const i = name.lastIndexOf('#');
  if (i <= 0 || i === name.length - 1) return undefined;
  return { modelID: name.slice(0, i), namespace: name.slice(i + 1) };
}

function parseEntry(
  name: string,
  body: string,
): SaturationEntry & { isDefault: boolean; limiter: LimiterConfig | undefined } {
  let doc: unknown;
  try {
    doc = body.trim() === '' ? {} : parseYaml(body);
  } catch (e) {
    throw new SaturationConfigError(
      name,
      '(yaml)',
      body.slice(0, 80),
      `valid YAML (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SaturationConfigError(name, '(document)', doc, 'a YAML mapping of fields');
  }
  const fields = doc as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key))
      throw new SaturationConfigError(name, key, fields[key], `a known field (${[...KNOWN_FIELDS].join(', ')})`);
  }
  const thresholds: Partial<Record<keyof SaturationThresholds, number>> = {};
  for (const field of THRESHOLD_NAMES) {
    if (given(fields[field])) thresholds[field] = parseField(name, field, fields[field], THRESHOLD_SCALARS[field]);
  }
  const isDefault = name === 'default' || name === '__defaults__';
  if (!isDefault)
    for (const f of CLUSTER_FIELDS)
      if (fields[f] !== undefined)
        throw new SaturationConfigError(
          name,
          f,
          fields[f],
          `no ${f} here: it applies to the whole cluster and is read from the default entry only (as in WVA v0.9)`,
        );
  // WVA v0.9 keys per-model entries `<modelID>#<namespace>`; the key names the model then.
  const keyed = isDefault ? undefined : splitModelKey(name);
  const modelRaw = fields['model_id'] ?? fields['modelID'] ?? keyed?.modelID;
  if (!isDefault && (typeof modelRaw !== 'string' || modelRaw === '')) {
    throw new SaturationConfigError(
      name,
      'model_id',
      modelRaw,
      'the vLLM model_name this entry applies to (or a key of the form <modelID>#<namespace>)',
    );
  }
  const ns = fields['namespace'] ?? keyed?.namespace;
  if (ns !== undefined && typeof ns !== 'string')
    throw new SaturationConfigError(name, 'namespace', ns, 'a namespace name');
  if (keyed && (modelRaw !== keyed.modelID || ns !== keyed.namespace))
    throw new SaturationConfigError(
      name,
      modelRaw !== keyed.modelID ? 'model_id' : 'namespace',
      modelRaw !== keyed.modelID ? modelRaw : ns,
      `the model and namespace the key names (${keyed.modelID} in ${keyed.namespace}), or no such field`,
    );
  return {
    name,
    isDefault,
    limiter: isDefault ? parseLimiter(name, fields) : undefined,
    v2: parseV2(name, fields),
    slo: parseSlo(name, fields),
    modelID: typeof modelRaw === 'string' ? modelRaw : '',
    namespace: ns === '' ? undefined : ns,
    thresholds,
    scaleToZero: optionalField(name, fields, 'enable_scale_to_zero', booleanScalar),
    retentionMs: optionalField(name, fields, 'retention_period', retentionScalar),
  };
}

/**
 * Parses ConfigMap data (key -> YAML document). Throws SaturationConfigError on the first problem;
 * the caller keeps its last good config.
 */
export function parseSaturationConfig(data: Readonly<Record<string, string>>): SaturationConfig {
  let defaults: SaturationOverrides = {};
  let defaultScaleToZero: boolean | undefined;
  let defaultRetentionMs: number | undefined;
  let defaultV2: V2Knobs = {};
  let limiter: LimiterConfig = DEFAULT_LIMITER_CONFIG;
  let defaultSlo: SloOverrides = {};
  const entries: SaturationEntry[] = [];
  for (const name of Object.keys(data).sort()) {
    const parsed = parseEntry(name, data[name] ?? '');
    if (parsed.isDefault) {
      defaults = { ...defaults, ...parsed.thresholds };
      defaultScaleToZero = parsed.scaleToZero ?? defaultScaleToZero;
      defaultRetentionMs = parsed.retentionMs ?? defaultRetentionMs;
      defaultV2 = mergeV2(defaultV2, parsed.v2);
      limiter = parsed.limiter ?? limiter;
      defaultSlo = mergeSlo(defaultSlo, parsed.slo);
    } else {
      entries.push({
        name: parsed.name,
        modelID: parsed.modelID,
        namespace: parsed.namespace,
        thresholds: parsed.thresholds,
        scaleToZero: parsed.scaleToZero,
        retentionMs: parsed.retentionMs,
        v2: parsed.v2,
        slo: parsed.slo,
      });
    }
  }
  const config: SaturationConfig = {
    defaults,
    defaultScaleToZero,
    defaultRetentionMs,
    entries,
    defaultV2,
    limiter,
    defaultSlo,
  };
  checkSlo('default', defaultSlo);
  for (const e of entries) checkSlo(e.name, mergeSlo(defaultSlo, e.slo));
  for (const e of [{ name: 'default', v2: defaultV2 }, ...entries]) {
    const v2 = e.name === 'default' ? defaultV2 : mergeV2(defaultV2, e.v2);
    if (
      v2.scaleUpThreshold !== undefined &&
      v2.scaleDownBoundary !== undefined &&
      v2.scaleDownBoundary >= v2.scaleUpThreshold
    )
      throw new SaturationConfigError(
        e.name,
        'scaleDownBoundary',
        v2.scaleDownBoundary,
        `below scaleUpThreshold (${v2.scaleUpThreshold})`,
      );
  }
  // Validate the effective thresholds of every entry, so a bad combination is caught at load time.
  checkEffective('default', [[DEFAULT_ENTRY_ORIGIN, defaults]]);
  for (const e of entries)
    checkEffective(e.name, [
      [DEFAULT_ENTRY_ORIGIN, defaults],
      [`entry "${e.name}"`, e.thresholds],
    ]);
  return config;
}

/** Parses a whole file: a YAML map of key -> YAML document string (ConfigMap `data`), or a ConfigMap. */
export function parseSaturationConfigFile(text: string): SaturationConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SaturationConfigError(
      '(file)',
      '(yaml)',
      text.slice(0, 80),
      `valid YAML (${(e as Error).message.split('\n')[0]})`,
    );
  }
  // An empty file is a file caught mid-write or truncated, not "use the built-in defaults": a config
  // that wants only defaults says so (`default: ""`, or `{}`).
  if (doc === null || doc === undefined) {
    throw new SaturationConfigError(
      '(file)',
      '(document)',
      text.slice(0, 80),
      'a map of entry name -> YAML document (the file is empty; write `{}` for built-in defaults only)',
    );
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SaturationConfigError(
      '(file)',
      '(document)',
      doc,
      'a map of entry name -> YAML document, or a ConfigMap',
    );
  }
  const obj = doc as Record<string, unknown>;
  const data = obj['kind'] === 'ConfigMap' ? (obj['data'] ?? {}) : obj;
  const strings: Record<string, string> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new SaturationConfigError(k, '(document)', v, 'a YAML document as a string (use `key: |`)');
    strings[k] = v;
  }
  return parseSaturationConfig(strings);
}

/** The most specific entry for a model: namespace-scoped beats cluster-wide. */
export function findEntry(config: SaturationConfig, namespace: string, modelID: string): SaturationEntry | undefined {
  let best: SaturationEntry | undefined;
  for (const e of config.entries) {
    if (e.modelID !== modelID) continue;
    if (e.namespace === namespace) return e;
    if (e.namespace === undefined) best ??= e;
  }
  return best;
}

function mergeV2(base: V2Knobs, over: V2Knobs): V2Knobs {
  return {
    scaleUpThreshold: over.scaleUpThreshold ?? base.scaleUpThreshold,
    scaleDownBoundary: over.scaleDownBoundary ?? base.scaleDownBoundary,
    priority: over.priority ?? base.priority,
  };
}

/** A model's V2 knobs: the default entry's, then its own, field by field. */
export function resolveV2(config: SaturationConfig, namespace: string, modelID: string): V2Knobs {
  const entry = findEntry(config, namespace, modelID);
  return mergeV2(config.defaultV2 ?? {}, entry?.v2 ?? {});
}

/** A model's priority when models compete for GPUs (WVA's `priority`, default 1). */
export function resolvePriority(config: SaturationConfig, namespace: string, modelID: string): number {
  return resolveV2(config, namespace, modelID).priority ?? DEFAULT_PRIORITY;
}

/** The config's thresholds for a model, scaleUpThreshold applied (see V2Knobs). */
function configThresholds(config: SaturationConfig, entry: SaturationEntry | undefined): SaturationThresholds {
  const t = { ...DEFAULT_SATURATION, ...config.defaults, ...(entry?.thresholds ?? {}) };
  const up = entry?.v2.scaleUpThreshold ?? config.defaultV2?.scaleUpThreshold;
  return up === undefined ? t : { ...t, kvSpareTrigger: t.kvCacheThreshold * (1 - up) };
}

/** Effective thresholds: built-in <- default <- per-model <- variant overrides, field by field. */
export function resolveThresholds(
  config: SaturationConfig,
  namespace: string,
  modelID: string,
  overrides: SaturationOverrides = {},
): SaturationThresholds {
  const entry = findEntry(config, namespace, modelID);
  return { ...configThresholds(config, entry), ...overrides };
}

/** Where each of resolveThresholds' values came from (for messages; not on the hot path). */
export function resolveThresholdOrigins(
  config: SaturationConfig,
  namespace: string,
  modelID: string,
  overrides: SaturationOverrides = {},
): ThresholdOrigins {
  const entry = findEntry(config, namespace, modelID);
  const layers: Layer[] = [[DEFAULT_ENTRY_ORIGIN, config.defaults]];
  if (entry) layers.push([`entry "${entry.name}"`, entry.thresholds]);
  const up = entry?.v2.scaleUpThreshold ?? config.defaultV2?.scaleUpThreshold;
  if (up !== undefined) {
    const from = entry?.v2.scaleUpThreshold !== undefined ? `entry "${entry.name}"` : DEFAULT_ENTRY_ORIGIN;
    layers.push([`scaleUpThreshold ${up} of ${from}`, { kvSpareTrigger: 0 }]);
  }
  layers.push([METADATA_ORIGIN, overrides]);
  return mergeLayers(layers).origins;
}

/** Effective scale-to-zero: process default <- default entry <- per-model entry <- variant override. */
export function resolveScaleToZero(
  config: SaturationConfig,
  processDefault: ScaleToZeroConfig,
  namespace: string,
  modelID: string,
  override: { enabled?: boolean | undefined; retentionMs?: number | undefined } = {},
): ScaleToZeroConfig {
  const entry = findEntry(config, namespace, modelID);
  return {
    enabled: override.enabled ?? entry?.scaleToZero ?? config.defaultScaleToZero ?? processDefault.enabled,
    retentionMs: override.retentionMs ?? entry?.retentionMs ?? config.defaultRetentionMs ?? processDefault.retentionMs,
  };
}

/**
 * A model's latency objective: the default entry's SLO fields <- its own entry's <- `override`
 * (trigger metadata), field by field. Undefined = saturation mode (sloMode off or not given, or a
 * target missing: parsing refuses the latter for config entries, so only an override can cause it).
 */
export function resolveSlo(
  config: SaturationConfig,
  namespace: string,
  modelID: string,
  override?: SloOverrides,
): SloTarget | undefined {
  const entry = findEntry(config, namespace, modelID);
  return sloTargetOf(mergeSlo(config.defaultSlo, entry?.slo, override));
}

/**
 * A model's latency objective from its variants: the config's with the trigger metadata of the
 * first variant by key that gives SLO keys over it (SLO mode is per model: variants of one model
 * that disagree are a configuration the first one settles). Undefined: saturation mode.
 */
export function resolveModelSlo(
  config: SaturationConfig,
  variants: readonly Pick<Variant, 'namespace' | 'modelID' | 'key' | 'slo'>[],
): SloTarget | undefined {
  const first = variants[0];
  if (!first) return undefined;
  let withSlo: (typeof variants)[number] | undefined;
  for (const v of variants) if (v.slo !== undefined && (withSlo === undefined || v.key < withSlo.key)) withSlo = v;
  return resolveSlo(config, first.namespace, first.modelID, withSlo?.slo);
}
