/**
 * Scenario 11: GPUs that exist. kwok nodes with GPU allocatable and product labels, Deployments
 * requesting `nvidia.com/gpu` pinned to a product, the real scheduler.
 *
 *  1. Spill-over and return: a model with a cheap L4 variant and an expensive H100 variant; a
 *     blocker workload holds half the L4 GPUs. Under rising load the L4 variant fills what is left
 *     and the next replicas go to H100 (counted in engine cycles); no pod stays Pending. The
 *     blocker goes: the model moves back to L4 and H100 shrinks.
 *  2. Counts that lie: the A10G node is tainted (the inventory still counts its GPUs free), new
 *     A10G replicas are Unschedulable; after the bound the variant is full, its replicas move to
 *     the A100 variant and the Unschedulable pods go away.
 *  3. Priority: two models on L40S (one replica each) under a cluster quota of 3 GPUs (WVA v0.9
 *     `limiters:` in the saturation ConfigMap) both want more in the same cycle: the priority-3
 *     model gets the one GPU left, the other is told of its shortfall (reason and metric).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SCALER_NAMESPACE } from './harness/cluster.js';
import {
  cluster,
  decisionOf,
  fleetControl,
  namespace,
  recordFigures,
  scaledObjectYaml,
  specReplicas,
  vllmDeploymentYaml,
  waitUntil,
  type Cluster,
} from './harness/scenario.js';

const ENGINE_INTERVAL_MS = 5000; // chartValues: settings.engineInterval=5s
const CM = 'wva-saturation-scaling-config';

function gpuNodeYaml(name: string, product: string, gpus: number): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'nvidia.com/gpu.product': product,
      },
    },
    status: {
      allocatable: { cpu: '64', memory: '512Gi', pods: '110', 'nvidia.com/gpu': String(gpus) },
      capacity: { cpu: '64', memory: '512Gi', pods: '110', 'nvidia.com/gpu': String(gpus) },
    },
  });
}

/** The fleet's vLLM Deployment, requesting `gpus` and pinned to `product`. */
function gpuDeploymentYaml(o: {
  namespace: string;
  name: string;
  model: string;
  product: string;
  gpus: number;
  replicas: number;
}): string {
  const d = parse(vllmDeploymentYaml({ ...o, gpus: o.gpus })) as {
    spec: { template: { spec: Record<string, unknown> } };
  };
  d.spec.template.spec['nodeSelector'] = { 'nvidia.com/gpu.product': o.product };
  return stringify(d);
}

/** A plain GPU workload that is not a model (it only holds GPUs). */
function blockerYaml(ns: string, name: string, product: string, replicas: number): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          nodeSelector: { 'nvidia.com/gpu.product': product },
          containers: [
            {
              name: 'hold',
              image: 'busybox',
              resources: { limits: { 'nvidia.com/gpu': '1' }, requests: { 'nvidia.com/gpu': '1' } },
            },
          ],
        },
      },
    },
  });
}

interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

async function pods(c: Cluster, ns: string): Promise<PodJson[]> {
  return (await c.kube.getJson<{ items: PodJson[] }>(['pods', '-n', ns])).items;
}

const unschedulable = (p: PodJson): boolean =>
  !p.spec.nodeName && (p.status.conditions ?? []).some((x) => x.type === 'PodScheduled' && x.status === 'False');

async function soOf(c: Cluster, ns: string, name: string, model: string, cost: string, max: number): Promise<void> {
  await c.kube.apply(
    scaledObjectYaml({
      namespace: ns,
      name,
      deployment: name,
      model,
      scalerAddress: c.state.scaler.grpcAddress,
      min: 1,
      max,
      scaleDownWindowS: 5,
      metadata: { variantCost: cost },
    }),
  );
}

async function configMapData(c: Cluster): Promise<Record<string, string>> {
  return (
    (await c.kube.getJson<{ data?: Record<string, string> }>(['configmap', CM, '-n', SCALER_NAMESPACE])).data ?? {}
  );
}

async function setConfigMap(c: Cluster, data: Record<string, string>): Promise<void> {
  // replace, not apply: the chart created it (no last-applied annotation), and keys must go away on restore.
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CM, namespace: SCALER_NAMESPACE }, data };
  await c.kube.kubectl(['replace', '-f', '-'], stringify(cm));
}

