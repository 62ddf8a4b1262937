import { describe, expect, it } from 'vitest';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import {
  EMPTY_SATURATION_CONFIG,
  parseSaturationConfig,
  resolveThresholds,
  SaturationConfigError,
} from '../../../src/config/saturation-config.js';
import { replicasNeeded } from '../../../src/engine/capacity-targets.js';
import type { NoteCode } from '../../../src/engine/notes.js';
import { EMPTY_MODEL_STATE } from '../../../src/engine/model-state.js';
import type { ServiceModelState } from '../../../src/engine/slo/service-model.js';
import {
  NOW,
  confidentServiceModel,
  decide,
  desiredByName,
  metrics,
  prev,
  replica,
  replicas,
  state,
  variant,
  type Scenario,
} from './fixtures.js';

const cheap = variant('cheap', { cost: 5, maxReplicas: 2 });
const pricey = variant('pricey', { cost: 10 });
const a = variant('a');
const b = variant('b');

/**
 * One ready replica of `a` (7/s) and one pending, first seen `seenMsAgo` ago, with `samplesS`
 * learned start-ups; 420 requests held at the gateway, 13/s arriving.
 */
const onePendingSeen = (seenMsAgo: number, samplesS: readonly number[], previous?: Scenario['previous']): Scenario => ({
  states: [state(a, 2, 1)],
  metrics: metrics(replicas(a, 1, 0.8, 0, 16, 8), { gatewayQueue: 420, gatewayArrivalRate: 13 }),
  previous,
  state: {
    ...EMPTY_MODEL_STATE,
    startup: new Map([[a.key, { current: 2, ready: 1, pendingSince: [NOW - seenMsAgo], samplesS }]]),
  },
});

/** As onePendingSeen with two pending replicas (both first seen `seenMsAgo` ago) and 700 held at the gateway. */
const twoPendingSeen = (seenMsAgo: number): Scenario => ({
  states: [state(a, 3, 1)],
  metrics: metrics(replicas(a, 1, 0.8, 0, 16, 8), { gatewayQueue: 700, gatewayArrivalRate: 13 }),
  state: {
    ...EMPTY_MODEL_STATE,
    startup: new Map([
      [a.key, { current: 3, ready: 1, pendingSince: [NOW - seenMsAgo, NOW - seenMsAgo], samplesS: [45] }],
    ]),
  },
});

/**
 * Four replicas of `a` at KV 0.1, each completing 10/s of 2,000 prompt / 400 output tokens, 40/s
 * arriving; 18/s per replica learned, and `service` as `a`'s service model.
 */
const heavierMix = (service: ServiceModelState): Scenario => ({
  states: [state(a, 4)],
  metrics: metrics(
    [0, 1, 2, 3].map((i) => ({
      ...replica(a, i, 0.1, 0, 60, 10),
      promptTokensPerRequest: 2000,
      outputTokensPerRequest: 400,
    })),
    { gatewayArrivalRate: 40 },
  ),
  state: { ...EMPTY_MODEL_STATE, throughput: new Map([[a.key, 18]]), service: new Map([[a.key, service]]) },
});

/** Four idle-looking replicas of `a` (KV 0.1) sharing `arriving` req/s, 10/s per replica learned. */
const learnedAt10 = (arriving: number): Scenario => ({
  states: [state(a, 4)],
  metrics: metrics(replicas(a, 4, 0.1, 0, 20, arriving / 4), { gatewayArrivalRate: arriving }),
  state: { ...EMPTY_MODEL_STATE, throughput: new Map([[a.key, 10]]) },
});

interface Row {
  readonly name: string;
  readonly scenario: Scenario;
  readonly want: Record<string, number>;
  /** A note the decision must carry (its reason, or a variant's). */
  readonly code?: NoteCode;
  /** Part of that note's text, where the figures in it are what the case checks. */
  readonly text?: string;
  readonly clamp?: string;
}

function check(row: Row): void {
  const out = decide(row.scenario);
  expect(out.targets.unavailableReason).toBeUndefined();
  expect(desiredByName(out)).toEqual(row.want);
  const reasons = out.targets.notes.filter((n) => n.kind === 'reason');
  const notes = reasons.map((n) => `${n.code}: ${n.text}`).join(' | ');
  if (row.code)
    expect(
      reasons.map((n) => n.code),
      notes,
    ).toContain(row.code);
  if (row.text)
    expect(
      reasons.some((n) => n.code === row.code && n.text.includes(row.text as string)),
      notes,
    ).toBe(true);
  if (row.clamp)
    expect(
      out.decisions.some((d) => d.clamp?.includes(row.clamp as string)),
      `clamps: ${out.decisions.map((d) => d.clamp).join(' | ')}`,
    ).toBe(true);
}

