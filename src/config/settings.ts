/**
 * Process settings: every key declared once in SETTING_SPECS (name, default, parser, help), read
 * from the environment and overridden by flags of the same name (`--WVA_GRPC_PORT=9090` or
 * `--wva-grpc-port 9090`). A bad value is a SettingsError naming the setting, the value and what is
 * expected; main.ts prints it as one line and exits.
 */
import {
  booleanScalar, InvalidValueError, nonNegativeIntScalar, portScalar, positiveDurationScalar, positiveIntScalar,
  positiveNumberScalar, quoteKeyValue, type Scalar,
} from './scalars.js';

export class SettingsError extends InvalidValueError {
  constructor(setting: string, value: string, expected: string) {
    super(`invalid setting ${quoteKeyValue(setting, value)}: expected ${expected}`, setting, value, expected);
    this.name = 'SettingsError';
  }
}

const text: Scalar<string> = { expected: 'text', parse: (r) => r };
const optionalText: Scalar<string | undefined> = { expected: 'text', parse: (r) => (r === '' ? undefined : r) };
const url: Scalar<string | undefined> = {
  expected: 'an http(s):// URL',
  parse: (r) => {
    if (r === '') return undefined;
    try {
      const u = new URL(r);
      return u.protocol === 'http:' || u.protocol === 'https:' ? r.replace(/\/+$/, '') : undefined;
    } catch {
      return undefined;
    }
  },
};
const urlList: Scalar<readonly string[]> = {
  expected: 'a comma-separated list of http(s):// URLs',
  parse: (r) => {
    const items = r.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const item of items) if (url.parse(item) === undefined) return undefined;
    return items;
  },
};
const redisUrl: Scalar<string | undefined> = {
  expected: 'a redis:// or rediss:// URL',
  parse: (r) => (r === '' ? undefined : /^rediss?:\/\//.test(r) ? r : undefined),
};
function oneOf<T extends string>(...values: T[]): Scalar<T> {
  return { expected: `one of ${values.join(', ')}`, parse: (r) => values.find((v) => v === r.trim().toLowerCase()) };
}

interface Spec<T> {
  readonly parser: Scalar<T>;
  readonly default: string;
  readonly help: string;
  /** Never logged or shown (tokens, keys). */
  readonly secret?: boolean;
}

function spec<T>(parser: Scalar<T>, def: string, help: string, secret = false): Spec<T> {
  return { parser, default: def, help, secret };
}

/** The one place every setting is declared. The README table is generated from this. */
export const SETTING_SPECS = {
  WVA_GRPC_PORT: spec(portScalar, '9090', 'gRPC port (ExternalScaler, health, reflection)'),
  WVA_HTTP_PORT: spec(portScalar, '8080', 'HTTP port (/metrics, /healthz, /readyz, /debug/*)'),
  WVA_BIND_ADDRESS: spec(text, '0.0.0.0', 'address both servers listen on'),
  WVA_ENGINE_INTERVAL: spec(positiveDurationScalar, '15s', 'how often the engine re-decides every model'),
  WVA_GET_METRICS_DEADLINE: spec(positiveDurationScalar, '2s', 'how long GetMetrics waits for a first decision before UNAVAILABLE'),
  WVA_MAX_SCALE_UP_RATE: spec(positiveNumberScalar, '2', 'at most this many times the current replicas (pending included) per cycle'),
  WVA_SCALE_TO_ZERO: spec(booleanScalar, 'false', 'allow models to go to zero replicas when idle'),
  WVA_SCALE_TO_ZERO_RETENTION: spec(positiveDurationScalar, '10m', 'idle time (no requests) before scale to zero'),
  WVA_SATURATION_CONFIG_FILE: spec(optionalText, '', 'WVA saturation config (ConfigMap data as YAML), watched and reloaded'),
  WVA_VARIANTS_FILE: spec(optionalText, '', 'static variant list (YAML), for running without Kubernetes'),
  WVA_METRICS_BACKEND: spec(oneOf('auto', 'prometheus', 'scrape'), 'auto', 'metrics backend; auto = prometheus when PROMETHEUS_BASE_URL is set, else scrape'),
  PROMETHEUS_BASE_URL: spec(url, '', 'Prometheus URL, e.g. http://prometheus:9090'),
  PROMETHEUS_BEARER_TOKEN: spec(optionalText, '', 'bearer token for Prometheus (never logged)', true),
  PROMETHEUS_TOKEN_PATH: spec(optionalText, '', 'file holding the bearer token (re-read on change)'),
  PROMETHEUS_CA_CERT_PATH: spec(optionalText, '', 'CA bundle for Prometheus TLS'),
  PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: spec(booleanScalar, 'false', 'skip Prometheus TLS verification'),
  WVA_PROMETHEUS_QUERY_TIMEOUT: spec(positiveDurationScalar, '10s', 'timeout of one Prometheus query'),
  WVA_PROMETHEUS_RETRIES: spec(nonNegativeIntScalar, '3', 'retries of a failed Prometheus query (backoff with jitter)'),
  WVA_SCRAPE_TARGETS: spec(urlList, '', 'scrape backend: vLLM /metrics URLs, comma-separated'),
  WVA_SCRAPE_TIMEOUT: spec(positiveDurationScalar, '5s', 'scrape backend: timeout per target'),
  WVA_SCRAPE_CONCURRENCY: spec(positiveIntScalar, '16', 'scrape backend: targets fetched at once'),
  WVA_SCRAPE_NAMESPACE: spec(text, 'default', 'scrape backend: namespace of pods whose metrics carry none'),
  WVA_GATEWAY_SCRAPE_TARGET: spec(url, '', 'gateway (EPP) /metrics URL for the fast scale-from-zero probe'),
  WVA_DEMAND_PROBE_INTERVAL: spec(positiveDurationScalar, '250ms', 'interval of the scale-from-zero probe'),
  WVA_METRICS_CACHE_TTL: spec(positiveDurationScalar, '30s', 'TTL of cached metrics'),
  WVA_METRICS_CACHE_MAX: spec(positiveIntScalar, '10000', 'max entries in the metrics cache'),
  WVA_FETCH_INTERVAL: spec(positiveDurationScalar, '15s', 'background metrics fetch interval'),
  WVA_TLS_CERT_FILE: spec(optionalText, '', 'gRPC server certificate (PEM); enables TLS'),
  WVA_TLS_KEY_FILE: spec(optionalText, '', 'gRPC server key (PEM)'),
  WVA_TLS_CLIENT_CA_FILE: spec(optionalText, '', 'CA for client certificates; enables mTLS'),
  WVA_KUBERNETES: spec(oneOf('auto', 'on', 'off'), 'auto', 'use the Kubernetes API: auto = when in-cluster or KUBECONFIG is set'),
  WATCH_NAMESPACE: spec(optionalText, '', 'limit watches to this namespace (empty = all)'),
  WVA_SATURATION_CONFIGMAP: spec(text, 'wva-saturation-scaling-config', 'name of the saturation ConfigMap'),
  WVA_CONFIGMAP_NAMESPACE: spec(optionalText, '', 'namespace of the saturation ConfigMap (default: POD_NAMESPACE)'),
  WVA_SCALER_ADDRESS_MATCH: spec(text, 'wva-scaler', 'ScaledObjects whose scalerAddress contains this are ours'),
  WVA_LEADER_ELECTION: spec(booleanScalar, 'true', 'elect one leader (Lease) to write status and compute with Redis'),
  WVA_LEASE_NAME: spec(text, 'wva-scaler-leader', 'name of the leader Lease'),
  POD_NAME: spec(optionalText, '', 'this pod (downward API); identity for leader election'),
  POD_NAMESPACE: spec(optionalText, '', 'this pod\'s namespace (downward API)'),
  REDIS_URL: spec(redisUrl, '', 'Redis for shared decisions and metrics (optional)', true),
  WVA_LOCAL_CACHE_TTL: spec(positiveDurationScalar, '5s', 'local layer TTL of the multi-layer cache'),
  WVA_REDIS_TTL: spec(positiveDurationScalar, '10m', 'Redis layer TTL of the multi-layer cache'),
  LOG_LEVEL: spec(oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), 'info', 'log level'),
  LOG_FORMAT: spec(oneOf('auto', 'json', 'pretty'), 'auto', 'json, pretty, or auto (pretty on a terminal at debug)'),
} as const;

