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
 */
import { parse as parseYaml } from 'yaml';
import {
  booleanScalar,
  fractionScalar,
  InvalidValueError,
  isEmptyValue,
  queueScalar,
  quoteKeyValue,
  retentionScalar,
  yamlScalarText,
  type Scalar,
} from './scalars.js';
import {
  DEFAULT_SATURATION,
  spareProblemRefusedAtLoad,
  type SaturationOverrides,
  type SaturationThresholds,
  type ScaleToZeroConfig,
} from '../domain/saturation.js';

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
}

export interface SaturationConfig {
  readonly defaults: SaturationOverrides;
  readonly defaultScaleToZero: boolean | undefined;
  readonly defaultRetentionMs: number | undefined;
  readonly entries: readonly SaturationEntry[];
}

export const EMPTY_SATURATION_CONFIG: SaturationConfig = Object.freeze({
  defaults: {},
  defaultScaleToZero: undefined,
  defaultRetentionMs: undefined,
  entries: [],
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

const KNOWN_FIELDS = new Set<string>([
  ...THRESHOLD_NAMES,
  'model_id',
  'modelID',
  'namespace',
  'enable_scale_to_zero',
  'retention_period',
]);

function parseEntry(name: string, body: string): SaturationEntry & { isDefault: boolean } {
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
  const modelRaw = fields['model_id'] ?? fields['modelID'];
  if (!isDefault && (typeof modelRaw !== 'string' || modelRaw === '')) {
    throw new SaturationConfigError(name, 'model_id', modelRaw, 'the vLLM model_name this entry applies to');
  }
  const ns = fields['namespace'];
  if (ns !== undefined && typeof ns !== 'string')
    throw new SaturationConfigError(name, 'namespace', ns, 'a namespace name');
  return {
    name,
    isDefault,
    modelID: typeof modelRaw === 'string' ? modelRaw : '',
    namespace: ns === '' ? undefined : ns,
    thresholds,
    scaleToZero: !given(fields['enable_scale_to_zero'])
      ? undefined
      : parseField(name, 'enable_scale_to_zero', fields['enable_scale_to_zero'], booleanScalar),
    retentionMs: !given(fields['retention_period'])
      ? undefined
      : parseField(name, 'retention_period', fields['retention_period'], retentionScalar),
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
  const entries: SaturationEntry[] = [];
  for (const name of Object.keys(data).sort()) {
    const parsed = parseEntry(name, data[name] ?? '');
    if (parsed.isDefault) {
      defaults = { ...defaults, ...parsed.thresholds };
      defaultScaleToZero = parsed.scaleToZero ?? defaultScaleToZero;
      defaultRetentionMs = parsed.retentionMs ?? defaultRetentionMs;
    } else {
      const { isDefault: _ignored, ...entry } = parsed;
      entries.push(entry);
    }
  }
  const config: SaturationConfig = { defaults, defaultScaleToZero, defaultRetentionMs, entries };
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

/** Effective thresholds: built-in <- default <- per-model <- variant overrides, field by field. */
export function resolveThresholds(
  config: SaturationConfig,
  namespace: string,
  modelID: string,
  overrides: SaturationOverrides = {},
): SaturationThresholds {
  const entry = findEntry(config, namespace, modelID);
  return { ...DEFAULT_SATURATION, ...config.defaults, ...(entry?.thresholds ?? {}), ...overrides };
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