describe('step 3: how many, and to which variant', () => {
  it.each<Row>([
    {
      // KV 1.8 / 0.7 -> 3, queue 12 / 2 -> 6: needs +4, the rate allows 2 x 2 = 4 in total.
      name: 'all replicas saturated: proportional, capped by maxScaleUpRate',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.9, 6)) },
      want: { a: 4 },
      code: 'scale-up',
      text: 'scale up by 2: needed 6 replicas',
      clamp: 'capped to +2 (maxScaleUpRate 2 x 2 current)',
    },
    {
      name: 'small deficit: at least +1',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.75, 0)) },
      want: { a: 3 },
      code: 'kv-spare-low',
      text: 'KV spare low (0.05 < 0.10)',
    },
    {
      name: 'cheapest variant at max: the next cheapest grows',
      scenario: { states: [state(cheap, 2), state(pricey, 0)], metrics: metrics(replicas(cheap, 2, 0.78, 0)) },
      want: { cheap: 2, pricey: 1 },
      code: 'variant-grows',
      text: '+1 (cheapest below max, cost 10)',
    },
    {
      // queue 20 / 2 -> 10 needed from 2: rate 4 allows +6; cheap (max 3) takes 2, pricey the rest.
      name: 'new replicas go one by one to the cheapest below its max',
      scenario: {
        states: [state(variant('cheap', { cost: 5, maxReplicas: 3 }), 1), state(pricey, 1)],
        metrics: metrics([replica(variant('cheap'), 0, 0.9, 10), replica(pricey, 0, 0.9, 10)]),
        maxScaleUpRate: 4,
      },
      want: { cheap: 3, pricey: 5 },
    },
    {
      name: 'pending replicas stop a second scale-up from over-shooting',
      scenario: { states: [state(a, 4, 2)], metrics: metrics(replicas(a, 2, 0.78, 0)) },
      want: { a: 4 },
      code: 'pending-cover-need',
      text: '2 pending replica(s) cover the need (needed 3 <= current 4)',
    },
    {
      // Needs 8 (queue 16 / 2); one of the 3 is pending (capacity, not yet serving). Cap 2 x 3 = 6.
      name: 'pending replicas do not cover a larger need: add up to the rate cap of current replicas',
      scenario: { states: [state(a, 3, 2)], metrics: metrics(replicas(a, 2, 0.9, 8)) },
      want: { a: 6 },
      clamp: 'capped to +3 (maxScaleUpRate 2 x 3 current)',
    },
    {
      // DESIGN's cap is x current, pending included: while replicas start it compounds (2 -> 4), so a
      // burst reaches its need within one start-up instead of doubling once per start-up.
      name: 'the rate cap compounds on current replicas while they start',
      scenario: { states: [state(a, 2, 1)], metrics: metrics(replicas(a, 1, 0.95, 40)) },
      want: { a: 4 },
      clamp: 'rate: +18 capped to +2 (maxScaleUpRate 2 x 2 current)',
    },
    {
      // 2 replicas saturated (KV 0.8) at 8 req/s each: one serves 8 x 0.7 / 0.8 = 7 req/s at the KV
      // target. Arrivals 16/s (no previous queue: growth unknown) -> 3, not 40 / 2 = 20. The 40
      // queued on the replicas stay there: replicas added for them would only serve new arrivals.
      name: 'a backlog on the replicas with known throughput: sized from arrivals, not as steady load',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.8, 20, 16, 8)) },
      want: { a: 3 },
      code: 'scale-up',
      text: 'throughput: arrivals 16.00/s (completions 16.00/s + queue growth unknown) + gateway backlog 0.00 over 60s at 7.00/s per replica',
    },
    {
      // The gateway's 420 can go to new replicas, and grows by 16 - 2 x 7 = 2/s over the 60 s start-up
      // of the replicas asked for: served within 60 s, (420 + 120) / 60 = 9/s -> (16 + 9) / 7 -> 4.
      name: 'a backlog at the gateway is served within BACKLOG_DRAIN_S on top of the arrivals',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.8, 0, 16, 8), { gatewayQueue: 420 }) },
      want: { a: 4 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 (+120.00 over a 60.00s start-up) over 60s at 7.00/s per replica',
    },
    {
      // One ready (7/s) and one pending (counted at half, 3.5/s) against 14/s at the gateway: the 420
      // held there grow by 3.5/s x 60 s = 210 before the replicas asked for serve. (14 + 630 / 60) / 7
      // = 3.5 -> 4; today's backlog alone would give (14 + 7) / 7 = 3, and leave the growth waiting.
      name: 'a gateway backlog is sized as it will be one start-up ahead, not as it is',
      scenario: {
        states: [state(a, 2, 1)],
        metrics: metrics(replicas(a, 1, 0.8, 0, 16, 8), { gatewayQueue: 420, gatewayArrivalRate: 14 }),
      },
      want: { a: 4 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 (+210.00 over a 60.00s start-up)',
    },
    {
      // 14/s at the gateway is what 2 x 7/s serve: the 420 waiting do not grow, whatever the queue
      // did over the last 15 s (390 -> 420: a replica that became ready or a step of the arrivals
      // moves it). (14 + 420 / 60) / 7 = 3.
      name: "a backlog's growth over the last gap is not carried over the start-up",
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.8, 0, 16, 8), { gatewayQueue: 420, gatewayArrivalRate: 14 }),
        previous: [{ ...prev(a, 2), modelWaiting: 390, modelCompletions: 16, decidedAt: NOW - 15_000 }],
      },
      want: { a: 3 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 over 60s',
    },
    {
      // The pending replica was first seen 40 s ago and replicas are learned to start in 45 s: it
      // serves 40 s of the 45 s ahead (280 requests at 7/s), more than the 6/s x 45 s = 270 the
      // ready one leaves: the 420 do not grow. (13 + 420 / 60) / 7 = 2.9 -> 3; counted half-way,
      // it would have served 157.5 and the backlog grown by 112.5 (-> 4).
      name: 'a pending replica serves the backlog from when it is ready',
      scenario: onePendingSeen(40_000, [45]),
      want: { a: 3 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 over 60s',
    },
    {
      // The same replica seen 5 s ago: it serves 5 s of the 45 (35 requests); the backlog grows by
      // 270 - 35 = 235 -> (13 + 655 / 60) / 7 = 3.4 -> 4.
      name: 'a replica that just started serves little of the start-up ahead',
      scenario: onePendingSeen(5_000, [45]),
      want: { a: 4 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 (+235.00 over a 45.00s start-up)',
    },
    {
      // No start-up learned: the 60 s setting counts from the pod's creation, which came after the
      // previous decision (15 s before the replica was first seen, 15 s ago): 30 s in, it serves 30 s
      // of the 60 (210 requests); 6/s x 60 s - 210 = +150.
      name: 'a start-up from the setting counts from the decision before the replica was seen',
      scenario: onePendingSeen(
        15_000,
        [],
        [{ ...prev(a, 2), modelWaiting: 420, modelCompletions: 7, decidedAt: NOW - 15_000 }],
      ),
      want: { a: 4 },
      code: 'scale-up',
      text: 'gateway backlog 420.00 (+150.00 over a 60.00s start-up)',
    },
    {
      // Replicas learned to serve 8/s (this cycle's 7/s sample moves it to 7.7/s) and to start in
      // 45 s; two pending, seen 40 s ago, serve 2 x 7.7 x 40 = 616 of the 45 s ahead, the ready one
      // leaves (13 - 7.7) x 45 = 238.5: 377.5 of the 700 held at the gateway are gone before a
      // replica asked for now is ready. (13 + 322.5 / 60) / 7.7 = 2.4 -> 3: hold. Taken as they
      // stand, (13 + 700 / 60) / 7.7 = 3.2 -> 4: a replica ready after the backlog is gone.
      name: 'a backlog the replicas there and starting drain within the start-up buys no replica',
      scenario: {
        ...twoPendingSeen(40_000),
        state: { ...twoPendingSeen(40_000).state, throughput: new Map([[a.key, 8]]) } as Scenario['state'],
      },
      want: { a: 3 },
    },
    {
      // The same, but the only rate is the saturated replica's 7/s of this minute: no projection of
      // what the replicas drain rests on it, the 700 stand: (13 + 700 / 60) / 7 = 3.5 -> 4.
      name: "without a learned rate the backlog is taken as it stands, not as the replicas' drain would leave it",
      scenario: twoPendingSeen(40_000),
      want: { a: 4 },
      code: 'scale-up',
      text: 'gateway backlog 700.00 over 60s at 7.00/s per replica',
    },
    {
      // Both saturated at a burst's start: 16 running over 2 s, but the minute finished 3/s (6 running
      // on average), so each reports only 3/s (2.33/s at the KV target). The learned 7/s, moved to
      // 5.6/s by this cycle's samples, is higher and sizes: 14 / 5.6 = 2.5 -> 3, not 14 / 2.33 -> 6.
      name: 'the learned rate sizes where a saturated replica reports only its lower bound',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.9, 6, 16, 3, 2), { gatewayArrivalRate: 14 }),
        state: { ...EMPTY_MODEL_STATE, throughput: new Map([[a.key, 7]]) },
      },
      want: { a: 3 },
      code: 'scale-up',
      text: 'arrivals 14.00/s at the gateway + gateway backlog 0.00 over 60s at 5.60/s per replica (learned)',
    },
    {
      // The gateway counted 20/s arriving: that, not completions (16/s) + queue growth, is the
      // arrivals; at 7/s per replica -> 3.
      name: "arrivals are the gateway's count when it reports one",
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.8, 20, 16, 8), { gatewayArrivalRate: 20 }),
        previous: [{ ...prev(a, 2), modelWaiting: 0, decidedAt: NOW - 5_000 }],
      },
      want: { a: 3 },
      code: 'scale-up',
      text: 'throughput: arrivals 20.00/s at the gateway + gateway backlog 0.00 over 60s at 7.00/s per replica',
    },
    {
      // As the standing-queue case below, but the queue fell from 30 to 15 over 15 s: arrivals
      // 18 - 1 = 17/s need 3 = current, and the queue is draining: DESIGN's +1 has nothing to serve.
      name: 'a need within current replicas while the backlog drains waives the +1',
      scenario: {
        states: [state(a, 3)],
        metrics: metrics(replicas(a, 3, 0.6, 5, 12, undefined, 2)),
        previous: [{ ...prev(a, 3), modelWaiting: 30, modelCompletions: 18, decidedAt: NOW - 15_000 }],
      },
      want: { a: 3 },
      code: 'backlog-draining',
      text: 'the 3 replica(s) cover the need (needed 3) and the backlog shrinks by 1.00/s',
    },
    {
      // Saturated by the 1-minute peaks (queue 5), but the latest samples show nothing waiting and
      // KV at 0.3, nothing at the gateway, the queue as before: the peaks alone ask, and the need is
      // within current replicas.
      name: 'a need within current replicas with no queue now waives the +1',
      scenario: {
        states: [state(a, 3)],
        metrics: metrics(
          replicas(a, 3, 0.6, 5, 12, undefined, 2).map((r) => ({ ...r, kvCacheUsageNow: 0.3, queueLengthNow: 0 })),
        ),
        previous: [{ ...prev(a, 3), modelWaiting: 15, modelCompletions: 18, decidedAt: NOW - 15_000 }],
      },
      want: { a: 3 },
      code: 'backlog-draining',
      text: 'nothing waits at the gateway, no queue grows and the latest samples need no scale-up',
    },
    {
      // 16 running at 2 s each: 8/s now, although the 1 m rate (of a replica idle half a minute ago)
      // says 4/s. Arrivals 16 + 8 (growth) = 24/s at 7/s per replica -> 4; from the 1 m rates,
      // (8 + 8) / 3.5 -> 5: the growth is the same, the capacity half.
      name: 'running / mean service time gives what a replica completes now, not its 1 m average',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.8, 20, 16, 4, 2)),
        previous: [{ ...prev(a, 2), modelWaiting: 0, decidedAt: NOW - 5_000 }],
      },
      want: { a: 4 },
      code: 'scale-up',
      text: 'arrivals 24.00/s (completions 16.00/s + queue 8.00/s)',
    },
    {
      // Completions were 8/s at the previous decision and are 16/s now (new replicas took work): over the
      // gap they averaged 12/s, so the queue growth of 8/s means 20/s arriving, not 24/s -> 20 / 7 -> 3.
      name: 'arrivals use the mean completion rate over the gap since the previous decision',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.8, 20, 16, 8)),
        previous: [{ ...prev(a, 2), modelWaiting: 0, modelCompletions: 8, decidedAt: NOW - 5_000 }],
      },
      want: { a: 3 },
      code: 'scale-up',
      text: 'arrivals 20.00/s (completions 12.00/s + queue 8.00/s)',
    },
    {
      // Saturated by queue (5) at KV 0.6: 12 running at 2 s = 6/s each, 18/s in all, 6/s per replica
      // at the KV target, and the queue (15) has not grown -> 3 = current. Every replica still holds
      // a queue at its threshold: holding would keep those requests waiting, so DESIGN's +1 stands.
      name: 'throughput the ready replicas cover does not waive the +1 (a standing queue is not served)',
      scenario: {
        states: [state(a, 3)],
        metrics: metrics(replicas(a, 3, 0.6, 5, 12, undefined, 2)),
        previous: [{ ...prev(a, 3), modelWaiting: 15, modelCompletions: 18, decidedAt: NOW - 15_000 }],
      },
      want: { a: 4 },
      code: 'scale-up',
      text: 'scale up by 1: needed 3 replicas (throughput: arrivals 18.00/s',
    },
    {
      // The same without a previous decision (queue growth unknown): the +1 stands as well.
      name: 'throughput without the queue growth keeps the +1',
      scenario: { states: [state(a, 3)], metrics: metrics(replicas(a, 3, 0.6, 5, 12, undefined, 2)) },
      want: { a: 4 },
      code: 'scale-up',
      text: 'queue growth unknown',
    },
    {
      // The queue grew from 0 to 40 in 5 s: arrivals = 16 + 8 = 24/s -> (24 + 0.67) / 7 -> 4.
      name: 'the queue growth since the previous decision adds to the arrivals',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.8, 20, 16, 8)),
        previous: [{ ...prev(a, 2), modelWaiting: 0, decidedAt: NOW - 5_000 }],
      },
      want: { a: 4 },
      code: 'scale-up',
      text: 'arrivals 24.00/s (completions 16.00/s + queue 8.00/s)',
    },
    {
      // Behind an EPP with flow control saturated replicas stop queueing: the backlog is at the gateway.
      name: 'requests held at the gateway count as waiting load',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.8, 0), { gatewayQueue: 30 }) },
      want: { a: 4 },
      code: 'scale-up',
      text: 'queue 30.00 (30.00 at the gateway)',
    },
    {
      name: 'cost tie goes to the first key',
      scenario: {
        states: [state(b, 1), state(a, 1)],
        metrics: metrics([replica(a, 0, 0.78, 0), replica(b, 0, 0.78, 0)]),
      },
      want: { a: 2, b: 1 },
    },
    {
      name: 'every variant at max: clamp says so',
      scenario: { states: [state(variant('a', { maxReplicas: 2 }), 2)], metrics: metrics(replicas(a, 2, 0.9, 6)) },
      want: { a: 2 },
      clamp: 'all variants at max: 2 replica(s) not placed',
      code: 'at-max',
      text: 'hold at max: needed 6 replicas',
    },
  ])('$name', check);

  it('a decision records the model load the next cycle draws rates from: waiting and completions', () => {
    const out = decide({
      states: [state(a, 2)],
      metrics: metrics(replicas(a, 2, 0.8, 20, 16, 4, 2), { gatewayQueue: 5 }),
    });
    expect(out.decisions[0]).toMatchObject({ modelWaiting: 45, modelCompletions: 16 });
    // Partial data: no load is recorded (a growth rate from it would be wrong).
    const partial = decide({
      states: [state(a, 2)],
      metrics: metrics([replica(a, 0, 0.8, 20, 16, 4, 2), replica(a, 1, undefined, 20)]),
    });
    expect(partial.decisions[0]?.modelWaiting).toBeUndefined();
    expect(partial.decisions[0]?.modelCompletions).toBeUndefined();
  });

  it.each([
    { total: 0, per: 0.7, n: 0 },
    { total: 1.4, per: 0.7, n: 2 },
    { total: 1.41, per: 0.7, n: 3 },
    { total: 3, per: 0, n: Infinity },
  ])('replicasNeeded($total, $per) = $n', ({ total, per, n }) => {
    expect(replicasNeeded(total, per)).toBe(n);
  });
});

