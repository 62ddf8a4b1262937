/**
 * The GPU inventory from the informer caches (Nodes, Pods, Deployments, ResourceQuotas; no
 * polling of the API): one GpuInventory snapshot per engine cycle (domain/gpu.ts).
 *
 *  - A type is a node product label value (`nvidia.com/gpu.product`, `amd.com/gpu.product-name`)
 *    on schedulable nodes with allocatable `nvidia.com/gpu` / `amd.com/gpu`. Free per node =
 *    allocatable minus the GPU requests of live pods bound there; pending pods that are not
 *    Unschedulable are then placed first-fit (the scheduler will put them there first).
 *  - A variant's GPUs per replica are its Deployment pod template's requests (limits where an
 *    extended resource gives only limits). Its type: the template's nodeSelector (or a required
 *    node affinity with one value) on the product label, else its `accelerator` name matched to a
 *    product label (`L4` matches `NVIDIA-L4`, `H100` matches `NVIDIA-H100-80GB-HBM3`).
 *  - A variant with pods Unschedulable for longer than `unschedulableAfterMs` is full (counts can
 *    lie: fragmentation, taints, CPU); it stays full `fullHoldMs` after the last such pod
 *    scheduled or went away, so its replicas do not bounce straight back.
 *  - ResourceQuotas with `requests.nvidia.com/gpu` (or amd) give each namespace's room: hard minus
 *    used, the tightest when there are several.
 * With WATCH_NAMESPACE set, pods of other namespaces are not seen: their GPUs look free, and the
 * Unschedulable signal is what catches it.
 */
import type { VariantRegistry } from '../cache/variant-registry.js';
import {
  GPU_PRODUCT_LABELS,
  GPU_RESOURCES,
  type GpuInventory,
  type GpuInventorySource,
  type GpuResource,
  type GpuTypeInventory,
  type NamespaceGpuQuota,
  type VariantGpu,
} from '../domain/gpu.js';
import type { Variant } from '../domain/variant.js';
import { asRecord, field, str } from './object-fields.js';

export interface ObjectList {
  list(namespace?: string): readonly unknown[];
}
export interface ObjectGet {
  get(name: string, namespace: string): unknown;
}

export interface GpuInventoryDeps {
  readonly nodes: ObjectList;
  readonly pods: ObjectList;
  readonly deployments: ObjectGet;
  readonly resourceQuotas: ObjectList;
  readonly registry: VariantRegistry;
  /** Pod -> variant key (owner references). */
  readonly variantOf: (namespace: string, pod: string) => string | undefined;
  /** Pods Unschedulable longer than this mark their variant full (default 20 s). */
  readonly unschedulableAfterMs?: number;
  /** How long a variant stays full after its last long-Unschedulable pod (default 60 s). */
  readonly fullHoldMs?: number;
}

export const UNSCHEDULABLE_AFTER_MS = 20_000;
export const FULL_HOLD_MS = 60_000;

/** A Kubernetes quantity of whole devices ("2", "2000m"); undefined when it is not one. */
export function deviceQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? Math.floor(q) : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^\s*(\d+)(m?)\s*$/.exec(q);
  if (!m) return undefined;
  return m[2] === 'm' ? Math.floor(Number(m[1]) / 1000) : Number(m[1]);
}

/** GPUs a pod spec requests (requests, else limits, summed over containers), and which resource. */
export function podSpecGpus(spec: unknown): { resource: GpuResource; count: number } | undefined {
  const containers = field(spec, 'containers');
  if (!Array.isArray(containers)) return undefined;
  for (const resource of GPU_RESOURCES) {
    let count = 0;
    for (const c of containers as unknown[]) {
      const req = asRecord(field(c, 'resources', 'requests'))?.[resource];
      const lim = asRecord(field(c, 'resources', 'limits'))?.[resource];
      count += deviceQuantity(req ?? lim) ?? 0;
    }
    if (count > 0) return { resource, count };
  }
  return undefined;
}

/** The product a pod spec pins: nodeSelector, or a required node affinity `In` with one value. */
export function pinnedProduct(spec: unknown): string | undefined {
  const selector = asRecord(field(spec, 'nodeSelector'));
  for (const label of Object.values(GPU_PRODUCT_LABELS)) {
    const v = selector?.[label];
    if (typeof v === 'string' && v !== '') return v;
  }
  const terms = field(
    spec,
    'affinity',
    'nodeAffinity',
    'requiredDuringSchedulingIgnoredDuringExecution',
    'nodeSelectorTerms',
  );
  if (!Array.isArray(terms) || terms.length !== 1) return undefined;
  const exprs = field(terms[0], 'matchExpressions');
  if (!Array.isArray(exprs)) return undefined;
  for (const e of exprs as unknown[]) {
    const key = str(e, 'key');
    const values = field(e, 'values');
    if (
      key !== undefined &&
      Object.values(GPU_PRODUCT_LABELS).includes(key) &&
      str(e, 'operator') === 'In' &&
      Array.isArray(values) &&
      values.length === 1 &&
      typeof values[0] === 'string'
    )
      return values[0];
  }
  return undefined;
}

