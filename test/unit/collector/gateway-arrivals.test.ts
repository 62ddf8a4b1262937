import { describe, expect, it } from 'vitest';
import { counterRate, GatewayArrivalRates } from '../../../src/collector/gateway-arrivals.js';
import type { TextSample } from '../../../src/collector/text-format.js';

const CURRENT = 'inference_objective_request_total';
const BEFORE_RENAME = 'inference_model_request_total';

const sample = (
  name: string,
  target: string,
  value: number | undefined,
  extra: Record<string, string> = {},
): TextSample => ({
  name,
  labels: { model_name: target, target_model_name: target, ...extra },
  value,
});
const MODELS = [
  { namespace: 'prod', modelID: 'm' },
  { namespace: 'prod', modelID: 'n' },
];

describe('counterRate: the increase per second between two readings, as irate()', () => {
  it.each([
    { case: 'growth', prev: { t: 0, value: 100 }, cur: { t: 15_000, value: 130 }, want: 2 },
    { case: 'no growth is a measured 0', prev: { t: 0, value: 100 }, cur: { t: 15_000, value: 100 }, want: 0 },
    {
      case: 'a reset: the new value is the increase',
      prev: { t: 0, value: 100 },
      cur: { t: 10_000, value: 5 },
      want: 0.5,
    },
    { case: 'a NaN reading before', prev: { t: 0, value: undefined }, cur: { t: 10_000, value: 5 }, want: undefined },
    { case: 'a NaN reading now', prev: { t: 0, value: 1 }, cur: { t: 10_000, value: undefined }, want: undefined },
    { case: 'no time between them', prev: { t: 5, value: 1 }, cur: { t: 5, value: 3 }, want: undefined },
  ])('$case', ({ prev, cur, want }) => {
    expect(counterRate(prev, cur)).toBe(want);
  });
});

describe('GatewayArrivalRates: per model over the last two gateway scrapes', () => {
  it('has no rate after one scrape (missing, never 0), then the rate over the last two, through a reset', () => {
    const rates = new GatewayArrivalRates();
    const scrapes: { t: number; m: number; n: number; want: Record<string, number | undefined> }[] = [
      { t: 0, m: 100, n: 7, want: { 'prod/m': undefined, 'prod/n': undefined } },
      { t: 15_000, m: 145, n: 7, want: { 'prod/m': 3, 'prod/n': 0 } },
      { t: 30_000, m: 175, n: 7, want: { 'prod/m': 2, 'prod/n': 0 } }, // the last two only, not since the first
      { t: 45_000, m: 30, n: 7, want: { 'prod/m': 2, 'prod/n': 0 } }, // m's gateway restarted: 30 new requests
    ];
    for (const s of scrapes) {
      const got = rates.update(s.t, [sample(CURRENT, 'm', s.m), sample(CURRENT, 'n', s.n)], MODELS);
      for (const [mk, want] of Object.entries(s.want)) expect(got.get(mk), `${mk} at ${s.t}`).toBe(want);
    }
  });

  it('rates each series on its own and sums them per model (a reset of one does not hide the other)', () => {
    const rates = new GatewayArrivalRates();
    rates.update(0, [sample(CURRENT, 'm', 100, { model_name: 'alias' }), sample(CURRENT, 'm', 50)], MODELS);
    // The alias series resets to 10; the other grows by 20: 10 + 20 over 10 s.
    const got = rates.update(
      10_000,
      [sample(CURRENT, 'm', 10, { model_name: 'alias' }), sample(CURRENT, 'm', 70)],
      MODELS,
    );
    expect(got.get('prod/m')).toBe(3);
  });

  it('honours a namespace label when present, like the gateway queue', () => {
    const rates = new GatewayArrivalRates();
    const at = (k: number) => [
      sample(CURRENT, 'm', 10 * k, { namespace: 'prod' }),
      sample(CURRENT, 'm', 100 * k, { namespace: 'dev' }),
      sample(CURRENT, 'n', k),
    ];
    rates.update(0, at(1), MODELS);
    const got = rates.update(1_000, at(2), MODELS);
    expect(got.get('prod/m')).toBe(10);
    expect(got.get('prod/n')).toBe(1);
  });

  it('reads the name before the rename where it is the only one, and only the current name when both are exported', () => {
    const rates = new GatewayArrivalRates();
    rates.update(0, [sample(BEFORE_RENAME, 'm', 0)], MODELS);
    expect(rates.update(1_000, [sample(BEFORE_RENAME, 'm', 4)], MODELS).get('prod/m')).toBe(4);
    const both = new GatewayArrivalRates();
    both.update(0, [sample(CURRENT, 'm', 0), sample(BEFORE_RENAME, 'm', 0)], MODELS);
    expect(both.update(1_000, [sample(CURRENT, 'm', 2), sample(BEFORE_RENAME, 'm', 2)], MODELS).get('prod/m')).toBe(2);
  });

  it('makes a model missing when a series reads NaN, and leaves out a series seen for the first time', () => {
    const rates = new GatewayArrivalRates();
    rates.update(0, [sample(CURRENT, 'm', 10), sample(CURRENT, 'n', 10)], MODELS);
    const got = rates.update(
      1_000,
      [sample(CURRENT, 'm', undefined), sample(CURRENT, 'n', 12), sample(CURRENT, 'n', 500, { model_name: 'new' })],
      MODELS,
    );
    expect(got.get('prod/m')).toBeUndefined();
    expect(got.has('prod/m')).toBe(true);
    expect(got.get('prod/n')).toBe(2); // the new series has one reading: no rate yet, as irate()
  });
});