describe('step 4: safe scale-down by one from the most expensive variant', () => {
  const cheap4 = variant('cheap', { cost: 5 });
  it.each<Row>([
    {
      name: 'idle model: most expensive variant loses one',
      scenario: {
        states: [state(cheap4, 3), state(pricey, 2)],
        metrics: metrics([...replicas(cheap4, 3, 0.1, 0), ...replicas(pricey, 2, 0.1, 0)]),
      },
      want: { cheap: 3, pricey: 1 },
      code: 'scale-down',
    },
    {
      // The HPA has not applied the previous -1 yet (stabilization window, tolerance): step on
      // from the previous decision, or a fleet above 10 replicas would never shrink.
      name: 'steps down from the previous decision while the HPA lags',
      scenario: { states: [state(a, 12)], metrics: metrics(replicas(a, 12, 0.1, 0)), previous: [prev(a, 11)] },
      want: { a: 10 },
      code: 'scale-down',
      text: '(2 below current)',
    },
    {
      name: 'holds a lower previous decision that is still safe, going no further',
      scenario: { states: [state(a, 4)], metrics: metrics(replicas(a, 4, 0.45, 0)), previous: [prev(a, 3)] },
      want: { a: 3 },
      code: 'holding-lower',
      text: '(1 below current)',
    },
    {
      // 6 replicas at 0.3 KV; the previous decision stood at 2 (4 below). Now only 3 can go.
      name: 'load rose part way: falls back to the lowest safe level, not to current',
      scenario: { states: [state(a, 6)], metrics: metrics(replicas(a, 6, 0.3, 0)), previous: [prev(a, 2)] },
      want: { a: 3 },
      code: 'load-rose',
      text: 'load rose: 3 below current instead of 4',
    },
    {
      name: 'a lower previous decision that is no longer safe goes back to current',
      scenario: { states: [state(a, 4)], metrics: metrics(replicas(a, 4, 0.6, 0)), previous: [prev(a, 2)] },
      want: { a: 4 },
      code: 'no-scale-down-spare',
    },
    {
      // The other replica's KV is its 1-minute peak: idle now, it still reads as saturated, and the reason says why.
      name: 'refused with one non-saturated replica, saying the other is saturated by its 1-minute peak',
      scenario: { states: [state(a, 2)], metrics: metrics([replica(a, 0, 0.9, 0), replica(a, 1, 0.1, 0)]) },
      want: { a: 2 },
      code: 'no-scale-down-saturated',
      text: 'only 1 non-saturated replica(s) (1 saturated by its 1-minute peak of KV or queue)',
    },
    {
      name: 'refused when one replica fewer would leave too little spare',
      scenario: { states: [state(a, 2)], metrics: metrics(replicas(a, 2, 0.4, 0)) },
      want: { a: 2 },
      code: 'no-scale-down-spare',
      text: 'with 1 replica(s) fewer KV spare would be 0.00 < 0.10',
    },
    {
      // Three replicas just took over and look half idle (KV 0.3), so WVA's projection allows -1; the
      // fourth still holds a backlog. Completions 8 + 3 x 3 = 17/s plus the queue's growth (30 in
      // 15 s) = 19/s arriving, at 8 x 0.7 / 0.9 = 6.2/s per replica -> 4 needed: no scale-down.
      name: 'refused when the throughput need is the current replicas',
      scenario: {
        states: [state(a, 4)],
        metrics: metrics([
          replica(a, 0, 0.9, 30, 16, undefined, 2),
          ...[1, 2, 3].map((i) => replica(a, i, 0.3, 0, 6, undefined, 2)),
        ]),
        previous: [{ ...prev(a, 4), modelWaiting: 0, modelCompletions: 17, decidedAt: NOW - 15_000 }],
      },
      want: { a: 4 },
      code: 'no-scale-down-throughput',
      text: 'throughput needs 4 replica(s): arrivals 19.00/s',
    },
    {
      // Learned at 10/s, 28/s arriving: three replicas serve it at 93 % of their rate, above
      // SCALE_DOWN_UTILIZATION (0.9): a rise of 8 % would need the fourth back. The old code removed it.
      name: 'refused when the replicas left would run above SCALE_DOWN_UTILIZATION of the learned rate',
      scenario: learnedAt10(28),
      want: { a: 4 },
      code: 'no-scale-down-throughput',
      text: 'throughput needs 4 replica(s): arrivals 28.00/s at the gateway + gateway backlog 0.00 over 60s at 0.90 of 10.00/s per replica (learned)',
    },
    {
      // 26/s on three: 87 % of their rate.
      name: 'a scale-down that leaves the replicas within SCALE_DOWN_UTILIZATION of the learned rate',
      scenario: learnedAt10(26),
      want: { a: 3 },
      code: 'scale-down',
    },
    {
      // Learned at 18/s (a lighter mix), 40/s arriving needs 3 of the 4. Today's mix is 2,000 prompt /
      // 400 output tokens: the H100's model gives 78 ms of work a request, 12.8/s flat out, 10.9/s at
      // 0.85: 3 serve 32.7/s. The old code removes one (the next minutes' queues add it back).
      name: "refused when the service model says fewer replicas cannot take today's mix",
      scenario: heavierMix(confidentServiceModel({ alpha: 7.29, beta: 0.0325, gamma: 0 }, NOW)),
      want: { a: 4 },
      code: 'no-scale-down-service',
      text: '3 replica(s) would serve less than arrivals 40.00/s at 0.85',
    },
    {
      name: 'a model that is not confident yet does not hold the scale-down the learned rate allows',
      scenario: heavierMix({
        ...confidentServiceModel({ alpha: 7.29, beta: 0.0325, gamma: 0 }, NOW),
        confident: false,
      }),
      want: { a: 3 },
      code: 'scale-down',
    },
    {
      // A model that says one replica serves 6.4/s flat out while each completes 10/s is wrong.
      name: 'a model its replicas outrun does not hold the scale-down',
      scenario: heavierMix(confidentServiceModel({ alpha: 7.29, beta: 0.065, gamma: 0 }, NOW)),
      want: { a: 3 },
      code: 'scale-down',
    },
    {
      name: 'refused while the gateway holds requests',
      scenario: { states: [state(a, 3)], metrics: metrics(replicas(a, 3, 0.1, 0), { gatewayQueue: 3 }) },
      want: { a: 3 },
      code: 'no-scale-down-gateway',
      text: '3 request(s) held at the gateway',
    },
    {
      name: 'refused while a replica is pending',
      scenario: { states: [state(a, 3, 2)], metrics: metrics(replicas(a, 2, 0.1, 0)) },
      want: { a: 3 },
      code: 'no-scale-down-pending',
      text: '1 replica(s) pending',
    },
    {
      name: 'refused at min',
      scenario: { states: [state(variant('a', { minReplicas: 2 }), 2)], metrics: metrics(replicas(a, 2, 0.1, 0)) },
      want: { a: 2 },
      code: 'no-scale-down-at-min',
    },
    {
      name: 'cost tie: the last key shrinks first (mirror of scale-up)',
      scenario: {
        states: [state(a, 2), state(b, 2)],
        metrics: metrics([...replicas(a, 2, 0.05, 0), ...replicas(b, 2, 0.05, 0)]),
      },
      want: { a: 2, b: 1 },
    },
  ])('$name', check);
});