/** Whether a variant's accelerator name means this product label value (case-insensitive, by token). */
export function acceleratorMatches(accelerator: string, product: string): boolean {
  const a = accelerator.trim().toUpperCase();
  const p = product.toUpperCase();
  if (a === '') return false;
  if (a === p) return true;
  const tokens = p.split(/[-_ ]+/);
  const at = a.split(/[-_ ]+/);
  // Every token of the accelerator name appears in order in the product's tokens.
  let i = 0;
  for (const t of tokens) if (t === at[i]) i++;
  return i === at.length;
}

interface NodeGpus {
  readonly name: string;
  readonly type: string;
  readonly resource: GpuResource;
  readonly allocatable: number;
}

export function nodeGpus(node: unknown): NodeGpus | undefined {
  const name = str(node, 'metadata', 'name');
  if (!name || field(node, 'spec', 'unschedulable') === true) return undefined;
  const ready = field(node, 'status', 'conditions');
  if (Array.isArray(ready)) {
    const r = (ready as unknown[]).find((c) => str(c, 'type') === 'Ready');
    if (r !== undefined && str(r, 'status') !== 'True') return undefined;
  }
  const allocatable = asRecord(field(node, 'status', 'allocatable'));
  for (const resource of GPU_RESOURCES) {
    const n = deviceQuantity(allocatable?.[resource]);
    const type = str(node, 'metadata', 'labels', GPU_PRODUCT_LABELS[resource]);
    if (n !== undefined && n > 0 && type) return { name, type, resource, allocatable: n };
  }
  return undefined;
}

