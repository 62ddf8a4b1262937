/**
 * Scenario 3: scale to zero and back. Idle with scale-to-zero on → KEDA takes the Deployment to
 * 0; a request queued at the emulated gateway → the scaler's probe sees it → StreamIsActive push →
 * KEDA sets spec.replicas = 1. Measures queueing → spec.replicas = 1 (target p95 < 2 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
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

const NS = 'llm-zero';
const NAME = 'qwen-7b';
const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const WAKES = 4;

describe('scenario 3: scale to zero and back through StreamIsActive', () => {
  let c: Cluster;

  beforeAll(async () => {
    c = cluster();
    await namespace(c.kube, NS);
    await c.kube.apply(
      vllmDeploymentYaml({ namespace: NS, name: NAME, model: MODEL, replicas: 1, serviceTimeMs: 500 }),
    );
    await c.kube.apply(
      scaledObjectYaml({
        namespace: NS,
        name: NAME,
        deployment: NAME,
        model: MODEL,
        scalerAddress: c.state.scaler.grpcAddress,
        min: 0,
        max: 4,
        cooldownS: 5,
        metadata: { scaleToZero: 'true', scaleToZeroRetention: '15s' },
      }),
    );
  });

  afterAll(async () => {
    await fleetControl(c.state, '/load', { namespace: NS, deployment: NAME, rps: 0 }).catch(() => undefined);
  });

  it('goes to zero when idle, and to one within 2 s (p95) of a request queued at the gateway', async () => {
    const wakeMs: number[] = [];
    for (let i = 0; i < WAKES; i++) {
      await waitUntil(
        `spec.replicas 0 (idle, round ${i + 1})`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n === 0,
        120_000,
        200,
      );
      // Let KEDA see the scaler inactive for a moment, as a real idle period would.
      await new Promise((r) => setTimeout(r, 2000));
      const queuedAt = Date.now();
      await fleetControl(c.state, '/gateway', { namespace: NS, model: MODEL, queued: 1 });
      await waitUntil(
        `spec.replicas 1 after a queued request (round ${i + 1})`,
        () => specReplicas(c.kube, NS, NAME),
        (n) => n >= 1,
        30_000,
        50,
      );
      wakeMs.push(Date.now() - queuedAt);
    }
    const figures = {
      n: wakeMs.length,
      p50: quantile(wakeMs, 0.5),
      p95: quantile(wakeMs, 0.95),
      max: Math.max(...wakeMs),
      samplesMs: wakeMs,
    };
    recordFigures(c.state, 'activation-external-push', figures);
    expect(figures.p95).toBeLessThan(2000);
  });
});