describe('step 5: missing or stale metrics never scale down', () => {
  const idle = metrics(replicas(a, 3, 0.05, 0));
  it.each<Row>([
    {
      name: 'missing metrics hold the last decision',
      scenario: { states: [state(a, 2)], metrics: undefined, previous: [prev(a, 3)] },
      want: { a: 3 },
      code: 'hold-missing',
      text: 'no metrics for model',
    },
    {
      name: 'stale metrics hold the last decision',
      scenario: { states: [state(a, 3)], metrics: { ...idle, collectedAt: NOW - 120_000 }, previous: [prev(a, 3)] },
      want: { a: 3 },
      code: 'hold-stale',
      text: '(120s old)',
    },
    {
      name: 'stale metrics with no decision hold current',
      scenario: { states: [state(a, 3)], metrics: { ...idle, collectedAt: NOW - 120_000 } },
      want: { a: 3 },
    },
    {
      name: 'unavailable metrics (10 min old) hold',
      scenario: { states: [state(a, 3)], metrics: { ...idle, collectedAt: NOW - 600_000 }, previous: [prev(a, 3)] },
      want: { a: 3 },
      code: 'hold-missing',
      text: 'metrics unavailable',
    },
    {
      name: 'partial metrics: no scale-down',
      scenario: { states: [state(a, 3)], metrics: metrics([...replicas(a, 2, 0.05, 0), replica(a, 2, undefined, 0)]) },
      want: { a: 3 },
      code: 'no-scale-down-data',
      text: 'metrics partial: 1 replica(s) missing KV or queue',
    },
    {
      name: 'partial metrics still allow a scale-up',
      scenario: {
        states: [state(a, 3)],
        metrics: metrics([...replicas(a, 2, 0.9, 6), replica(a, 2, undefined, undefined)]),
      },
      want: { a: 6 },
    },
    {
      name: 'modelID matches no series: hold, naming the model_name values seen',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics([], { seenModelNames: ['meta/Llama-8B'] }),
        previous: [prev(a, 2)],
      },
      want: { a: 2 },
      code: 'hold-missing',
      text: 'model_name values seen: meta/Llama-8B',
    },
  ])('$name', check);

  it('missing metrics and no decision yet: no decision, with the reason', () => {
    const out = decide({ states: [state(a, 2)], metrics: undefined });
    expect(out.decisions).toEqual([]);
    expect(out.targets.unavailableReason).toBe('no metrics for model meta/llama-8b in ns ns yet');
  });
});

