import { describe, expect, it } from 'vitest';
import { ScrapeHistory, type PodObservation } from '../../../src/collector/scrape-history.js';

type Obs = PodObservation & { namespace: string; modelID: string };
const obs = (o: Partial<PodObservation>, modelID = 'm'): Obs => ({
  namespace: 'ns',
  modelID,
  kv: undefined,
  waiting: undefined,
  running: undefined,
  successTotal: undefined,
  inferenceSum: undefined,
  inferenceCount: undefined,
  ...o,
});
const one = (key: string, o: Obs): Map<string, Obs> => new Map([[key, o]]);

describe('ScrapeHistory', () => {
  it('gives the peak over the last minute for KV and waiting, like max_over_time[1m]', () => {
    const h = new ScrapeHistory();
    h.record(0, one('p', obs({ kv: 0.9, waiting: 7 })), 600_000);
    h.record(30_000, one('p', obs({ kv: 0.2, waiting: 1 })), 600_000);
    expect(h.windowValues('p', 30_000)).toMatchObject({ kvPeak: 0.9, waitingPeak: 7 });
    h.record(61_000, one('p', obs({ kv: 0.3, waiting: 2 })), 600_000);
    expect(h.windowValues('p', 61_000)).toMatchObject({ kvPeak: 0.3, waitingPeak: 2 });
  });

  it('computes the request rate from counter deltas and survives a counter reset', () => {
    const h = new ScrapeHistory();
    h.record(0, one('p', obs({ successTotal: 100 })), 600_000);
    expect(h.windowValues('p', 0).requestRate).toBeUndefined(); // one sample is no rate
    h.record(10_000, one('p', obs({ successTotal: 150 })), 600_000);
    expect(h.windowValues('p', 10_000).requestRate).toBeCloseTo(5);
    h.record(20_000, one('p', obs({ successTotal: 30 })), 600_000); // restart: +30
    expect(h.windowValues('p', 20_000).requestRate).toBeCloseTo(80 / 20);
  });

  it('gives the mean service time of the requests finished in the window (sum delta / count delta), across a reset', () => {
    const h = new ScrapeHistory();
    h.record(0, one('p', obs({ inferenceSum: 100, inferenceCount: 50 })), 600_000);
    expect(h.windowValues('p', 0).serviceSeconds).toBeUndefined(); // one sample: nothing finished in view
    h.record(10_000, one('p', obs({ inferenceSum: 130, inferenceCount: 60 })), 600_000);
    expect(h.windowValues('p', 10_000).serviceSeconds).toBeCloseTo(3); // 30 s over 10 requests
    h.record(20_000, one('p', obs({ inferenceSum: 130, inferenceCount: 60 })), 600_000);
    expect(h.windowValues('p', 20_000).serviceSeconds).toBeCloseTo(3); // still the same 10 in the window
    h.record(30_000, one('p', obs({ inferenceSum: 10, inferenceCount: 10 })), 600_000); // restart: +10 s, +10
    expect(h.windowValues('p', 30_000).serviceSeconds).toBeCloseTo(40 / 20);
    // Nothing finished over the last minute: no mean (0 / 0), not 0.
    h.record(100_000, one('p', obs({ inferenceSum: 10, inferenceCount: 10 })), 600_000);
    expect(h.windowValues('p', 100_000).serviceSeconds).toBeUndefined();
  });

  it('does not conclude idle before its history covers the retention window', () => {
    const h = new ScrapeHistory();
    for (let t = 0; t <= 50_000; t += 10_000) h.record(t, one('p', obs({ successTotal: 5 })), 60_000);
    expect(h.requestsOverWindow('ns', 'm', 60_000, 50_000)).toBeUndefined();
    h.record(60_000, one('p', obs({ successTotal: 5 })), 60_000);
    expect(h.requestsOverWindow('ns', 'm', 60_000, 60_000)).toBe(0);
    h.record(70_000, one('p', obs({ successTotal: 9 })), 60_000);
    expect(h.requestsOverWindow('ns', 'm', 60_000, 70_000)).toBe(4);
  });

  it('counts a pod that appeared after we started watching from zero, and keeps gone pods within the window', () => {
    const h = new ScrapeHistory();
    h.record(0, one('old', obs({ successTotal: 1000 })), 60_000);
    h.record(
      30_000,
      new Map([
        ['old', obs({ successTotal: 1000 })],
        ['new', obs({ successTotal: 3 })],
      ]),
      60_000,
    );
    h.record(60_000, one('old', obs({ successTotal: 1000 })), 60_000); // 'new' went away
    expect(h.requestsOverWindow('ns', 'm', 60_000, 60_000)).toBe(3);
    expect(h.requestsOverWindow('ns', 'other', 60_000, 60_000)).toBeUndefined();
  });

  it('thins old samples without losing counter increments and forgets pods past every window', () => {
    const h = new ScrapeHistory({ thinSpacingMs: 10_000 });
    let total = 0;
    for (let t = 0; t <= 300_000; t += 1000) {
      total += 1;
      h.record(t, one('p', obs({ successTotal: total })), 240_000);
    }
    // Exact would be 240; thinning may move the baseline back by at most one bucket (10 s = 10
    // requests here): an over-count, which only delays scale to zero.
    const n = h.requestsOverWindow('ns', 'm', 240_000, 300_000) ?? -1;
    expect(n).toBeGreaterThanOrEqual(240);
    expect(n).toBeLessThanOrEqual(250);
    h.record(600_000, new Map(), 240_000);
    expect(h.podCount).toBe(0);
  });
});
