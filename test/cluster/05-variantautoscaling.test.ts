/**
 * Scenario 5: a WVA VariantAutoscaling resource (the repository's example, pointed at a
 * Deployment here). The leader writes status.desiredOptimizedAlloc and the MetricsAvailable /
 * OptimizationReady conditions through the chart's RBAC (its ServiceAccount token).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './harness/cluster.js';
import { cluster, decisionOf, namespace, vllmDeploymentYaml, waitUntil, type Cluster } from './harness/scenario.js';

interface Va {
  metadata: { name: string; namespace: string };
  spec: { modelID: string; scaleTargetRef: { name: string } };
  status?: {
    desiredOptimizedAlloc?: { numReplicas: number; accelerator: string; lastRunTime: string };
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

describe('scenario 5: VariantAutoscaling status written by the leader', () => {
  let c: Cluster;
  let va: Va;

  beforeAll(async () => {
    c = cluster();
    va = parse(readFileSync(join(REPO, 'deploy/examples/variantautoscaling.yaml'), 'utf8')) as Va;
    va.metadata.namespace = await namespace(c.kube, 'llm-va');
    await c.kube.apply(
      vllmDeploymentYaml({
        namespace: va.metadata.namespace,
        name: va.spec.scaleTargetRef.name,
        model: va.spec.modelID,
        replicas: 2,
      }),
    );
    await c.kube.apply(stringify(va));
  });

  it('writes desiredOptimizedAlloc equal to the decision, and the conditions', async () => {
    const key = `${va.metadata.namespace}/${va.metadata.name}`;
    const got = await waitUntil(
      'VariantAutoscaling status',
      () => c.kube.getJson<Va>(['variantautoscalings.llmd.ai', va.metadata.name, '-n', va.metadata.namespace]),
      (v) =>
        v.status?.desiredOptimizedAlloc !== undefined &&
        (v.status.conditions ?? []).some((x) => x.type === 'OptimizationReady' && x.status === 'True'),
      60_000,
      1000,
    );
    const decision = await decisionOf(c.state.scaler.httpUrl, key);
    expect(decision).toBeDefined();
    expect(got.status?.desiredOptimizedAlloc?.numReplicas).toBe(decision?.desiredReplicas);
    expect(got.status?.desiredOptimizedAlloc?.accelerator).toBe('A100');
    expect(got.status?.conditions?.find((x) => x.type === 'MetricsAvailable')?.status).toBe('True');
  });
});
