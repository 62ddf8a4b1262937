/**
 * Scenario 4: two variants of one model with different costs. Under rising load the scaler grows
 * the cheap Deployment first; when the load falls it shrinks the expensive one first (its decisions,
 * in order), and the Deployments' spec.replicas follow through KEDA and the HPAs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
  decisionOf,
  fleetControl,
  namespace,
  scaledObjectYaml,
  specReplicas,
  vllmDeploymentYaml,
  waitUntil,
  type Cluster,
} from './harness/scenario.js';

const NS = 'llm-variants';
const MODEL = 'mistralai/Mistral-7B-Instruct-v0.3';
const CHEAP = 'mistral-l4';
const DEAR = 'mistral-h100';

type Event = { readonly deployment: string; readonly from: number; readonly to: number };

describe('scenario 4: cost-aware variants through real KEDA', () => {
  let c: Cluster;
  const events: Event[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;

  beforeAll(async () => {
    c = cluster();
    await namespace(c.kube, NS);
    for (const [name, cost, max] of [
      [CHEAP, '5', 3],
      [DEAR, '30', 4],
    ] as const) {
      await c.kube.apply(vllmDeploymentYaml({ namespace: NS, name, model: MODEL, replicas: 1 }));
      await c.kube.apply(
        scaledObjectYaml({
          namespace: NS,
          name,
          deployment: name,
          model: MODEL,
          scalerAddress: c.state.scaler.grpcAddress,
          min: 1,
          max,
          scaleDownWindowS: 5,
          metadata: { variantCost: cost },
        }),
      );
    }
    // The scaler's decisions, in the order it made them: each variant's HPA applies its share on its
    // own sync, so the Deployments' spec.replicas can change in another order within a few seconds.
    watcher = (async () => {
      // Both start at 1 replica, before any decision: a first decision seen at 3 is a step 1 -> 3.
      const last = new Map<string, number>([
        [CHEAP, 1],
        [DEAR, 1],
      ]);
      while (watching) {
        for (const d of [CHEAP, DEAR]) {
          const n = (await decisionOf(c.state.scaler.httpUrl, `${NS}/${d}`).catch(() => undefined))?.desiredReplicas;
          const before = last.get(d);
          if (n !== undefined && before !== undefined && n !== before)
            events.push({ deployment: d, from: before, to: n });
          if (n !== undefined) last.set(d, n);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await fleetControl(c.state, '/load', { namespace: NS, deployment: CHEAP, rps: 0 }).catch(() => undefined);
  });

  it('grows the cheap variant first and shrinks the expensive one first', async () => {
    // Both Deployments at 1 replica serve ~16 req/s; 40 req/s needs about 6 (L4 max 3, then H100).
    await fleetControl(c.state, '/load', { namespace: NS, deployment: CHEAP, rps: 40 });
    await waitUntil(
      'the H100 variant to grow after the L4 one is full',
      () => specReplicas(c.kube, NS, DEAR),
      (n) => n >= 2,
      180_000,
      500,
    );
    const ups = events.filter((e) => e.to > e.from);
    expect(ups[0]?.deployment).toBe(CHEAP);
    // The scaler gave the H100 variant replicas only with the L4 one at its max: its decision says 3.
    // The L4 HPA may apply that 3 a sync after the H100 one applied its share, so spec.replicas is
    // waited for, not read now.
    expect((await decisionOf(c.state.scaler.httpUrl, `${NS}/${CHEAP}`))?.desiredReplicas).toBe(3);
    await waitUntil(
      'the L4 variant at its max',
      () => specReplicas(c.kube, NS, CHEAP),
      (n) => n === 3,
      30_000,
      500,
    );
    const mark = events.length;
    await fleetControl(c.state, '/load', { namespace: NS, deployment: CHEAP, rps: 2 });
    await waitUntil(
      'the H100 variant back to 1',
      () => specReplicas(c.kube, NS, DEAR),
      (n) => n === 1,
      240_000,
      500,
    );
    const downs = events.slice(mark).filter((e) => e.to < e.from);
    expect(downs[0]?.deployment).toBe(DEAR);
    // The cheap one shrinks only after the expensive one is at its min.
    const firstCheapDown = downs.findIndex((e) => e.deployment === CHEAP);
    const lastDearDown = downs.map((e) => e.deployment).lastIndexOf(DEAR);
    if (firstCheapDown >= 0) expect(firstCheapDown).toBeGreaterThan(lastDearDown);
  });
});
