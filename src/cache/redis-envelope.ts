/**
 * The JSON envelope every value has in Redis: `{"v":1,"value":...,"storedAt":<epoch ms>}`.
 * The version lets a newer scaler change a value's shape without an older replica misreading it
 * during a rolling update: an unknown version, bad JSON or a value that fails validation is a
 * miss (the caller goes to the source), never an exception.
 */

export const ENVELOPE_VERSION = 1;

export interface Envelope<T> {
  readonly v: typeof ENVELOPE_VERSION;
  readonly value: T;
  readonly storedAt: number;
}

/** Narrows an unknown JSON value to T, or returns undefined when it is not a T. */
export type ValueParser<T> = (raw: unknown) => T | undefined;

export type DecodeResult<T> =
  { readonly ok: true; readonly value: T; readonly storedAt: number } | { readonly ok: false; readonly reason: string };

export function encodeEnvelope<T>(value: T, storedAt: number): string {
  const envelope: Envelope<T> = { v: ENVELOPE_VERSION, value, storedAt };
  return JSON.stringify(envelope);
}

export function decodeEnvelope<T>(text: string, parse: ValueParser<T>): DecodeResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'not an envelope object' };
  const env = raw as Record<string, unknown>;
  if (env.v !== ENVELOPE_VERSION)
    return { ok: false, reason: `unknown envelope version ${JSON.stringify(env.v)} (expected ${ENVELOPE_VERSION})` };
  if (typeof env.storedAt !== 'number' || !Number.isFinite(env.storedAt))
    return { ok: false, reason: 'storedAt is not a number' };
  if (!('value' in env) || env.value === undefined) return { ok: false, reason: 'no value' };
  const value = parse(env.value);
  if (value === undefined) return { ok: false, reason: 'value failed validation' };
  return { ok: true, value, storedAt: env.storedAt };
}
