/**
 * Scenario 2: a vLLM Deployment and the README's ScaledObject (external-push). KEDA creates the
 * HPA; the metric read through API aggregation equals the scaler's decision; on load steps the
 * Deployment's spec.replicas follows up and back down. Measures decision change → spec.replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
  decisionOf,
  externalMetric,
  fleetControl,
  namespace,
  quantile,
  recordFigures,
  scaledObjectYaml,
  specReplicas,
  vllmDeploymentYaml,
  waitUntil,
  type Cluster,
} from './harness/scenario.js';

const NS = 'llm';
const NAME = 'llama-8b';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const KEY = `${NS}/${NAME}`;

interface Sample {
  readonly t: number;
  readonly desired: number | undefined;
  readonly replicas: number;
}

/** decision change → spec.replicas equal to it (ms), for every change the HPA followed before the next one. */
export function followLatencies(samples: readonly Sample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1];
    const cur = samples[i];
    if (!prev || !cur || cur.desired === undefined || cur.desired === prev.desired || cur.desired === cur.replicas)
      continue;
    for (let j = i + 1; j < samples.length; j++) {
      const s = samples[j];
      if (!s || s.desired !== cur.desired) break;
      if (s.replicas === cur.desired) {
        out.push(s.t - cur.t);
        break;
      }
    }
  }
  return out;
}

describe('scenario 2: the README ScaledObject scales a vLLM Deployment through real KEDA and HPA', () => {
  let c: Cluster;
  const samples: Sample[] = [];
  let sampling = true;
  let sampler: Promise<void> | undefined;

  beforeAll(async () => {
    c = cluster();
    await namespace(c.kube, NS);
    await c.kube.apply(vllmDeploymentYaml({ namespace: NS, name: NAME, model: MODEL, replicas: 1 }));
    await c.kube.apply(
      scaledObjectYaml({
        namespace: NS,
        name: NAME,
        deployment: NAME,
        model: MODEL,
        scalerAddress: c.state.scaler.grpcAddress,
        min: 1,
        max: 8,
        scaleDownWindowS: 10,
      }),
    );
  });

  afterAll(async () => {
    sampling = false;
    await sampler;
    await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps: 0 }).catch(() => undefined);
  });

  it('KEDA creates the HPA for the ScaledObject, targeting the scaler metric', async () => {
    const hpa = await waitUntil(
      'HPA keda-hpa-llama-8b',
      () =>
        c.kube.getJson<{
          spec: {
            metrics: { external: { metric: { name: string }; target: { type: string; averageValue?: string } } }[];
          };
        }>(['hpa', `keda-hpa-${NAME}`, '-n', NS]),
      () => true,
      60_000,
      1000,
    );
    const ext = hpa.spec.metrics[0]?.external;
    expect(ext?.metric.name).toBe('s0-wva-desired-replicas');
    expect(ext?.target).toMatchObject({ type: 'AverageValue', averageValue: '1' });
  });

  it('the metric read through aggregation equals the scaler decision', async () => {
    await waitUntil(
      'a fresh decision',
      () => decisionOf(c.state.scaler.httpUrl, KEY),
      (d) => d?.freshness === 'fresh',
      60_000,
      500,
    );
    // Decisions change only on a new cycle: bracket the read between two equal decisions.
    await waitUntil(
      'external metric == decision',
      async () => {
        const before = await decisionOf(c.state.scaler.httpUrl, KEY);
        const metric = await externalMetric(c.kube, NS, NAME);
        const after = await decisionOf(c.state.scaler.httpUrl, KEY);
        return { before: before?.desiredReplicas, metric, after: after?.desiredReplicas };
      },
      (v) => v.before === v.after && v.metric === v.before,
      30_000,
      500,
    );
  });

  it('spec.replicas follows the load up and back down', async () => {
    sampler = (async () => {
      while (sampling) {
        const [d, replicas] = await Promise.all([
          decisionOf(c.state.scaler.httpUrl, KEY).catch(() => undefined),
          specReplicas(c.kube, NS, NAME).catch(() => -1),
        ]);
        samples.push({ t: Date.now(), desired: d?.desiredReplicas, replicas });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // One replica serves about 8 req/s (16 at once, 2 s each): each step needs more replicas.
    let last = 1;
    const stepMs: number[] = [];
    for (const rps of [10, 20, 30]) {
      const t = Date.now();
      await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps });
      last = await waitUntil(
        `spec.replicas above ${last} at ${rps} req/s`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n > last,
        120_000,
        100,
      );
      stepMs.push(Date.now() - t);
    }
    const peak = last;
    await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps: 1 });
    await waitUntil(
      'spec.replicas back to 1',
      () => specReplicas(c.kube, NS, NAME),
      (n) => n === 1,
      240_000,
      500,
    );
    sampling = false;
    await sampler;
    const lat = followLatencies(samples);
    recordFigures(c.state, 'scale-external-push', {
      peakReplicas: peak,
      loadStepToReplicasMs: {
        n: stepMs.length,
        p50: quantile(stepMs, 0.5),
        p95: quantile(stepMs, 0.95),
        samplesMs: stepMs,
      },
      decisionToReplicasMs: { n: lat.length, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: Math.max(...lat) },
    });
    expect(peak).toBeGreaterThanOrEqual(3);
    expect(lat.length).toBeGreaterThanOrEqual(3);
  });
});