/** Since when a pod has been Unschedulable (epoch ms), or undefined. */
export function unschedulableSince(pod: unknown): number | undefined {
  if (str(pod, 'spec', 'nodeName')) return undefined;
  const conditions = field(pod, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  for (const c of conditions as unknown[]) {
    if (str(c, 'type') === 'PodScheduled' && str(c, 'status') === 'False' && str(c, 'reason') === 'Unschedulable') {
      const t = Date.parse(str(c, 'lastTransitionTime') ?? '');
      return Number.isFinite(t) ? t : 0;
    }
  }
  return undefined;
}

const live = (pod: unknown): boolean => {
  const phase = str(pod, 'status', 'phase');
  return phase !== 'Succeeded' && phase !== 'Failed';
};

export class KubeGpuInventory implements GpuInventorySource {
  private readonly fullUntil = new Map<string, { until: number; why: string }>();

  constructor(private readonly deps: GpuInventoryDeps) {}

  snapshot(now: number): GpuInventory {
    const afterMs = this.deps.unschedulableAfterMs ?? UNSCHEDULABLE_AFTER_MS;
    const holdMs = this.deps.fullHoldMs ?? FULL_HOLD_MS;
    const nodes = new Map<string, NodeGpus & { free: number }>();
    for (const n of this.deps.nodes.list()) {
      const g = nodeGpus(n);
      if (g) nodes.set(g.name, { ...g, free: g.allocatable });
    }
    const productTypes = new Set([...nodes.values()].map((n) => n.type));
    const variants = this.variantGpus(productTypes);
    const used = new Map<string, number>();
    const usedNs = new Map<string, Map<string, number>>();
    const count = (type: string, namespace: string, g: number): void => {
      used.set(type, (used.get(type) ?? 0) + g);
      let m = usedNs.get(type);
      if (!m) usedNs.set(type, (m = new Map<string, number>()));
      m.set(namespace, (m.get(namespace) ?? 0) + g);
    };
    const pending: { type: string; gpus: number; created: string }[] = [];
    const unschedulable = new Map<string, number>();
    for (const pod of this.deps.pods.list()) {
      if (!live(pod)) continue;
      const namespace = str(pod, 'metadata', 'namespace') ?? '';
      const gpus = podSpecGpus(field(pod, 'spec'));
      const nodeName = str(pod, 'spec', 'nodeName');
      if (nodeName) {
        const node = nodes.get(nodeName);
        if (node && gpus && gpus.resource === node.resource) {
          node.free -= gpus.count;
          count(node.type, namespace, gpus.count);
        }
        continue;
      }
      const name = str(pod, 'metadata', 'name') ?? '';
      const variantKey = this.deps.variantOf(namespace, name);
      const since = unschedulableSince(pod);
      if (variantKey !== undefined && since !== undefined && now - since >= afterMs)
        unschedulable.set(variantKey, (unschedulable.get(variantKey) ?? 0) + 1);
      if (!gpus) continue;
      const type =
        pinnedProduct(field(pod, 'spec')) ?? (variantKey === undefined ? undefined : variants.get(variantKey)?.type);
      if (type === undefined) continue;
      count(type, namespace, gpus.count);
      if (since === undefined)
        pending.push({ type, gpus: gpus.count, created: str(pod, 'metadata', 'creationTimestamp') ?? '' });
    }
    const byType = new Map<string, (NodeGpus & { free: number })[]>();
    for (const n of [...nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const list = byType.get(n.type);
      if (list) list.push(n);
      else byType.set(n.type, [n]);
    }
    for (const p of pending.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0))) {
      const node = byType.get(p.type)?.find((n) => n.free >= p.gpus);
      if (node) node.free -= p.gpus;
    }
    const types = new Map<string, GpuTypeInventory>();
    for (const [type, list] of byType) {
      types.set(type, {
        type,
        resource: (list[0] as NodeGpus).resource,
        allocatable: list.reduce((s, n) => s + n.allocatable, 0),
        nodeFree: list.map((n) => Math.max(0, n.free)),
        used: used.get(type) ?? 0,
        usedByNamespace: usedNs.get(type) ?? new Map(),
      });
    }
    return { types, variants: this.withFull(variants, unschedulable, now, holdMs), namespaceQuotas: this.quotas() };
  }

  /** Per-replica GPUs and type of every registered variant whose Deployment is in the cache. */
  private variantGpus(productTypes: ReadonlySet<string>): Map<string, VariantGpu> {
    const out = new Map<string, VariantGpu>();
    for (const v of this.deps.registry.ready()) {
      const d = this.deps.deployments.get(v.deployment, v.namespace);
      if (d === undefined) continue;
      const spec = field(d, 'spec', 'template', 'spec');
      const gpus = podSpecGpus(spec);
      out.set(v.key, {
        type: gpus ? variantType(v, spec, productTypes) : undefined,
        resource: gpus?.resource,
        gpusPerReplica: gpus?.count ?? 0,
        unschedulable: 0,
        fullReason: undefined,
      });
    }
    return out;
  }

  private withFull(
    variants: Map<string, VariantGpu>,
    unschedulable: ReadonlyMap<string, number>,
    now: number,
    holdMs: number,
  ): Map<string, VariantGpu> {
    for (const [key, vg] of variants) {
      const n = unschedulable.get(key) ?? 0;
      if (n > 0) {
        const bound = Math.round((this.deps.unschedulableAfterMs ?? UNSCHEDULABLE_AFTER_MS) / 1000);
        const why = `${n} pod(s) Unschedulable for over ${bound}s: variant full`;
        this.fullUntil.set(key, { until: now + holdMs, why });
        variants.set(key, { ...vg, unschedulable: n, fullReason: why });
        continue;
      }
      const full = this.fullUntil.get(key);
      if (full && now < full.until)
        variants.set(key, {
          ...vg,
          fullReason: `full: pods were Unschedulable ${Math.round((holdMs - (full.until - now)) / 1000)}s ago (held ${holdMs / 1000}s)`,
        });
      else if (full) this.fullUntil.delete(key);
    }
    return variants;
  }

  private quotas(): Map<string, Map<GpuResource, NamespaceGpuQuota>> {
    const out = new Map<string, Map<GpuResource, NamespaceGpuQuota>>();
    for (const rq of this.deps.resourceQuotas.list()) {
      const namespace = str(rq, 'metadata', 'namespace');
      const name = str(rq, 'metadata', 'name') ?? '';
      if (!namespace) continue;
      for (const resource of GPU_RESOURCES) {
        const key = `requests.${resource}`;
        const hard = deviceQuantity(
          asRecord(field(rq, 'status', 'hard'))?.[key] ?? asRecord(field(rq, 'spec', 'hard'))?.[key],
        );
        if (hard === undefined) continue;
        const usedNow = deviceQuantity(asRecord(field(rq, 'status', 'used'))?.[key]) ?? 0;
        let m = out.get(namespace);
        if (!m) out.set(namespace, (m = new Map<GpuResource, NamespaceGpuQuota>()));
        const before = m.get(resource);
        const room = hard - usedNow;
        if (!before || room < before.room) m.set(resource, { resource, hard, room, name });
      }
    }
    return out;
  }
}

/** A variant's accelerator type: pinned by its template, else its accelerator name matched to a product seen. */
export function variantType(v: Variant, spec: unknown, productTypes: ReadonlySet<string>): string | undefined {
  const pinned = pinnedProduct(spec);
  if (pinned !== undefined) return pinned;
  if (v.accelerator === undefined) return productTypes.size === 1 ? [...productTypes][0] : undefined;
  const matches = [...productTypes].filter((p) => acceleratorMatches(v.accelerator ?? '', p));
  // No node of that product at all: the type is the name itself (placement: "no L4 node").
  return matches.length === 1 ? matches[0] : matches.length === 0 ? v.accelerator : undefined;
}
