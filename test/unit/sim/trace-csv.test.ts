import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  lowerBound,
  parseTimestampMs,
  parseTraceCsv,
  requestsBetween,
  summarizeRequests,
} from '../../../src/sim/traffic/trace-csv.js';

const HEAD = 'TIMESTAMP,ContextTokens,GeneratedTokens';

describe('parseTraceCsv', () => {
  it('turns rows into requests relative to the first arrival, with their token counts', () => {
    const csv = `${HEAD}\n2023-11-16 18:15:46.5000000,374,44\n2023-11-16 18:15:47.2500000,396,109\n`;
    expect(parseTraceCsv(csv)).toEqual([
      { atMs: 0, promptTokens: 374, outputTokens: 44 },
      { atMs: 750, promptTokens: 396, outputTokens: 109 },
    ]);
  });

  it('accepts CRLF, a BOM, a T separator and plain seconds; sorts rows by arrival', () => {
    const csv = `\uFEFF${HEAD}\r\n2023-11-16T18:15:50Z,1,2\r\n2023-11-16 18:15:48,3,4\r\n`;
    expect(parseTraceCsv(csv).map((r) => [r.atMs, r.promptTokens])).toEqual([
      [0, 3],
      [2000, 1],
    ]);
    expect(parseTraceCsv(`${HEAD}\n10,5,6\n12.5,7,8`).map((r) => r.atMs)).toEqual([0, 2500]);
  });

  it.each([
    [
      'a wrong header',
      'time,prompt,output\n1,2,3',
      'trace line 1: expected the header "TIMESTAMP,ContextTokens,GeneratedTokens", got "time,prompt,output"',
    ],
    ['a missing field', `${HEAD}\n2023-11-16 18:15:46,374`, 'trace line 2: expected 3 comma-separated fields'],
    [
      'a bad time',
      `${HEAD}\n2023-11-16 18:15:46,1,1\nyesterday,1,1`,
      'trace line 3: TIMESTAMP "yesterday": expected a UTC date-time',
    ],
    ['an impossible date', `${HEAD}\n2023-02-30 10:00:00,1,1`, 'trace line 2: TIMESTAMP "2023-02-30 10:00:00"'],
    [
      'a fractional token count',
      `${HEAD}\n1,2.5,3`,
      'trace line 2: ContextTokens "2.5": expected a whole number of tokens >= 1',
    ],
    [
      'zero output tokens',
      `${HEAD}\n1,2,0`,
      'trace line 2: GeneratedTokens "0": expected a whole number of tokens >= 1',
    ],
    ['no rows', `${HEAD}\n\n`, 'trace: no requests after the header'],
  ])('refuses %s, naming the line and what was expected', (_, csv, message) => {
    expect(() => parseTraceCsv(csv)).toThrow(message);
  });

  it('names the source in errors', () => {
    expect(() => parseTraceCsv('x', { source: 'my.csv' })).toThrow('my.csv line 1:');
  });

  it('time-scale multiplies the clock; rate-scale repeats or thins rows evenly', () => {
    const csv = `${HEAD}\n0,1,1\n10,2,2\n20,3,3\n30,4,4`;
    expect(parseTraceCsv(csv, { timeScale: 0.5 }).map((r) => r.atMs)).toEqual([0, 5000, 10_000, 15_000]);
    const doubled = parseTraceCsv(csv, { rateScale: 2 });
    expect(doubled.map((r) => r.atMs)).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 30_000]);
    expect(doubled.map((r) => r.promptTokens)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(parseTraceCsv(csv, { rateScale: 0.5 }).map((r) => r.promptTokens)).toEqual([2, 4]);
    expect(() => parseTraceCsv(csv, { rateScale: 0 })).toThrow('rate-scale 0: expected a number > 0');
    expect(() => parseTraceCsv(csv, { timeScale: Number.NaN })).toThrow('time-scale NaN');
  });

  it('parses the Azure conversation trace copied into bench/data (19,366 requests, about an hour)', () => {
    const text = readFileSync(
      new URL('../../../bench/data/azure-llm-inference-2023-conv.csv', import.meta.url),
      'utf8',
    );
    const s = summarizeRequests(parseTraceCsv(text));
    expect(s.requests).toBe(19_366);
    expect(s.durationS).toBeGreaterThan(3400);
    expect(s.durationS).toBeLessThan(3600);
    expect(Math.round(s.meanPromptTokens)).toBe(1155);
    expect(Math.round(s.meanOutputTokens)).toBe(211);
  });
});

describe('timestamps and lookups', () => {
  it('keeps sub-millisecond fractions', () => {
    expect(parseTimestampMs('1970-01-01 00:00:01.0000005')).toBeCloseTo(1000.0005, 6);
    expect(parseTimestampMs('1970-01-01 24:00:00')).toBeUndefined();
  });

  it('finds the requests of a window by binary search', () => {
    const rs = [0, 10, 10, 20].map((atMs) => ({ atMs, promptTokens: 1, outputTokens: 1 }));
    expect(lowerBound(rs, 10)).toBe(1);
    expect(lowerBound(rs, 11)).toBe(3);
    expect(requestsBetween(rs, 5, 20)).toHaveLength(2);
    expect(summarizeRequests([]).requests).toBe(0);
  });
});
