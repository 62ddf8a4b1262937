/**
 * Process settings: every key declared once in SETTING_SPECS (name, default, parser, help), read
 * from the environment and overridden by flags of the same name (`--WVA_GRPC_PORT=9090` or
 * `--wva-grpc-port 9090`). A bad value is a SettingsError naming the setting, the value and what is
 * expected; main.ts prints it as one line and exits.
 */
import {
  booleanScalar,
  decimalScalar,
  dnsLabelScalar,
  dnsSubdomainScalar,
  durationScalar,
  InvalidValueError,
  isEmptyValue,
  portScalar,
  quoteKeyValue,
  retentionScalar,
  textScalar,
  wholeNumberScalar,
  type Scalar,
} from './scalars.js';

export class SettingsError extends InvalidValueError {
  constructor(setting: string, value: string, expected: string) {
    super(`invalid setting ${quoteKeyValue(setting, value)}: expected ${expected}`, setting, value, expected);
    this.name = 'SettingsError';
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `user:password@` of a URL replaced by `***@`, for every place a URL is shown (logs, /debug, errors). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username === '' && u.password === '') return raw;
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  } catch {
    return raw.replace(/\/\/[^/?#]*@/, '//***@');
  }
}

const path: Scalar<string> = textScalar(4096, 'a file path');
function url(opts: { credentials: boolean }): Scalar<string> {
  const expected = opts.credentials
    ? 'an http(s):// URL of at most 2048 characters'
    : 'an http(s):// URL of at most 2048 characters, without user:password@ (not supported for scraping)';
  return {
    expected,
    parse: (r) => {
      const text = r.trim();
      if (text.length > 2048) return undefined;
      try {
        const u = new URL(text);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
        if (!opts.credentials && (u.username !== '' || u.password !== '')) return undefined;
        return text.replace(/\/+$/, '');
      } catch {
        return undefined;
      }
    },
  };
}
const scrapeUrl = url({ credentials: false });
const urlList: Scalar<readonly string[]> = {
  expected: 'a comma-separated list of at most 10000 http(s):// URLs, without user:password@',
  parse: (r) => {
    const items = r
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length > 10_000) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const u = scrapeUrl.parse(item);
      if (u === undefined) return undefined;
      out.push(u);
    }
    return out;
  },
};
const redisUrl: Scalar<string> = {
  expected: 'a redis:// or rediss:// URL of at most 2048 characters',
  parse: (r) => (r.length <= 2048 && /^rediss?:\/\/\S*$/.test(r.trim()) ? r.trim() : undefined),
};
/** A listen address: an IPv4/IPv6 literal or a host name. */
const bindAddress: Scalar<string> = {
  expected: 'an IP address or host name to listen on, such as 0.0.0.0, :: or 127.0.0.1',
  parse: (r) => {
    const t = r.trim();
    return t.length <= 253 && /^(?:[0-9a-fA-F:.]+|[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?)$/.test(t) ? t : undefined;
  },
};
function oneOf<T extends string>(...values: T[]): Scalar<T> {
  return { expected: `one of ${values.join(', ')}`, parse: (r) => values.find((v) => v === r.trim().toLowerCase()) };
}

interface Spec<T> {
  readonly parser: Scalar<T>;
  /** '' = optional: an empty value leaves the setting unset. */
  readonly default: string;
  readonly help: string;
  /** Never logged or shown (tokens, keys): shown as `set` or `unset`. */
  readonly secret?: boolean;
}

function spec<T>(parser: Scalar<T>, def: string, help: string, secret = false): Spec<T> {
  return { parser, default: def, help, secret };
}
/** A setting without a default: unset when absent or empty. */
function optional<T>(parser: Scalar<T>, help: string, secret = false): Spec<T | undefined> {
  return { parser, default: '', help, secret };
}

/** The one place every setting is declared. The README table is generated from this. */
export const SETTING_SPECS = {
  WVA_GRPC_PORT: spec(portScalar, '9090', 'gRPC port (ExternalScaler, health, reflection)'),
  WVA_HTTP_PORT: spec(portScalar, '8080', 'HTTP port (/metrics, /healthz, /readyz, /debug/*)'),
  WVA_BIND_ADDRESS: spec(bindAddress, '0.0.0.0', 'address both servers listen on'),
  WVA_ENGINE_INTERVAL: spec(durationScalar(100, HOUR), '15s', 'how often the engine re-decides every model'),
  WVA_GET_METRICS_DEADLINE: spec(
    durationScalar(100, MINUTE),
    '2s',
    'how long GetMetrics waits for a first decision before UNAVAILABLE',
  ),
  WVA_MAX_SCALE_UP_RATE: spec(
    decimalScalar(0, 100, { above: true }),
    '2',
    'at most this many times the current replicas (pending included) per cycle',
  ),
  WVA_PEAK_GUARD: spec(
    booleanScalar,
    'true',
    'no scale-up from 1-minute peaks alone once the load has fallen (needs saturation now or a load that has not fallen)',
  ),
  WVA_LOOKAHEAD: spec(
    booleanScalar,
    'true',
    "size for the load one pod start-up ahead from the trend of the model's arrivals (adds early, never removes early)",
  ),
  WVA_STARTUP_SECONDS: spec(
    wholeNumberScalar(1, 3600),
    '60',
    "a variant's pod start-up (pending -> ready) in seconds until one is learned from its replicas",
  ),
  WVA_LOOKAHEAD_MAX_FRACTION: spec(
    decimalScalar(0, 10),
    '0.5',
    'the most the look-ahead may add, as a fraction of current replicas (at least one replica)',
  ),
  WVA_TOKEN_CAPACITY: spec(
    booleanScalar,
    'true',
    'count demand and capacity in KV tokens where vllm:cache_config_info is there, with per-replica throughput learned per variant',
  ),
  WVA_MAX_GRPC_VARIANTS: spec(
    wholeNumberScalar(1, 100_000),
    '2000',
    'most variants registered through GetMetricSpec at once (beyond: UNAVAILABLE until some expire)',
  ),
  WVA_SCALE_TO_ZERO: spec(booleanScalar, 'false', 'allow models to go to zero replicas when idle'),
  WVA_SCALE_TO_ZERO_RETENTION: spec(retentionScalar, '10m', 'idle time (no requests) before scale to zero'),
  WVA_SATURATION_CONFIG_FILE: optional(path, 'WVA saturation config (ConfigMap data as YAML), watched and reloaded'),
  WVA_VARIANTS_FILE: optional(path, 'static variant list (YAML), for running without Kubernetes'),
  WVA_METRICS_BACKEND: spec(
    oneOf('auto', 'prometheus', 'scrape'),
    'auto',
    'metrics backend; auto = prometheus when PROMETHEUS_BASE_URL is set, else scrape',
  ),
  PROMETHEUS_BASE_URL: optional(
    url({ credentials: true }),
    'Prometheus URL, e.g. http://prometheus:9090 (user:password@ is shown as ***@)',
  ),
  PROMETHEUS_BEARER_TOKEN: optional(textScalar(16_384, 'a token'), 'bearer token for Prometheus (never logged)', true),
  PROMETHEUS_TOKEN_PATH: optional(path, 'file holding the bearer token (re-read on change)'),
  PROMETHEUS_CA_CERT_PATH: optional(path, 'CA bundle for Prometheus TLS'),
  PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: spec(booleanScalar, 'false', 'skip Prometheus TLS verification'),
  WVA_PROMETHEUS_QUERY_TIMEOUT: spec(durationScalar(100, 5 * MINUTE), '10s', 'timeout of one Prometheus query'),
  WVA_PROMETHEUS_RETRIES: spec(
    wholeNumberScalar(0, 10),
    '3',
    'retries of a failed Prometheus query (backoff with jitter)',
  ),
  WVA_SCRAPE_TARGETS: spec(urlList, '', 'scrape backend: vLLM /metrics URLs, comma-separated'),
  WVA_SCRAPE_TIMEOUT: spec(durationScalar(100, 5 * MINUTE), '5s', 'scrape backend: timeout per target'),
  WVA_SCRAPE_CONCURRENCY: spec(wholeNumberScalar(1, 1024), '16', 'scrape backend: targets fetched at once'),
  WVA_SCRAPE_NAMESPACE: spec(dnsLabelScalar, 'default', 'scrape backend: namespace of pods whose metrics carry none'),
  WVA_GATEWAY_SCRAPE_TARGET: optional(scrapeUrl, 'gateway (EPP) /metrics URL for the fast scale-from-zero probe'),
  WVA_DEMAND_PROBE_INTERVAL: spec(durationScalar(50, MINUTE), '250ms', 'interval of the scale-from-zero probe'),
  WVA_METRICS_CACHE_TTL: spec(durationScalar(SECOND, DAY), '30s', 'TTL of cached metrics'),
  WVA_METRICS_CACHE_MAX: spec(wholeNumberScalar(1, 1_000_000), '10000', 'max entries in the metrics cache'),
  WVA_FETCH_INTERVAL: spec(durationScalar(100, HOUR), '15s', 'background metrics fetch interval'),
  WVA_TLS_CERT_FILE: optional(path, 'gRPC server certificate (PEM); enables TLS'),
  WVA_TLS_KEY_FILE: optional(path, 'gRPC server key (PEM)'),
  WVA_TLS_CLIENT_CA_FILE: optional(path, 'CA for client certificates; enables mTLS'),
  WVA_KUBERNETES: spec(
    oneOf('auto', 'on', 'off'),
    'auto',
    'use the Kubernetes API: auto = when in-cluster or KUBECONFIG is set',
  ),
  WATCH_NAMESPACE: optional(dnsLabelScalar, 'limit watches to this namespace (unset = all)'),
  WVA_SATURATION_CONFIGMAP: spec(
    dnsSubdomainScalar,
    'wva-saturation-scaling-config',
    'name of the saturation ConfigMap',
  ),
  WVA_CONFIGMAP_NAMESPACE: optional(dnsLabelScalar, 'namespace of the saturation ConfigMap (unset: POD_NAMESPACE)'),
  WVA_SCALER_ADDRESS_MATCH: spec(
    textScalar(253),
    'wva-scaler',
    'ScaledObjects whose scalerAddress contains this are ours',
  ),
  WVA_GPU_INVENTORY: spec(
    booleanScalar,
    'true',
    'read Nodes and ResourceQuotas so no decision asks for replicas the GPUs cannot hold (needs RBAC on nodes)',
  ),
  WVA_LEADER_ELECTION: spec(booleanScalar, 'true', 'elect one leader (Lease) to write status and compute with Redis'),
  WVA_LEASE_NAME: spec(dnsSubdomainScalar, 'wva-scaler-leader', 'name of the leader Lease'),
  POD_NAME: optional(dnsSubdomainScalar, 'this pod (downward API); identity for leader election'),
  POD_NAMESPACE: optional(dnsLabelScalar, "this pod's namespace (downward API)"),
  REDIS_URL: optional(redisUrl, 'Redis for shared decisions and metrics (optional)', true),
  WVA_LOCAL_CACHE_TTL: spec(durationScalar(100, HOUR), '5s', 'local layer TTL of the multi-layer cache'),
  WVA_REDIS_TTL: spec(durationScalar(SECOND, 7 * DAY), '10m', 'Redis layer TTL of the multi-layer cache'),
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
    if (name === undefined)
      throw new SettingsError(key, arg, `a known flag (${Object.keys(SETTING_SPECS).join(', ')})`);
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

/**
 * Builds Settings from env and flags (flags win). Throws SettingsError on the first bad value.
 * An empty value (`WVA_X=`, `--WVA_X=`) is the same as no value: the default, or unset for a
 * setting without one (scalars.ts: isEmptyValue).
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Settings {
  const flags = parseFlags(argv);
  const result: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTING_SPECS) as [SettingName, Spec<unknown>][]) {
    const given = flags.get(name) ?? env[name];
    const raw = isEmptyValue(given) ? s.default : (given as string);
    if (raw === '') {
      result[name] = s.parser.parse('');
      continue;
    }
    const value = s.parser.parse(raw);
    if (value === undefined) throw new SettingsError(name, s.secret ? '<hidden>' : redactUrl(raw), s.parser.expected);
    result[name] = value;
  }
  return result as Settings;
}

/** What a setting's value looks like in logs and /debug/config: secrets as set/unset, URLs without credentials. */
function shown(value: unknown, secret: boolean | undefined): unknown {
  if (secret) return value === undefined ? 'unset' : 'set';
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' ? redactUrl(v) : v));
  return value;
}

/** Settings as they may be shown (logs, /debug/config): see `shown`. */
export function redactedSettings(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTING_SPECS) as [SettingName, Spec<unknown>][]) {
    out[name] = shown(settings[name], s.secret);
  }
  return out;
}

/** Default settings (no env, no flags): for tests and benches. */
export function defaultSettings(overrides: Partial<Record<SettingName, string>> = {}): Settings {
  return loadSettings(overrides, []);
}
