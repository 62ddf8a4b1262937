import { describe, expect, it } from 'vitest';
import type { ModelOutcome } from '../../../src/engine/model-decision.js';
import { EMPTY_MODEL_STATE } from '../../../src/engine/model-state.js';
import { decide, desiredByName, metrics, prev, replica, replicas, state, variant } from './fixtures.js';

const l4 = variant('l4', { cost: 1, accelerator: 'L4' });
const h100 = variant('h100', { cost: 30 });

/** Saturated L4s and one saturated H100, 20 waiting on each (no completion rates: the learned rates size). */
function decideMixed(opts: {
  readonly rates: ReadonlyMap<string, number>;
  readonly arrivals: number;
  readonly l4?: number;
}): ModelOutcome {
  const reps = [...replicas(l4, opts.l4 ?? 1, 0.9, 20, 8), replica(h100, 0, 0.9, 20, 8)];
  return decide({
    states: [state(l4, opts.l4 ?? 1), state(h100, 1)],
    metrics: metrics(reps, { gatewayArrivalRate: opts.arrivals }),
    state: { ...EMPTY_MODEL_STATE, throughput: opts.rates },
  });
}

const reasonsOf = (o: ModelOutcome): string => o.targets.reasons.join(' | ');

describe('throughput sizing of a model whose variants serve at different rates', () => {
  it('counts each variant at its own rate and the shortfall in replicas of the next variant', () => {
    // 1 L4 at 1/s + 1 H100 at 20/s serve 21/s; 30/s arrive: 9 short = 9 L4 replicas, capped at
    // 2 x 2 current -> +2 to the L4 (cheapest below max). Placement gets both rates to convert a spill.
    const o = decideMixed({
      rates: new Map([
        [l4.key, 1],
        [h100.key, 20],
      ]),
      arrivals: 30,
    });
    expect(desiredByName(o)).toEqual({ l4: 3, h100: 1 });
    expect(reasonsOf(o)).toContain('needed 11 replicas');
    expect(reasonsOf(o)).toContain('at h100 20.00/s x1, l4 1.00/s x1 (learned per variant)');
    expect(o.targets.capacities).toEqual(
      new Map([
        [l4.key, 1],
        [h100.key, 20],
      ]),
    );
  });

  it('within the mix capacity, the need counts the replicas step 4 can remove in its order, most expensive first', () => {
    // 2 L4 (1/s) + 1 H100 (20/s) serve 22/s; 15/s arrive: the H100 cannot go (7/s spare < 20), and
    // step 4 never takes an L4 before it -> all 3 needed (counting the L4s as spare would let step 4
    // remove the H100 down to 1 replica).
    const o = decideMixed({
      rates: new Map([
        [l4.key, 1],
        [h100.key, 20],
      ]),
      arrivals: 15,
      l4: 2,
    });
    expect(reasonsOf(o)).toContain('needed 3 replicas');
  });

  it.each([
    // 3 L4 (1/s) + 3 H100 (20/s) serve 63/s, idle enough for step 4 to take 2 (queue and KV spare).
    // 30/s: one H100 can go (33 spare), a second cannot (13 < 20) -> 5 stay; counting the L4s as
    // spare would have let step 4 remove 2 H100s, leaving 23/s for 30.
    { arrivals: 30, desired: { l4: 3, h100: 2 } },
    // 10/s: two H100s can go (53 spare, then 33, 13 left) -> 4 stay, the most step 4 takes in one go.
    { arrivals: 10, desired: { l4: 3, h100: 1 } },
  ])('step 4 on a mix at $arrivals/s keeps what serves it, removing in its own order', ({ arrivals, desired }) => {
    const o = decide({
      states: [state(l4, 3), state(h100, 3)],
      metrics: metrics([...replicas(l4, 3, 0.1, 0), ...replicas(h100, 3, 0.1, 0)], { gatewayArrivalRate: arrivals }),
      previous: [prev(l4, 3), prev(h100, 2)],
      state: {
        ...EMPTY_MODEL_STATE,
        throughput: new Map([
          [l4.key, 1],
          [h100.key, 20],
        ]),
      },
    });
    expect(desiredByName(o)).toEqual(desired);
  });

  it.each([
    { case: 'a variant with replicas has no learned rate', rates: new Map([[h100.key, 20]]) },
    {
      case: 'every variant serves at the same rate',
      rates: new Map([
        [l4.key, 20],
        [h100.key, 20],
      ]),
    },
  ])('one rate for every replica when $case', ({ rates }) => {
    const o = decideMixed({ rates, arrivals: 30 });
    expect(reasonsOf(o)).not.toContain('learned per variant');
    expect(o.targets.capacities).toBeUndefined();
  });
});
