/**
 * GPUs that exist: what the Kubernetes API shows of accelerator capacity, as one immutable
 * snapshot per engine cycle, and the operator's GPU caps. The kube layer builds the snapshot from
 * its informers (src/kube/gpu-inventory.ts); the engine's placement stage (src/engine/placement.ts)
 * reads it and never does I/O. Without Kubernetes there is no snapshot and decisions are placed
 * as before (cheapest variant below its max).
 *
 * The quota shapes are WVA v0.9's `limiters:` entries (llm-d WVA
 * docs/developer-guide/quota-limiter.md and saturation-scaling-config.md, section "limiters"):
 * a `quota` entry of scope `cluster` caps GPUs per accelerator type, one of scope `namespace`
 * caps them per namespace (`default` = the per-namespace fallback, `exclude` = pass through);
 * `-1` is unlimited, `0` or a missing type is denied.
 */

/** Extended resources that count as GPUs, and the node label naming each one's product. */
export const GPU_RESOURCES = ['nvidia.com/gpu', 'amd.com/gpu'] as const;
export type GpuResource = (typeof GPU_RESOURCES)[number];
export const GPU_PRODUCT_LABELS: Readonly<Record<GpuResource, string>> = {
  'nvidia.com/gpu': 'nvidia.com/gpu.product',
  'amd.com/gpu': 'amd.com/gpu.product-name',
};

/** One accelerator type (a node product label value, e.g. `NVIDIA-L4`) as the cluster shows it now. */
export interface GpuTypeInventory {
  readonly type: string;
  readonly resource: GpuResource;
  /** Allocatable GPUs of the type over schedulable nodes. */
  readonly allocatable: number;
  /**
   * Free GPUs per node: allocatable minus the requests of pods bound there, minus the requests of
   * pending pods of this type placed first-fit (they will land before any replica asked for now).
   */
  readonly nodeFree: readonly number[];
  /** GPUs requested by live pods of the type (bound, or pending for it): quota usage. */
  readonly used: number;
  readonly usedByNamespace: ReadonlyMap<string, number>;
}

/** What one variant needs per replica, from its Deployment's pod template. */
export interface VariantGpu {
  /** Accelerator type its replicas run on; undefined when it cannot be told (not limited by type). */
  readonly type: string | undefined;
  readonly resource: GpuResource | undefined;
  /** GPUs one replica requests; 0 = none (the variant is not limited by GPUs). */
  readonly gpusPerReplica: number;
  /** Replicas Unschedulable longer than the bound (their pods exist but fit nowhere). */
  readonly unschedulable: number;
  /** Set while the variant counts as full (Unschedulable pods now, or within the hold after them). */
  readonly fullReason: string | undefined;
}

/** A namespace's ResourceQuota on GPU requests: the room left (the tightest quota when several). */
export interface NamespaceGpuQuota {
  readonly resource: GpuResource;
  readonly hard: number;
  readonly room: number;
  readonly name: string;
}

export interface GpuInventory {
  readonly types: ReadonlyMap<string, GpuTypeInventory>;
  /** By variant key; a variant missing here is not limited (its Deployment is not seen yet). */
  readonly variants: ReadonlyMap<string, VariantGpu>;
  /** By namespace, then resource. */
  readonly namespaceQuotas: ReadonlyMap<string, ReadonlyMap<GpuResource, NamespaceGpuQuota>>;
}

/** The kube layer's view, read once per engine cycle. Undefined: nothing listed yet. */
export interface GpuInventorySource {
  snapshot(now: number): GpuInventory | undefined;
}

/** `-1` in a quota: no cap (WVA's, and Kubernetes', convention). */
export const UNLIMITED = -1;

export interface ClusterQuota {
  readonly name: string;
  readonly scope: 'cluster';
  /** Accelerator type -> GPUs (-1 unlimited, 0 denied); a type not listed is denied. */
  readonly quotas: ReadonlyMap<string, number>;
}

export interface NamespaceQuota {
  readonly name: string;
  readonly scope: 'namespace';
  /** Namespace (or `default`, the fallback for unlisted ones) -> type -> GPUs. */
  readonly namespaceQuotas: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly exclude: ReadonlySet<string>;
}

export type QuotaLimiter = ClusterQuota | NamespaceQuota;

/** The saturation ConfigMap's `enableLimiter` and `limiters:` (default entry only). */
export interface LimiterConfig {
  /** false = decisions ignore GPUs (WVA's `enableLimiter: false`). */
  readonly enabled: boolean;
  readonly quotas: readonly QuotaLimiter[];
}

export const DEFAULT_LIMITER_CONFIG: LimiterConfig = Object.freeze({ enabled: true, quotas: [] });

/** WVA's `priority` default: every model weighs the same. */
export const DEFAULT_PRIORITY = 1;

/**
 * A namespace-scope quota's cap for (namespace, type): undefined = this entry does not limit it
 * (excluded namespace), a number (maybe -1) otherwise. WVA's lookup rules: a listed namespace is a
 * closed allowlist (an unlisted type is denied), an unlisted one gets its own copy of `default`,
 * and with no `default` it is denied.
 */
export function namespaceCap(q: NamespaceQuota, namespace: string, type: string): number | undefined {
  if (q.exclude.has(namespace)) return undefined;
  const own = q.namespaceQuotas.get(namespace) ?? q.namespaceQuotas.get('default');
  return own?.get(type) ?? 0;
}

/** How many replicas needing `gpus` each fit in these per-node free counts. */
export function replicasThatFit(nodeFree: readonly number[], gpus: number): number {
  if (gpus <= 0) return Infinity;
  let n = 0;
  for (const f of nodeFree) if (f >= gpus) n += Math.floor(f / gpus);
  return n;
}