describe('scenario 11: placement that fits the GPUs Kubernetes shows', () => {
  let c: Cluster;
  const stop: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = cluster();
    for (const [name, product, gpus] of [
      ['kwok-l4-0', 'NVIDIA-L4', 2],
      ['kwok-l4-1', 'NVIDIA-L4', 2],
      ['kwok-h100-0', 'NVIDIA-H100-80GB-HBM3', 8],
      ['kwok-a10g-0', 'NVIDIA-A10G', 4],
      ['kwok-a100-0', 'NVIDIA-A100-SXM4-80GB', 8],
      ['kwok-l40s-0', 'NVIDIA-L40S', 8],
    ] as const)
      await c.kube.apply(gpuNodeYaml(name, product, gpus));
    await waitUntil(
      'GPU nodes Ready',
      async () =>
        (
          await c.kube.getJson<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>([
            'nodes',
            '-l',
            'nvidia.com/gpu.product',
          ])
        ).items,
      (items) =>
        items.length === 6 &&
        items.every((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')),
      60_000,
      500,
    );
  });

  afterAll(async () => {
    for (const s of stop.reverse()) await s().catch(() => undefined);
  });

  it('spills over to H100 when L4 is full, no pod Pending, and moves back when L4 room returns', async () => {
    const NS = await namespace(c.kube, 'gpu-spill');
    const MODEL = 'Qwen/Qwen3-8B';
    stop.push(() => fleetControl(c.state, '/load', { namespace: NS, deployment: 'qwen-l4', rps: 0 }));
    await c.kube.apply(blockerYaml(NS, 'blocker', 'NVIDIA-L4', 2));
    for (const [name, product, cost] of [
      ['qwen-l4', 'NVIDIA-L4', '5'],
      ['qwen-h100', 'NVIDIA-H100-80GB-HBM3', '30'],
    ] as const) {
      await c.kube.apply(gpuDeploymentYaml({ namespace: NS, name, model: MODEL, product, gpus: 1, replicas: 1 }));
      await soOf(c, NS, name, MODEL, cost, 8);
    }
    await waitUntil(
      'both variants decided',
      () => decisionOf(c.state.scaler.httpUrl, `${NS}/qwen-h100`),
      (d) => d !== undefined,
      120_000,
      500,
    );

    // Sample decisions, Deployments and pods every 500 ms.
    const samples: {
      t: number;
      l4: number;
      h100: number;
      l4Spec: number;
      h100Spec: number;
      unsched: number;
      at: number;
    }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [l4, h100, ps] = await Promise.all([
          decisionOf(c.state.scaler.httpUrl, `${NS}/qwen-l4`),
          decisionOf(c.state.scaler.httpUrl, `${NS}/qwen-h100`),
          pods(c, NS),
        ]).catch(() => [undefined, undefined, []] as const);
        if (l4 && h100)
          samples.push({
            t: Date.now(),
            l4: l4.desiredReplicas,
            h100: h100.desiredReplicas,
            l4Spec: await specReplicas(c.kube, NS, 'qwen-l4').catch(() => -1),
            h100Spec: await specReplicas(c.kube, NS, 'qwen-h100').catch(() => -1),
            unsched: ps.filter(unschedulable).length,
            at: Math.max(l4.decidedAt, h100.decidedAt),
          });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    stop.push(async () => {
      sampling = false;
      await sampler;
    });

    // 2 L4 GPUs left for the model (the blocker holds 2): one replica runs, room for one more.
    await fleetControl(c.state, '/load', { namespace: NS, deployment: 'qwen-l4', rps: 40 });
    await waitUntil(
      'H100 to grow',
      () => specReplicas(c.kube, NS, 'qwen-h100'),
      (n) => n >= 2,
      180_000,
      500,
    );
    // Let the model settle (six engine cycles).
    await new Promise((r) => setTimeout(r, 6 * ENGINE_INTERVAL_MS));
    const fullAt = samples.find((s) => s.l4 >= 2)?.at ?? 0;
    const spillAt = samples.find((s) => s.h100 >= 2)?.at ?? 0;
    const spillCycles = Math.max(0, Math.round((spillAt - fullAt) / ENGINE_INTERVAL_MS));
    const maxL4During = Math.max(...samples.map((s) => s.l4));
    const l4Decision = await decisionOf(c.state.scaler.httpUrl, `${NS}/qwen-l4`);
    const h100Decision = await decisionOf(c.state.scaler.httpUrl, `${NS}/qwen-h100`);
    console.log(
      `spill: L4 ${l4Decision?.desiredReplicas}, H100 ${h100Decision?.desiredReplicas}; reasons ${JSON.stringify(h100Decision?.reasons)}`,
    );
    expect(maxL4During, 'L4 never asked for more than its 2 free GPUs hold').toBeLessThanOrEqual(2);
    expect(spillCycles, 'H100 grows within two engine cycles of L4 filling').toBeLessThanOrEqual(2);
    const pendingBefore = Math.max(...samples.map((s) => s.unsched));
    expect(pendingBefore, 'no pod Pending (Unschedulable) because of a decision').toBe(0);
    const spilled = h100Decision?.desiredReplicas ?? 0;

    // Room returns: the blocker goes; after the hold the model moves back to L4, H100 shrinks.
    const returnStart = Date.now();
    await c.kube.kubectl(['delete', 'deployment', 'blocker', '-n', NS, '--wait=false']);
    await waitUntil(
      'L4 to take replicas back',
      () => specReplicas(c.kube, NS, 'qwen-l4'),
      (n) => n >= 3,
      240_000,
      1000,
    );
    const backAt = Date.now();
    await waitUntil(
      'H100 to shrink',
      () => specReplicas(c.kube, NS, 'qwen-h100'),
      (n) => n < spilled,
      240_000,
      1000,
    );
    const shrunkAt = Date.now();
    const pendingAll = Math.max(...samples.map((s) => s.unsched));
    expect(pendingAll, 'no pod Pending (Unschedulable) at any time').toBe(0);
    recordFigures(c.state, 'gpu-placement-spill', {
      spillOverCycles: spillCycles,
      l4MaxBeforeRoom: maxL4During,
      h100AfterSpill: spilled,
      unschedulablePodsMax: pendingAll,
      returnToL4S: Math.round((backAt - returnStart) / 1000),
      h100ShrinkS: Math.round((shrunkAt - returnStart) / 1000),
      final: { l4: await specReplicas(c.kube, NS, 'qwen-l4'), h100: await specReplicas(c.kube, NS, 'qwen-h100') },
    });
    sampling = false;
    await sampler;
    await fleetControl(c.state, '/load', { namespace: NS, deployment: 'qwen-l4', rps: 0 });
  });

  it('marks a variant whose pods stay Unschedulable full and moves its replicas', async () => {
    const NS = await namespace(c.kube, 'gpu-unsched');
    const MODEL = 'mistralai/Mistral-Small-24B';
    stop.push(() => fleetControl(c.state, '/load', { namespace: NS, deployment: 'mistral-a10g', rps: 0 }));
    for (const [name, product, cost] of [
      ['mistral-a10g', 'NVIDIA-A10G', '3'],
      ['mistral-a100', 'NVIDIA-A100-SXM4-80GB', '20'],
    ] as const) {
      await c.kube.apply(gpuDeploymentYaml({ namespace: NS, name, model: MODEL, product, gpus: 1, replicas: 1 }));
      await soOf(c, NS, name, MODEL, cost, 6);
    }
    await waitUntil(
      'both A10G and A100 replicas Running',
      async () => (await pods(c, NS)).filter((p) => p.status.phase === 'Running').length,
      (n) => n >= 2,
      120_000,
      500,
    );
    // The node's GPUs still count as free, but nothing new lands there.
    await c.kube.kubectl(['taint', 'node', 'kwok-a10g-0', 'gpu=reserved:NoSchedule', '--overwrite']);
    stop.push(async () => {
      await c.kube.kubectl(['taint', 'node', 'kwok-a10g-0', 'gpu-']);
    });
    const t0 = Date.now();
    await fleetControl(c.state, '/load', { namespace: NS, deployment: 'mistral-a10g', rps: 40 });
    const sawUnsched = await waitUntil(
      'A10G pods Unschedulable',
      async () => (await pods(c, NS)).filter(unschedulable).length,
      (n) => n > 0,
      120_000,
      500,
    );
    await waitUntil(
      'A100 to take the replicas',
      () => specReplicas(c.kube, NS, 'mistral-a100'),
      (n) => n >= 2,
      180_000,
      1000,
    );
    await waitUntil(
      'the Unschedulable pods to go away',
      async () => (await pods(c, NS)).filter(unschedulable).length,
      (n) => n === 0,
      120_000,
      1000,
    );
    const clearedAt = Date.now();
    const a10g = await decisionOf(c.state.scaler.httpUrl, `${NS}/mistral-a10g`);
    console.log(`unschedulable: A10G reasons ${JSON.stringify(a10g?.reasons)}`);
    expect(a10g?.desiredReplicas).toBe(1);
    expect(a10g?.reasons.some((r) => r.includes('Unschedulable'))).toBe(true);
    recordFigures(c.state, 'gpu-placement-unschedulable', {
      unschedulablePodsSeen: sawUnsched,
      clearedAfterS: Math.round((clearedAt - t0) / 1000),
      a100: await specReplicas(c.kube, NS, 'mistral-a100'),
      a10g: await specReplicas(c.kube, NS, 'mistral-a10g'),
    });
    await fleetControl(c.state, '/load', { namespace: NS, deployment: 'mistral-a10g', rps: 0 });
  });

  it('shares a quota-capped type by priority and says who got less', async () => {
    const NS = await namespace(c.kube, 'gpu-priority');
    const HIGH = 'acme/high-priority-model';
    const LOW = 'acme/low-priority-model';
    const before = await configMapData(c);
    stop.push(() => setConfigMap(c, before));
    await setConfigMap(c, {
      ...before,
      default: `${before['default'] ?? ''}
limiters:
  - type: quota
    name: l40s-budget
    scope: cluster
    quotas: { NVIDIA-L40S: 3, NVIDIA-L4: -1, NVIDIA-H100-80GB-HBM3: -1, NVIDIA-A10G: -1, NVIDIA-A100-SXM4-80GB: -1 }
`,
      // Not WVA's `<modelID>#<namespace>` keys: the API server refuses `/` and `#` in ConfigMap keys.
      'high-priority': `model_id: ${HIGH}\nnamespace: ${NS}\npriority: 3\n`,
      'low-priority': `model_id: ${LOW}\nnamespace: ${NS}\npriority: 1\n`,
    });
    for (const [name, model] of [
      ['high-l40s', HIGH],
      ['low-l40s', LOW],
    ] as const) {
      stop.push(() => fleetControl(c.state, '/load', { namespace: NS, deployment: name, rps: 0 }));
      await c.kube.apply(
        gpuDeploymentYaml({ namespace: NS, name, model, product: 'NVIDIA-L40S', gpus: 1, replicas: 1 }),
      );
      await soOf(c, NS, name, model, '10', 8);
    }
    await waitUntil(
      'both models decided',
      () => decisionOf(c.state.scaler.httpUrl, `${NS}/low-l40s`),
      (d) => d !== undefined,
      120_000,
      500,
    );
    for (const name of ['high-l40s', 'low-l40s'])
      await fleetControl(c.state, '/load', { namespace: NS, deployment: name, rps: 60 });
    await waitUntil(
      'the L40S quota used up',
      async () => (await specReplicas(c.kube, NS, 'high-l40s')) + (await specReplicas(c.kube, NS, 'low-l40s')),
      (n) => n >= 3,
      180_000,
      1000,
    );
    await new Promise((r) => setTimeout(r, 3 * ENGINE_INTERVAL_MS));
    const high = await specReplicas(c.kube, NS, 'high-l40s');
    const low = await specReplicas(c.kube, NS, 'low-l40s');
    const lowDecision = await decisionOf(c.state.scaler.httpUrl, `${NS}/low-l40s`);
    const metrics = await (await fetch(`${c.state.scaler.httpUrl}/metrics`)).text();
    const shortfall = metrics.split('\n').filter((l) => l.startsWith('wva_scaler_gpu_shortfall') && l.includes(NS));
    console.log(
      `priority: high ${high}, low ${low}; low reasons ${JSON.stringify(lowDecision?.reasons)}; ${shortfall.join(' | ')}`,
    );
    expect(high + low).toBe(3);
    expect(high).toBeGreaterThan(low);
    expect(lowDecision?.reasons.some((r) => r.startsWith('GPU shortfall'))).toBe(true);
    expect(shortfall.some((l) => l.includes(LOW) && !l.endsWith(' 0'))).toBe(true);
    expect((await pods(c, NS)).filter(unschedulable)).toEqual([]);
    recordFigures(c.state, 'gpu-placement-priority', { quota: 3, high, low, shortfall });
  });
});
