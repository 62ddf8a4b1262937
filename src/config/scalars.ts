/**
 * The scalar parsers every user-facing key shares: process settings, trigger metadata and the
 * saturation ConfigMap all read booleans, durations and numbers through these, so a value that
 * works in one place works in every other and is refused with the same words.
 *
 * A Scalar turns raw text into a value, or undefined when the text is not one; `expected` is the
 * phrase an error message puts after "expected". Callers own the error (its prefix names where the
 * key lives); InvalidValueError is the common shape: the key, the value as given, what was expected.
 */
import { parseDuration } from './duration.js';

export interface Scalar<T> {
  /** What a valid value looks like, e.g. "a number in [0, 1]". */
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

/** `key="value"`, or `key=<missing>`, as every config error quotes what it was given. */
export function quoteKeyValue(key: string, value: unknown): string {
  return `${key}=${value === undefined ? '<missing>' : JSON.stringify(value)}`;
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

export const positiveDurationScalar: Scalar<number> = {
  expected: 'a duration above zero such as 500ms, 15s, 10m',
  parse: (raw) => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms > 0 ? ms : undefined;
  },
};

/** A finite decimal number (`0.8`, `5`, `1e3`) accepted by `accepts`. */
function decimal(expected: string, accepts: (n: number) => boolean): Scalar<number> {
  return {
    expected,
    parse: (raw) => {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) && accepts(n) ? n : undefined;
    },
  };
}

export const positiveNumberScalar = decimal('a number above zero', (n) => n > 0);
export const fractionScalar = decimal('a number in [0, 1]', (n) => n >= 0 && n <= 1);
export const nonNegativeNumberScalar = decimal('a number >= 0', (n) => n >= 0);

/** Digits only (surrounding blanks ignored): no sign, no fraction, no exponent. */
function wholeNumber(expected: string, accepts: (n: number) => boolean): Scalar<number> {
  return {
    expected,
    parse: (raw) => {
      const text = raw.trim();
      return /^\d+$/.test(text) && accepts(Number(text)) ? Number(text) : undefined;
    },
  };
}

export const nonNegativeIntScalar = wholeNumber('a whole number >= 0', () => true);
export const positiveIntScalar = wholeNumber('a whole number above zero', (n) => n > 0);
export const portScalar = wholeNumber('a TCP port 0-65535', (n) => n <= 65535);

export const nonEmptyTextScalar: Scalar<string> = {
  expected: 'a non-empty string',
  parse: (raw) => (raw.trim() === '' ? undefined : raw.trim()),
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