describe('step 6: scale to zero', () => {
  const idle = (over: Partial<Parameters<typeof metrics>[1]> = {}, running = 0) =>
    metrics(replicas(a, 2, 0, 0, running), { requestsOverRetention: 0, ...over });
  it.each<Row>([
    {
      name: 'enabled and idle over retention: all variants 0',
      scenario: { states: [state(a, 2), state(b, 0)], metrics: idle(), scaleToZero: true },
      want: { a: 0, b: 0 },
      code: 'to-zero',
      text: '0 requests over 10m',
    },
    {
      name: 'requestsOverRetention undefined is missing, not idle',
      scenario: { states: [state(a, 2)], metrics: idle({ requestsOverRetention: undefined }), scaleToZero: true },
      want: { a: 1 },
    },
    {
      name: 'requests over retention: no',
      scenario: { states: [state(a, 2)], metrics: idle({ requestsOverRetention: 3 }), scaleToZero: true },
      want: { a: 1 },
    },
    {
      name: 'something running: no',
      scenario: { states: [state(a, 2)], metrics: idle({}, 1), scaleToZero: true },
      want: { a: 1 },
    },
    {
      name: 'queued at the gateway: no (nor a scale-down while it holds requests)',
      scenario: { states: [state(a, 2)], metrics: idle({ gatewayQueue: 2 }), scaleToZero: true },
      want: { a: 2 },
    },
    { name: 'disabled: no', scenario: { states: [state(a, 2)], metrics: idle(), scaleToZero: false }, want: { a: 1 } },
    {
      name: 'variant override disables it for the model',
      scenario: { states: [state(variant('a', { scaleToZero: false }), 2)], metrics: idle(), scaleToZero: true },
      want: { a: 1 },
    },
    {
      name: 'minReplicas wins over scale to zero',
      scenario: { states: [state(variant('a', { minReplicas: 1 }), 2)], metrics: idle(), scaleToZero: true },
      want: { a: 1 },
      clamp: 'min 1 (wanted 0)',
    },
    {
      name: 'disabled and at zero: the cheapest variant keeps one',
      scenario: {
        states: [state(a, 0), state(variant('z', { cost: 1 }), 0)],
        metrics: metrics([]),
        scaleToZero: false,
      },
      want: { a: 0, z: 1 },
      code: 'floor',
    },
  ])('$name', check);
});

