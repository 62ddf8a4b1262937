/**
 * The scalar parsers every user-facing key shares: process settings, trigger metadata and the
 * saturation ConfigMap all read booleans, durations and numbers through these, so a value that
 * works in one place works in every other and is refused with the same words.
 *
 * A Scalar turns raw text into a value, or undefined when the text is not one; `expected` is the
 * phrase an error message puts after "expected", and it names the range. Callers own the error (its
 * prefix names where the key lives); InvalidValueError is the common shape: the key, the value as
 * given, what was expected.
 *
 * The rules every loader applies the same way:
 *  - An empty value (blank or whitespace only) means "not given": the default applies (a required
 *    key is then missing). Helm renders unset values as "", so "" must never mean anything else.
 *  - Every number and duration has a minimum and a maximum, stated in `expected`; durations are
 *    at most TIMER_MAX_MS, the longest delay a Node timer can hold.
 *  - Error texts quote at most QUOTE_MAX characters of a key or value (quoteKeyValue).
 */
import { formatDuration, parseDuration } from './duration.js';

export interface Scalar<T> {
  /** What a valid value looks like, with its range, e.g. "a number from 0 to 1". */
  readonly expected: string;
  parse(raw: string): T | undefined;
}

/** A key whose value did not parse: the parts every config error message names. */
export class InvalidValueError extends Error {
  constructor(
    message: string,
    readonly key: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(message);
  }
}

/** The one rule for empty values: blank text is "not given" (see the file comment). */
export function isEmptyValue(raw: string | undefined): boolean {
  return raw === undefined || raw.trim() === '';
}

/** Longest prefix of a key or value an error message quotes. */
export const QUOTE_MAX = 64;

/** `"value"` as JSON, cut to QUOTE_MAX characters with the full length said: `"aaaa…" (100000 chars)`. */
export function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (text.length <= QUOTE_MAX) return typeof value === 'string' ? JSON.stringify(value) : text;
  return `${JSON.stringify(text.slice(0, QUOTE_MAX))}… (${text.length} chars)`;
}

/** `key="value"`, or `key=<missing>`, as every config error quotes what it was given (both cut short). */
export function quoteKeyValue(key: string, value: unknown): string {
  const k = key.length <= QUOTE_MAX ? key : `${key.slice(0, QUOTE_MAX)}… (${key.length} chars)`;
  return `${k}=${value === undefined ? '<missing>' : quoteValue(value)}`;
}

// Kubernetes, KEDA and Helm users write all of these; YAML 1.1 habits (yes/on) included.
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

export const booleanScalar: Scalar<boolean> = {
  expected: 'true or false (also yes/no, on/off, 1/0)',
  parse: (raw) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return undefined;
  },
};

/** The longest delay setTimeout holds (2^31-1 ms, about 24.8 days); beyond it Node fires after 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** A Go-style duration in [minMs, maxMs] (maxMs <= TIMER_MAX_MS). */
export function durationScalar(minMs: number, maxMs: number): Scalar<number> {
  if (!(minMs > 0 && maxMs >= minMs && maxMs <= TIMER_MAX_MS)) throw new Error(`bad duration range ${minMs}..${maxMs}`);
  return {
    expected: `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, such as 500ms, 15s, 10m`,
    parse: (raw) => {
      const ms = parseDuration(raw);
      return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : undefined;
    },
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Scale-to-zero retention, wherever it is given (setting, trigger metadata, ConfigMap). */
export const retentionScalar = durationScalar(1000, 7 * DAY);

// Plain decimal notation only: no hex (0x10), binary, Infinity, or blanks inside.
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite decimal number (`0.8`, `5`, `1e3`) in a range; `above` makes the minimum exclusive. */
export function decimalScalar(min: number, max: number, opts: { above?: boolean } = {}): Scalar<number> {
  return {
    expected: opts.above ? `a number above ${min} and at most ${max}` : `a number in [${min}, ${max}]`,
    parse: (raw) => {
      const text = raw.trim();
      if (!DECIMAL_RE.test(text)) return undefined;
      const n = Number(text);
      return Number.isFinite(n) && (opts.above ? n > min : n >= min) && n <= max ? n : undefined;
    },
  };
}

/** Digits only (surrounding blanks ignored): no sign, no fraction, no exponent; in [min, max]. */
export function wholeNumberScalar(
  min: number,
  max: number,
  expected = `a whole number from ${min} to ${max}`,
): Scalar<number> {
  return {
    expected,
    parse: (raw) => {
      const text = raw.trim();
      if (!/^\d{1,16}$/.test(text)) return undefined;
      const n = Number(text);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

export const fractionScalar = decimalScalar(0, 1);
/** Queue lengths (requests): far above anything a replica holds. */
export const queueScalar = decimalScalar(0, 1_000_000);
export const portScalar = wholeNumberScalar(0, 65535, 'a TCP port from 0 to 65535 (0 = any free port)');
/** Replica counts: KEDA's and the HPA's are int32; no deployment gets near this. */
export const MAX_REPLICAS_BOUND = 10_000;
export const replicasScalar = wholeNumberScalar(0, MAX_REPLICAS_BOUND);

/** Free text of at most `maxLength` characters (trimmed; never empty once the empty rule applied). */
export function textScalar(maxLength: number, what = 'text'): Scalar<string> {
  return {
    expected: `${what} of 1 to ${maxLength} characters`,
    parse: (raw) => {
      const t = raw.trim();
      return t !== '' && t.length <= maxLength ? t : undefined;
    },
  };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes namespace (and most object names): a DNS-1123 label, at most 63 characters. */
export const dnsLabelScalar: Scalar<string> = {
  expected:
    'a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
  parse: (raw) => {
    const t = raw.trim();
    return t.length <= 63 && DNS1123_LABEL.test(t) ? t : undefined;
  },
};
/** A Kubernetes object name (Deployment, ScaledObject, Lease): a DNS-1123 subdomain, at most 253 characters. */
export const dnsSubdomainScalar: Scalar<string> = {
  expected:
    'a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit',
  parse: (raw) => {
    const t = raw.trim();
    return t.length <= 253 && t.split('.').every((part) => DNS1123_LABEL.test(part)) ? t : undefined;
  },
};

/**
 * A YAML scalar as the text a user would have typed, so YAML values go through the same parsers
 * as environment variables and trigger metadata (`0.8` and `"0.8"`, `true` and `"true"` alike).
 * Undefined for a map, a list or null: no scalar parser accepts those.
 */
export function yamlScalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
