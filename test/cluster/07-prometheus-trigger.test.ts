/**
 * Scenario 8 of the issue: the baseline a user would pick, KEDA's built-in `prometheus` trigger on
 * waiting requests (threshold 5, as bench:quality's keda-waiting policy) and on the gateway queue
 * for activation from zero, polled every 15 s (llm-d's KEDA recipe's interval), on the same kind
 * of Deployment as scenarios 2 and 3, with load steps that each exceed what the replicas reached so
 * far can serve (a waiting-requests trigger sees nothing below that). Same two figures: load step →
 * spec.replicas, metric change → spec.replicas, and queueing at zero → spec.replicas = 1.
 */
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
  fleetControl,
  namespace,
  quantile,
  recordFigures,
  specReplicas,
  vllmDeploymentYaml,
  waitUntil,
  type Cluster,
} from './harness/scenario.js';

const NS = 'llm-prom';
const NAME = 'llama-prom';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const WAITING = 5;
const MAX = 8;
/** One replica serves MAX_BATCH requests at once for SERVICE_MS each: 8 req/s. */
const MAX_BATCH = 16;
const SERVICE_MS = 2000;
const PER_REPLICA_RPS = MAX_BATCH / (SERVICE_MS / 1000);

function prometheusScaledObject(prometheusUrl: string, min: number): string {
  const sel = `namespace="${NS}",model_name="${MODEL}"`;
  return stringify({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: NAME, namespace: NS },
    spec: {
      scaleTargetRef: { name: NAME },
      minReplicaCount: min,
      maxReplicaCount: MAX,
      pollingInterval: 15,
      cooldownPeriod: 5,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 0 },
            scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Pods', value: 1, periodSeconds: 5 }] },
          },
        },
      },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: prometheusUrl,
            query: `sum(vllm:num_requests_waiting{${sel}})`,
            threshold: String(WAITING),
          },
        },
        {
          type: 'prometheus',
          metadata: {
            serverAddress: prometheusUrl,
            query: `sum(inference_extension_flow_control_queue_size{namespace="${NS}",target_model_name="${MODEL}"})`,
            threshold: '1',
            activationThreshold: '0',
          },
        },
      ],
    },
  });
}

async function promValue(url: string, query: string): Promise<number | undefined> {
  const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  const v = r.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

describe("scenario 8: KEDA's prometheus trigger as the baseline", () => {
  let c: Cluster;

  beforeAll(async () => {
    c = cluster();
    await namespace(c.kube, NS);
    await c.kube.apply(
      vllmDeploymentYaml({
        namespace: NS,
        name: NAME,
        model: MODEL,
        replicas: 1,
        maxBatch: MAX_BATCH,
        serviceTimeMs: SERVICE_MS,
      }),
    );
    await c.kube.apply(prometheusScaledObject(c.state.prometheusUrl, 1));
    await waitUntil(
      'HPA for the prometheus ScaledObject',
      () => c.kube.getJson(['hpa', `keda-hpa-${NAME}`, '-n', NS]),
      () => true,
      60_000,
      1000,
    );
  });

  afterAll(async () => {
    await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps: 0 }).catch(() => undefined);
  });

  it('follows the same load steps (load step → spec.replicas, metric change → spec.replicas)', async () => {
    // The HPA follows the larger of the two triggers: waiting / 5 and gateway queue / 1.
    const waitingQuery = `sum(vllm:num_requests_waiting{namespace="${NS}",model_name="${MODEL}"})`;
    const gatewayQuery = `sum(inference_extension_flow_control_queue_size{namespace="${NS}",target_model_name="${MODEL}"})`;
    const samples: { t: number; implied: number | undefined; replicas: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [w, g, replicas] = await Promise.all([
          promValue(c.state.prometheusUrl, waitingQuery).catch(() => undefined),
          promValue(c.state.prometheusUrl, gatewayQuery).catch(() => undefined),
          specReplicas(c.kube, NS, NAME).catch(() => -1),
        ]);
        const implied =
          w === undefined || g === undefined
            ? undefined
            : Math.min(MAX, Math.max(1, Math.ceil(w / WAITING), Math.ceil(g)));
        samples.push({ t: Date.now(), implied, replicas });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const stepMs: number[] = [];
    let last = 1;
    // This trigger reads waiting requests only, so a step must offer more than the replicas it has
    // reached can serve, or nothing waits and nothing scales: each step is half a replica over
    // what `last` replicas serve. A burst of waiting requests can take it to max in one step.
    for (let step = 0; step < 3 && last < MAX; step++) {
      const rps = PER_REPLICA_RPS * (last + 0.5);
      const t = Date.now();
      await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps });
      last = await waitUntil(
        `spec.replicas above ${last} at ${rps} req/s`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n > last,
        180_000,
        100,
      );
      stepMs.push(Date.now() - t);
    }
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
    // The metrics ask for another count (value / threshold) → spec.replicas changes.
    const metricToReplicas: number[] = [];
    for (let i = 1; i < samples.length; i++) {
      const prev = samples[i - 1];
      const cur = samples[i];
      if (!prev || !cur || cur.implied === undefined || cur.implied === prev.implied || cur.implied === cur.replicas)
        continue;
      const j = samples.findIndex((s, k) => k > i && s.replicas !== cur.replicas);
      const changed = samples[j];
      if (changed) metricToReplicas.push(changed.t - cur.t);
    }
    recordFigures(c.state, 'scale-prometheus', {
      peakReplicas: last,
      loadStepToReplicasMs: {
        n: stepMs.length,
        p50: quantile(stepMs, 0.5),
        p95: quantile(stepMs, 0.95),
        samplesMs: stepMs,
      },
      metricToReplicasMs: {
        n: metricToReplicas.length,
        p50: quantile(metricToReplicas, 0.5),
        p95: quantile(metricToReplicas, 0.95),
      },
    });
    expect(last).toBeGreaterThanOrEqual(2);
  });

  it('activates from zero on the gateway queue (queueing → spec.replicas = 1)', async () => {
    await c.kube.apply(prometheusScaledObject(c.state.prometheusUrl, 0));
    const wakeMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      await waitUntil(
        `spec.replicas 0 (round ${i + 1})`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n === 0,
        180_000,
        200,
      );
      await new Promise((r) => setTimeout(r, 2000));
      const t = Date.now();
      await fleetControl(c.state, '/gateway', { namespace: NS, model: MODEL, queued: 1 });
      await waitUntil(
        `spec.replicas 1 (round ${i + 1})`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n >= 1,
        60_000,
        50,
      );
      wakeMs.push(Date.now() - t);
    }
    recordFigures(c.state, 'activation-prometheus', {
      n: wakeMs.length,
      p50: quantile(wakeMs, 0.5),
      p95: quantile(wakeMs, 0.95),
      max: Math.max(...wakeMs),
      samplesMs: wakeMs,
    });
    expect(wakeMs.length).toBe(3);
  });
});