describe('step 7: scale from zero', () => {
  const z = variant('z', { cost: 1 });
  it.each<Row>([
    {
      name: 'gateway queue wakes the cheapest variant',
      scenario: { states: [state(a, 0), state(z, 0)], metrics: metrics([], { gatewayQueue: 3 }), scaleToZero: true },
      want: { a: 0, z: 1 },
      code: 'wake',
    },
    {
      name: 'no demand: stays at zero',
      scenario: { states: [state(a, 0), state(z, 0)], metrics: metrics([], { gatewayQueue: 0 }), scaleToZero: true },
      want: { a: 0, z: 0 },
    },
    {
      name: 'cost tie: first key wakes',
      scenario: { states: [state(b, 0), state(a, 0)], metrics: metrics([], { gatewayQueue: 1 }), scaleToZero: true },
      want: { a: 1, b: 0 },
    },
    {
      name: 'a running request on a leftover pod wakes it',
      scenario: {
        states: [state(a, 0)],
        metrics: metrics([replica(undefined, 0, 0.1, 0, 1)], { gatewayQueue: undefined }),
        scaleToZero: true,
      },
      want: { a: 1 },
    },
    {
      name: 'waking (previous 1, replicas not started): hold even with a cache that shows no demand',
      scenario: {
        states: [state(a, 0)],
        metrics: metrics([], { gatewayQueue: 0, requestsOverRetention: 0 }),
        scaleToZero: true,
        previous: [prev(a, 1)],
      },
      want: { a: 1 },
      code: 'waking',
    },
    {
      name: 'already woken to 2: demand at zero does not lower it to 1',
      scenario: {
        states: [state(a, 0)],
        metrics: metrics([], { gatewayQueue: 4, collectedAt: NOW - 90_000 }),
        scaleToZero: true,
        previous: [prev(a, 2)],
      },
      want: { a: 2 },
      code: 'waking',
    },
  ])('$name', check);
});

