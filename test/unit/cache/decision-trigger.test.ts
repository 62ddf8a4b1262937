import { describe, expect, it } from 'vitest';
import { DecisionTrigger, type DecisionEvent } from '../../../src/cache/decision-trigger.js';

const ev = (variantKey: string, desiredReplicas: number): DecisionEvent => ({
  variantKey,
  desiredReplicas,
  active: desiredReplicas > 0,
  decidedAt: 0,
});
const tick = () => new Promise((r) => setImmediate(r));

describe('DecisionTrigger', () => {
  it('delivers events per variant and to subscribe-all listeners, asynchronously', async () => {
    const t = new DecisionTrigger();
    const a: number[] = [];
    const all: string[] = [];
    t.subscribe('ns/a', (e) => a.push(e.desiredReplicas));
    t.subscribeAll((e) => all.push(e.variantKey));
    t.publish(ev('ns/a', 1));
    t.publish(ev('ns/b', 2));
    expect(a).toEqual([]); // publish never runs listeners inline
    await tick();
    expect(a).toEqual([1]);
    expect(all).toEqual(['ns/a', 'ns/b']);
  });

  it('coalesces per variant when full and never loses the latest state', async () => {
    const t = new DecisionTrigger(10);
    const seen = new Map<string, number[]>();
    t.subscribeAll((e) => seen.set(e.variantKey, [...(seen.get(e.variantKey) ?? []), e.desiredReplicas]));
    for (let i = 0; i < 10; i++) t.publish(ev(`ns/v${i}`, 1)); // fills the buffer
    t.publish(ev('ns/v3', 7)); // full: replaces v3's waiting event in place
    t.publish(ev('ns/new', 4)); // full, not waiting: overflow slot
    t.publish(ev('ns/new', 5)); // coalesces in the overflow slot
    expect(t.pending).toBe(11);
    expect(t.stats.coalesced).toBe(3);
    await tick();
    expect(seen.get('ns/v3')).toEqual([7]);
    expect(seen.get('ns/new')).toEqual([5]);
    expect(seen.size).toBe(11);
    expect(t.pending).toBe(0);
  });

  it('stays bounded and does not block the writer under a flood with a slow listener', async () => {
    const t = new DecisionTrigger(1000);
    let delivered = 0;
    t.subscribeAll(() => {
      delivered++;
    });
    for (let i = 0; i < 100_000; i++) t.publish(ev(`ns/v${i % 500}`, i));
    // 500 variants: the buffer holds 1,000 events and coalesces the rest in place.
    expect(t.pending).toBeLessThanOrEqual(1000);
    await tick();
    expect(delivered).toBeLessThanOrEqual(1000);
    expect(t.pending).toBe(0);
  });

  it('keeps per-variant order and isolates a throwing listener', async () => {
    const errors: unknown[] = [];
    const t = new DecisionTrigger(1000, (e) => errors.push(e));
    const got: number[] = [];
    t.subscribe('ns/a', () => {
      throw new Error('boom');
    });
    t.subscribe('ns/a', (e) => got.push(e.desiredReplicas));
    for (const n of [1, 2, 3]) t.publish(ev('ns/a', n));
    await tick();
    expect(got).toEqual([1, 2, 3]);
    expect(errors).toHaveLength(3);
    expect(t.stats.listenerErrors).toBe(3);
  });

  it('unsubscribes cleanly', async () => {
    const t = new DecisionTrigger();
    const got: number[] = [];
    const off = t.subscribe('ns/a', (e) => got.push(e.desiredReplicas));
    const offAll = t.subscribeAll(() => undefined);
    expect(t.subscriberCount).toBe(2);
    off();
    offAll();
    expect(t.subscriberCount).toBe(0);
    t.publish(ev('ns/a', 1));
    await tick();
    expect(got).toEqual([]);
  });
});