type Specs = typeof SETTING_SPECS;
export type SettingName = keyof Specs;
export type Settings = { readonly [K in SettingName]: Specs[K] extends Spec<infer T> ? T : never };

function flagName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/** Reads `--NAME=value`, `--NAME value`, `--name-in-kebab=value`, `--name-in-kebab value`. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const byFlag = new Map<string, SettingName>();
  for (const name of Object.keys(SETTING_SPECS) as SettingName[]) {
    byFlag.set(name, name);
    byFlag.set(flagName(name), name);
  }
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const name = byFlag.get(key);
    if (name === undefined) throw new SettingsError(key, arg, `a known flag (${Object.keys(SETTING_SPECS).join(', ')})`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
      if (value === undefined) throw new SettingsError(name, '', 'a value after the flag');
    }
    out.set(name, value);
  }
  return out;
}

/** Builds Settings from env and flags (flags win). Throws SettingsError on the first bad value. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Settings {
  const flags = parseFlags(argv);
  const result: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTING_SPECS) as [SettingName, Spec<unknown>][]) {
    const raw = flags.get(name) ?? env[name] ?? s.default;
    const value = s.parser.parse(raw);
    if (value === undefined && raw !== '' && s.parser !== (optionalText as Scalar<unknown>)) {
      throw new SettingsError(name, s.secret ? '<redacted>' : raw, s.parser.expected);
    }
    result[name] = value;
  }
  return result as Settings;
}

/** Settings with secrets redacted, for logs and /debug. */
export function redactedSettings(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTING_SPECS) as [SettingName, Spec<unknown>][]) {
    out[name] = s.secret && settings[name] !== undefined ? '<redacted>' : settings[name];
  }
  return out;
}

/** Default settings (no env, no flags): for tests and benches. */
export function defaultSettings(overrides: Partial<Record<SettingName, string>> = {}): Settings {
  return loadSettings(overrides as NodeJS.ProcessEnv, []);
}