describe('thresholds with a spare trigger not below its threshold: hold, never scale up forever', () => {
  const kvMeta = variant('a', { saturation: { kvSpareTrigger: 0.85 } });
  const queueMeta = variant('a', { saturation: { queueLengthThreshold: 2 } });
  const lowKv = variant('a', { saturation: { kvCacheThreshold: 0.7 } });
  const highTrigger = variant('b', { saturation: { kvSpareTrigger: 0.75 } });
  it.each<Row>([
    {
      name: 'KV: trigger metadata 0.85 over the built-in threshold 0.8, idle',
      scenario: { states: [state(kvMeta, 2)], metrics: metrics(replicas(kvMeta, 2, 0.05, 0)) },
      want: { a: 2 },
      code: 'hold-thresholds',
      text: 'kvSpareTrigger (0.85) must be below kvCacheThreshold (0.8) (kvSpareTrigger from trigger metadata, kvCacheThreshold from the built-in default)',
    },
    {
      name: 'queue: trigger metadata threshold 2 under the built-in trigger 3, idle',
      scenario: { states: [state(queueMeta, 2)], metrics: metrics(replicas(queueMeta, 2, 0.05, 0)) },
      want: { a: 2 },
      code: 'hold-thresholds',
      text: 'queueSpareTrigger (3) must be below queueLengthThreshold (2) (queueSpareTrigger from the built-in default, queueLengthThreshold from trigger metadata)',
    },
    {
      name: 'queue: trigger metadata equal to the default entry threshold',
      scenario: {
        states: [state(variant('a', { saturation: { queueSpareTrigger: 4 } }), 2)],
        metrics: metrics(replicas(a, 2, 0.05, 0)),
        saturation: parseSaturationConfig({ default: 'queueLengthThreshold: 4' }),
      },
      want: { a: 2 },
      code: 'hold-thresholds',
      text: 'queueSpareTrigger (4) must be below queueLengthThreshold (4) (queueSpareTrigger from trigger metadata, queueLengthThreshold from the default entry)',
    },
    {
      name: 'a config that skipped validation is caught too',
      scenario: {
        states: [state(a, 2)],
        metrics: metrics(replicas(a, 2, 0.05, 0)),
        saturation: { ...EMPTY_SATURATION_CONFIG, defaults: { kvCacheThreshold: 0.1, kvSpareTrigger: 0.1 } },
      },
      want: { a: 2 },
      code: 'hold-thresholds',
      text: 'kvSpareTrigger (0.1) must be below kvCacheThreshold (0.1) (both from the default entry)',
    },
    {
      name: 'two variants valid alone whose conservative mix is not (threshold 0.7 of one, trigger 0.75 of the other)',
      scenario: {
        states: [state(lowKv, 1), state(highTrigger, 1)],
        metrics: metrics([replica(lowKv, 0, 0.05, 0), replica(highTrigger, 0, 0.05, 0)]),
      },
      want: { a: 1, b: 1 },
      code: 'hold-thresholds',
      text: 'kvSpareTrigger (0.75) must be below kvCacheThreshold (0.7): the model uses the highest trigger and the lowest threshold of its variants, kvSpareTrigger from ns/b (trigger metadata), kvCacheThreshold from ns/a (trigger metadata)',
    },
    {
      name: 'one variant of two broken on its own: it is named',
      scenario: {
        states: [state(queueMeta, 1), state(b, 1)],
        metrics: metrics([replica(queueMeta, 0, 0.05, 0), replica(b, 0, 0.05, 0)]),
      },
      want: { a: 1, b: 1 },
      code: 'hold-thresholds',
      text: 'queueSpareTrigger (3) must be below queueLengthThreshold (2) (queueSpareTrigger from the built-in default, queueLengthThreshold from trigger metadata) for variant ns/a',
    },
    {
      name: 'every replica saturated: still no scale-up to max',
      scenario: { states: [state(kvMeta, 2)], metrics: metrics(replicas(kvMeta, 2, 0.95, 9)) },
      want: { a: 2 },
      code: 'hold-thresholds',
    },
    {
      name: 'holds the previous decision, not current replicas',
      scenario: {
        states: [state(queueMeta, 2)],
        metrics: metrics(replicas(queueMeta, 2, 0.05, 0)),
        previous: [prev(queueMeta, 3)],
      },
      want: { a: 3 },
      code: 'hold-thresholds',
    },
    {
      name: 'scale to zero does not use the thresholds and still applies',
      scenario: {
        states: [state(queueMeta, 2)],
        metrics: metrics(replicas(queueMeta, 2, 0, 0, 0), { requestsOverRetention: 0, gatewayQueue: 0 }),
        scaleToZero: true,
      },
      want: { a: 0 },
      code: 'to-zero',
    },
  ])('$name', (row) => {
    check(row);
    expect(decide(row.scenario).targets.action).not.toBe('scale-up');
  });

  it('a ConfigMap raising the default threshold with metadata raising the trigger to match still scales', () => {
    const v = variant('a', { saturation: { kvSpareTrigger: 0.85 } });
    const out = decide({
      states: [state(v, 2)],
      metrics: metrics(replicas(v, 2, 0.02, 0)),
      saturation: parseSaturationConfig({ default: 'kvCacheThreshold: 0.9' }),
    });
    expect(out.analysis.thresholdProblem).toBeUndefined();
    expect(desiredByName(out)).toEqual({ a: 1 });
  });
});

