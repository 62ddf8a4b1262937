/**
 * What the scenario tests share: the running cluster (from `up`), vLLM Deployments and the
 * README's ScaledObject applied with kubectl, reads of real objects back from the API server, the
 * scaler's decisions, the fleet's load and gateway controls, and figures for bench/RESULTS.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { percentile } from '../../../bench/lib/results.js';
import { kubeOf, readState, REPO, type ClusterState } from './cluster.js';
import type { Kube } from './kube.js';

export interface Cluster {
  readonly state: ClusterState;
  readonly kube: Kube;
}

export function cluster(): Cluster {
  const state = readState();
  return { state, kube: kubeOf(state) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `read` every intervalMs until `done(value)`; returns the value, or throws naming what and the last value. */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr = '';
  for (;;) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}${lastErr ? `, last error ${lastErr}` : ''}`,
      );
    await sleep(intervalMs);
  }
}

export const MODEL_ANNOTATION = 'wva-scaler.dev/model';

export interface VllmDeploymentSpec {
  readonly namespace: string;
  readonly name: string;
  readonly model: string;
  readonly replicas: number;
  /** Requests per replica at once (default 16) and mean service time (default 2000 ms). */
  readonly maxBatch?: number;
  readonly serviceTimeMs?: number;
  readonly gpus?: number;
}

export function vllmDeploymentYaml(d: VllmDeploymentSpec): string {
  const annotations: Record<string, string> = { [MODEL_ANNOTATION]: d.model };
  if (d.maxBatch !== undefined) annotations['wva-scaler.dev/max-batch'] = String(d.maxBatch);
  if (d.serviceTimeMs !== undefined) annotations['wva-scaler.dev/service-time-ms'] = String(d.serviceTimeMs);
  const resources = d.gpus
    ? { limits: { 'nvidia.com/gpu': String(d.gpus) }, requests: { 'nvidia.com/gpu': String(d.gpus) } }
    : {};
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: d.name, namespace: d.namespace },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { app: d.name } },
      template: {
        metadata: { labels: { app: d.name }, annotations },
        spec: {
          containers: [
            {
              name: 'vllm',
              image: 'vllm/vllm-openai:v0.11.0',
              args: ['--model', d.model],
              env: [{ name: 'SERVED_MODEL_NAME', value: d.model }],
              resources,
            },
          ],
        },
      },
    },
  });
}

type Obj = Record<string, unknown>;

/** The README's ScaledObject (its first `kind: ScaledObject` YAML block), as a user would copy it. */
export function readmeScaledObject(): Obj {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const doc = parseAllDocuments(m[1] ?? '')
      .map((d) => d.toJSON() as Obj)
      .find((o) => o?.kind === 'ScaledObject');
    if (doc) return doc;
  }
  throw new Error('README.md has no ScaledObject YAML block');
}

export interface ScaledObjectOptions {
  readonly namespace: string;
  readonly name: string;
  readonly deployment: string;
  readonly model: string;
  readonly scalerAddress: string;
  readonly min?: number;
  readonly max?: number;
  readonly metadata?: Record<string, string>;
  /** Scale-down stabilization in seconds (the README says 120; tests shorten it). */
  readonly scaleDownWindowS?: number;
  readonly triggerType?: 'external' | 'external-push';
  /** KEDA's cooldownPeriod (default 300 s) before it scales an inactive target to zero. */
  readonly cooldownS?: number;
}

/** The README's ScaledObject pointed at one Deployment and this cluster's scaler. */
export function scaledObjectYaml(o: ScaledObjectOptions): string {
  const so = structuredClone(readmeScaledObject()) as {
    metadata: Obj;
    spec: {
      scaleTargetRef: Obj;
      minReplicaCount?: number;
      maxReplicaCount?: number;
      pollingInterval?: number;
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: Obj } } };
      triggers: { type: string; metadata: Record<string, string> }[];
    };
  };
  so.metadata = { name: o.name, namespace: o.namespace };
  so.spec.scaleTargetRef = { name: o.deployment };
  if (o.min !== undefined) so.spec.minReplicaCount = o.min;
  if (o.max !== undefined) so.spec.maxReplicaCount = o.max;
  if (o.cooldownS !== undefined) (so.spec as Obj).cooldownPeriod = o.cooldownS;
  if (o.scaleDownWindowS !== undefined) {
    so.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown = {
      stabilizationWindowSeconds: o.scaleDownWindowS,
      policies: [{ type: 'Pods', value: 1, periodSeconds: 5 }],
    };
  }
  const trigger = so.spec.triggers[0];
  if (!trigger) throw new Error("README's ScaledObject has no trigger");
  if (o.triggerType) trigger.type = o.triggerType;
  trigger.metadata = { scalerAddress: o.scalerAddress, modelID: o.model, ...o.metadata };
  if (!o.metadata?.accelerator) delete trigger.metadata.accelerator;
  return stringify(so);
}

export async function specReplicas(kube: Kube, namespace: string, name: string): Promise<number> {
  const r = await kube.raw(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
  if (r.status !== 200) throw new Error(`GET deployment ${namespace}/${name}: ${r.status} ${r.body.slice(0, 200)}`);
  return (JSON.parse(r.body) as { spec: { replicas?: number } }).spec.replicas ?? 1;
}

export interface DecisionView {
  readonly variantKey: string;
  readonly desiredReplicas: number;
  readonly currentReplicas: number;
  readonly reasons: readonly string[];
  readonly decidedAt: number;
  readonly freshness: string;
}

export async function decisionOf(httpUrl: string, variantKey: string): Promise<DecisionView | undefined> {
  const res = await fetch(`${httpUrl}/debug/decisions?variant=${encodeURIComponent(variantKey)}`, {
    signal: AbortSignal.timeout(2000),
  });
  const body = (await res.json()) as { decisions: DecisionView[] };
  return body.decisions[0];
}

/** The value KEDA's metrics adapter serves for a ScaledObject's metric through API aggregation. */
export async function externalMetric(
  kube: Kube,
  namespace: string,
  scaledObject: string,
  metric = 's0-wva-desired-replicas',
): Promise<number> {
  const sel = encodeURIComponent(`scaledobject.keda.sh/name=${scaledObject}`);
  const r = await kube.raw(
    `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${metric}?labelSelector=${sel}`,
    10_000,
  );
  if (r.status !== 200) throw new Error(`external metric ${namespace}/${metric}: ${r.status} ${r.body.slice(0, 300)}`);
  const list = JSON.parse(r.body) as { items: { value: string }[] };
  const v = list.items[0]?.value;
  if (v === undefined) throw new Error(`external metric ${namespace}/${metric}: no items`);
  return quantityToNumber(v);
}

/** A Kubernetes quantity as the adapter writes metric values ("3", "2500m", "1k"). */
export function quantityToNumber(q: string): number {
  const m = /^(-?[0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  const scale: Record<string, number> = { '': 1, m: 1e-3, u: 1e-6, n: 1e-9, k: 1e3, M: 1e6, G: 1e9 };
  const f = scale[m[2] ?? ''];
  if (f === undefined) throw new Error(`unknown quantity suffix in ${q}`);
  return Number(m[1]) * f;
}

export async function fleetControl(
  state: ClusterState,
  path: '/load' | '/gateway',
  params: Record<string, string | number>,
): Promise<void> {
  const q = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${state.fleetControlUrl}${path}?${q.toString()}`, { method: 'POST' });
  if (!res.ok) throw new Error(`fleet ${path}: ${res.status} ${await res.text()}`);
}

export function quantile(xs: readonly number[], q: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    q,
  );
}

/** Figures of one scenario, kept next to the cluster's logs and gathered into bench/RESULTS.md. */
export function recordFigures(state: ClusterState, name: string, figures: Record<string, unknown>): void {
  const dir = join(state.dir, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
  console.log(`figures ${name}: ${JSON.stringify(figures)}`);
}

/** Creates a namespace for one scenario (deleted by `down` with the whole cluster). */
export async function namespace(kube: Kube, name: string): Promise<string> {
  await kube.apply(stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  return name;
}
