/**
 * Request traces in the Azure LLM inference trace's CSV format (`TIMESTAMP,ContextTokens,GeneratedTokens`:
 * arrival time, prompt tokens, output tokens; Azure/AzurePublicDataset, see bench/data/README.md) turned
 * into the fleet's `TokenRequest`s, for the quality bench and the demo. Pure: text in, requests out; the
 * callers read the file.
 *
 * Two knobs, applied in this order:
 *  - `timeScale` multiplies the trace's clock: 0.5 replays it twice as fast (every gap halved, so the rate
 *    doubles and the duration halves), 2 twice as slow.
 *  - `rateScale` multiplies the number of requests on the same clock: 2 sends each row twice (the copy
 *    half-way to the next arrival), 0.5 every second row. It is deterministic (no seed): row i is sent
 *    floor((i + 1) × rateScale) − floor(i × rateScale) times, so the kept rows are spread evenly and the
 *    token mix is kept.
 */
import type { TokenRequest } from '../fleet/index.js';

export type { TokenRequest };

export const TRACE_CSV_HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

export interface TraceCsvOptions {
  /** Simulated ms per trace ms (default 1). */
  readonly timeScale?: number;
  /** Requests sent per trace row, on average (default 1). */
  readonly rateScale?: number;
  /** Named in error messages (a file name). */
  readonly source?: string;
}

export interface TraceSummary {
  readonly requests: number;
  /** From the first to the last arrival, after scaling (s). */
  readonly durationS: number;
  readonly meanPromptTokens: number;
  readonly meanOutputTokens: number;
  /** Requests per second over the duration (0 for fewer than two requests). */
  readonly meanRps: number;
}

/** `2023-11-16 18:15:46.6805900` (a space or `T`, fraction optional, any number of digits, UTC). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

/** Milliseconds since the epoch (fractional), or undefined when `s` is not a timestamp. */
export function parseTimestampMs(s: string): number | undefined {
  const m = DATE_TIME.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, sec, frac] = m;
    const whole = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
    // Date.UTC rolls 2023-02-30 over to March: a calendar error must not pass as a time.
    const back = new Date(whole);
    if (back.getUTCDate() !== Number(d) || back.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23) return undefined;
    return whole + (frac ? Number(`0.${frac}`) * 1000 : 0);
  }
  // A plain number of seconds (e.g. seconds since the start of the trace).
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s) * 1000;
  return undefined;
}

function positiveOption(value: number | undefined, name: string): number {
  const v = value ?? 1;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} ${String(value)}: expected a number > 0`);
  return v;
}

/**
 * Parses a trace. Rows may come in any order (they are sorted by arrival, stably); the first arrival
 * is t = 0. Throws on the first bad line, naming it and what was expected.
 */
export function parseTraceCsv(text: string, opts: TraceCsvOptions = {}): TokenRequest[] {
  const source = opts.source ?? 'trace';
  const timeScale = positiveOption(opts.timeScale, 'time-scale');
  const rateScale = positiveOption(opts.rateScale, 'rate-scale');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  if (header !== TRACE_CSV_HEADER) {
    throw new Error(`${source} line 1: expected the header "${TRACE_CSV_HEADER}", got "${header.slice(0, 80)}"`);
  }
  const rows: { atMs: number; promptTokens: number; outputTokens: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    const where = `${source} line ${i + 1}`;
    const fields = line.split(',');
    if (fields.length !== 3) {
      throw new Error(
        `${where}: expected 3 comma-separated fields (${TRACE_CSV_HEADER}), got ${fields.length}: "${line}"`,
      );
    }
    const [ts, prompt, output] = fields.map((f) => f.trim()) as [string, string, string];
    const atMs = parseTimestampMs(ts);
    if (atMs === undefined) {
      throw new Error(
        `${where}: TIMESTAMP "${ts}": expected a UTC date-time like 2023-11-16 18:15:46.6805900 or a number of seconds`,
      );
    }
    rows.push({
      atMs,
      promptTokens: tokenCount(prompt, `${where}: ContextTokens`),
      outputTokens: tokenCount(output, `${where}: GeneratedTokens`),
    });
  }
  if (rows.length === 0) throw new Error(`${source}: no requests after the header`);
  rows.sort((a, b) => a.atMs - b.atMs);
  const t0 = rows[0]?.atMs ?? 0;
  const out: TokenRequest[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!row) continue;
    const copies = Math.floor((i + 1) * rateScale + 1e-9) - Math.floor(i * rateScale + 1e-9);
    if (copies <= 0) continue;
    const at = (row.atMs - t0) * timeScale;
    const next = rows[i + 1];
    const gap = next ? (next.atMs - row.atMs) * timeScale : 0;
    for (let k = 0; k < copies; k++) {
      out.push({ atMs: at + (gap * k) / copies, promptTokens: row.promptTokens, outputTokens: row.outputTokens });
    }
  }
  return out;
}

function tokenCount(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${what} "${s}": expected a whole number of tokens >= 1`);
  }
  return n;
}

/** What a replay contains, for the bench's and the demo's reports. */
export function summarizeRequests(requests: readonly TokenRequest[]): TraceSummary {
  const n = requests.length;
  if (n === 0) return { requests: 0, durationS: 0, meanPromptTokens: 0, meanOutputTokens: 0, meanRps: 0 };
  let prompt = 0;
  let output = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const r of requests) {
    prompt += r.promptTokens;
    output += r.outputTokens;
    first = Math.min(first, r.atMs);
    last = Math.max(last, r.atMs);
  }
  const durationS = (last - first) / 1000;
  return {
    requests: n,
    durationS,
    meanPromptTokens: prompt / n,
    meanOutputTokens: output / n,
    meanRps: durationS > 0 ? n / durationS : 0,
  };
}

/** One line for reports: "19,366 requests over 3,501 s (5.5 req/s), mean 1,155 prompt / 211 output tokens". */
export function describeSummary(s: TraceSummary): string {
  const f = (x: number): string => Math.round(x).toLocaleString('en-US');
  const tokens = `mean ${f(s.meanPromptTokens)} prompt / ${f(s.meanOutputTokens)} output tokens`;
  return `${f(s.requests)} requests over ${f(s.durationS)} s (${s.meanRps.toFixed(1)} req/s), ${tokens}`;
}

/** The requests arriving in [fromMs, toMs), as a slice of a list sorted by `atMs`. */
export function requestsBetween(requests: readonly TokenRequest[], fromMs: number, toMs: number): TokenRequest[] {
  return requests.slice(lowerBound(requests, fromMs), lowerBound(requests, toMs));
}

/** Index of the first request arriving at or after `ms` in a list sorted by `atMs`. */
export function lowerBound(requests: readonly TokenRequest[], ms: number): number {
  let lo = 0;
  let hi = requests.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((requests[mid]?.atMs ?? Infinity) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