describe('saturation config: merge order default -> per-model -> trigger metadata', () => {
  const config = parseSaturationConfig({
    default: 'kvCacheThreshold: 0.7\nqueueLengthThreshold: 8',
    llama: 'model_id: meta/llama-8b\nkvCacheThreshold: 0.85',
  });
  it.each([
    { name: 'built-in defaults where nothing is set', model: 'other', overrides: {}, kv: 0.7, queue: 8, kvSpare: 0.1 },
    {
      name: 'per-model entry over default, field by field',
      model: 'meta/llama-8b',
      overrides: {},
      kv: 0.85,
      queue: 8,
      kvSpare: 0.1,
    },
    {
      name: 'trigger metadata over both',
      model: 'meta/llama-8b',
      overrides: { kvCacheThreshold: 0.9, kvSpareTrigger: 0.2 },
      kv: 0.9,
      queue: 8,
      kvSpare: 0.2,
    },
  ])('$name', ({ model, overrides, kv, queue, kvSpare }) => {
    const t = resolveThresholds(config, 'ns', model, overrides);
    expect([t.kvCacheThreshold, t.queueLengthThreshold, t.kvSpareTrigger, t.queueSpareTrigger]).toEqual([
      kv,
      queue,
      kvSpare,
      3,
    ]);
  });

  it.each([
    { name: 'per-model threshold 0.85 makes 0.82 not saturated', overrides: {}, kv: 0.82, saturated: false },
    {
      name: 'variant override 0.8 makes 0.82 saturated',
      overrides: { kvCacheThreshold: 0.8 },
      kv: 0.82,
      saturated: true,
    },
  ])('the analysis uses the merged thresholds: $name', ({ overrides, kv, saturated }) => {
    const v = variant('a', { saturation: overrides });
    const out = decide({ states: [state(v, 1)], metrics: metrics([replica(v, 0, kv, 0)]), saturation: config });
    expect(out.analysis.replicas[0]?.saturated).toBe(saturated);
  });

  it.each<{ name: string; data: Record<string, string>; field: string }>([
    {
      name: 'spare trigger above its threshold',
      data: { default: 'kvCacheThreshold: 0.5\nkvSpareTrigger: 0.6' },
      field: 'kvSpareTrigger',
    },
    { name: 'KV threshold out of range', data: { default: 'kvCacheThreshold: 1.5' }, field: 'kvCacheThreshold' },
    {
      name: 'queue threshold not a number',
      data: { m: 'model_id: x\nqueueLengthThreshold: lots' },
      field: 'queueLengthThreshold',
    },
  ])('an invalid update is kept out ($name): the last good config stays', ({ data, field }) => {
    const global = new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
      saturation: config,
    });
    const before = global.get();
    const apply = (d: Record<string, string>) => global.update({ saturation: parseSaturationConfig(d) });
    expect(() => apply(data)).toThrow(SaturationConfigError);
    expect(() => apply(data)).toThrow(field);
    expect(global.get()).toBe(before);
    expect(resolveThresholds(global.get().saturation, 'ns', 'meta/llama-8b').kvCacheThreshold).toBe(0.85);
  });
});
