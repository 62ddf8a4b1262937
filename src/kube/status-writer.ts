/**
 * Writes each VariantAutoscaling's `status.desiredOptimizedAlloc` and its `MetricsAvailable` /
 * `OptimizationReady` conditions from the decision cache, with a JSON merge patch on the status
 * subresource. Rules:
 *  - only the leader writes (every replica computes the same decisions);
 *  - only when something meaningful changed since the last write for that VA: the replica count,
 *    the accelerator, or a condition's status or reason. A new `lastRunTime` or a reworded message
 *    alone does not cause a write (an API write per VA per engine cycle would be needless load);
 *  - writes for one VA are serialized; a failed write is forgotten so the next event retries;
 *  - on becoming leader, every VA with a decision is written once (the old leader's view may differ).
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { DecisionCache } from '../cache/decision-cache.js';
import type { DecisionTrigger } from '../cache/decision-trigger.js';
import type { VariantRegistry } from '../cache/variant-registry.js';
import { toDesiredOptimizedAlloc, type Decision, type DesiredOptimizedAlloc } from '../domain/decision.js';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { KUBE_API_CALLS, requireVerb } from './api-calls.js';
import type { LeadershipSource } from '../domain/leadership.js';

export interface StatusCondition {
  readonly type: 'MetricsAvailable' | 'OptimizationReady' | 'GpuCapacity';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface VariantAutoscalingStatusPatch {
  readonly status: {
    readonly desiredOptimizedAlloc: DesiredOptimizedAlloc;
    readonly conditions: readonly StatusCondition[];
  };
}

/** Where merge patches go: the real API in a cluster, a recorder in unit tests. */
export interface StatusPatcher {
  patchStatus(namespace: string, name: string, body: VariantAutoscalingStatusPatch): Promise<void>;
}

export class KubeStatusPatcher implements StatusPatcher {
  private readonly api: CustomObjectsApi;
  constructor(kubeConfig: KubeConfig) {
    requireVerb(KUBE_API_CALLS.variantAutoscalingStatus, 'patch');
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }
  async patchStatus(namespace: string, name: string, body: VariantAutoscalingStatusPatch): Promise<void> {
    const call = KUBE_API_CALLS.variantAutoscalingStatus;
    await this.api.patchNamespacedCustomObjectStatus(
      { group: call.group, version: call.version, namespace, plural: 'variantautoscalings', name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** The conditions a decision implies (pure; lastTransitionTime filled by the caller). */
export function conditionsFor(d: Decision): Omit<StatusCondition, 'lastTransitionTime'>[] {
  const age = d.metricsAgeMs === undefined ? 'no metrics' : `metrics ${Math.round(d.metricsAgeMs / 1000)}s old`;
  const metrics: Omit<StatusCondition, 'lastTransitionTime'> =
    d.freshness === 'fresh'
      ? { type: 'MetricsAvailable', status: 'True', reason: 'MetricsFound', message: `fresh vLLM metrics (${age})` }
      : d.freshness === 'stale'
        ? {
            type: 'MetricsAvailable',
            status: 'True',
            reason: 'MetricsStale',
            message: `stale vLLM metrics (${age}); no scale-down`,
          }
        : {
            type: 'MetricsAvailable',
            status: 'False',
            reason: 'MetricsMissing',
            message: `no usable vLLM metrics for model ${d.modelID} (${age}); holding replicas`,
          };
  const reasons = d.reasons.length > 0 ? d.reasons.join('; ') : 'no change needed';
  const optimization: Omit<StatusCondition, 'lastTransitionTime'> = {
    type: 'OptimizationReady',
    status: 'True',
    reason: 'OptimizationSucceeded',
    message: `desired ${d.desiredReplicas} (current ${d.currentReplicas}): ${reasons}${d.clamp ? ` [${d.clamp}]` : ''}`,
  };
  if (d.gpuShortfall === undefined || d.gpuShortfall <= 0) return [metrics, optimization];
  // Placement could not fit everything the model wanted (inventory, quotas): said while it lasts.
  const shortfall =
    d.reasons.find((r) => r.startsWith('GPU shortfall')) ?? `GPU shortfall: ${d.gpuShortfall} replica(s)`;
  return [metrics, optimization, { type: 'GpuCapacity', status: 'False', reason: 'GpuShortfall', message: shortfall }];
}

/** What decides whether a write is needed: everything but times and messages. */
function significant(p: VariantAutoscalingStatusPatch): string {
  const a = p.status.desiredOptimizedAlloc;
  return JSON.stringify([a.numReplicas, a.accelerator, p.status.conditions.map((c) => [c.type, c.status, c.reason])]);
}

export interface StatusWriterDeps {
  readonly patcher: StatusPatcher;
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly trigger: DecisionTrigger;
  readonly leadership: LeadershipSource;
  readonly metrics: ScalerMetrics;
  readonly logger: Logger;
  /** Whether a VariantAutoscaling of that key exists (default: the registry's variant came from one). */
  readonly hasVariantAutoscaling?: (variantKey: string) => boolean;
}

export class StatusWriter {
  private readonly lastWritten = new Map<string, VariantAutoscalingStatusPatch>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(private readonly deps: StatusWriterDeps) {}

  start(): void {
    this.unsubscribers.push(
      this.deps.trigger.subscribeAll((e) => this.request(e.variantKey)),
      this.deps.leadership.onChange((leader) => {
        this.lastWritten.clear();
        if (leader) this.writeAll();
      }),
      this.deps.registry.onChange((c) => {
        if (c.type === 'removed') this.lastWritten.delete(c.variant.key);
      }),
    );
    if (this.deps.leadership.isLeader()) this.writeAll();
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  /** Resolves when no write is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /** Writes every VariantAutoscaling that has a decision, if changed. */
  writeAll(): void {
    for (const v of this.deps.registry.ready()) if (this.isVA(v.key)) this.request(v.key);
  }

  /** Asks for the status of one variant to be brought up to date. */
  request(variantKey: string): void {
    if (this.inFlight.has(variantKey)) {
      this.dirty.add(variantKey);
      return;
    }
    const p = this.write(variantKey).finally(() => {
      this.inFlight.delete(variantKey);
      if (this.dirty.delete(variantKey)) this.request(variantKey);
    });
    this.inFlight.set(variantKey, p);
  }

  private isVA(variantKey: string): boolean {
    if (this.deps.hasVariantAutoscaling) return this.deps.hasVariantAutoscaling(variantKey);
    return this.deps.registry.get(variantKey)?.source === 'variantautoscaling';
  }

  private async write(variantKey: string): Promise<void> {
    if (!this.deps.leadership.isLeader()) return;
    const variant = this.deps.registry.get(variantKey);
    if (!variant || variant.deleting || !this.isVA(variantKey)) return;
    const decision = this.deps.decisions.get(variantKey);
    if (!decision) return;
    const previous = this.lastWritten.get(variantKey);
    const now = new Date(decision.decidedAt).toISOString();
    const conditions = conditionsFor(decision).map((c): StatusCondition => {
      const before = previous?.status.conditions.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now };
    });
    const body: VariantAutoscalingStatusPatch = {
      status: { desiredOptimizedAlloc: toDesiredOptimizedAlloc(decision), conditions },
    };
    if (previous && significant(previous) === significant(body)) {
      this.deps.metrics.statusPatches.inc({ result: 'unchanged' });
      return;
    }
    try {
      await this.deps.patcher.patchStatus(variant.namespace, variant.name, body);
      this.lastWritten.set(variantKey, body);
      this.deps.metrics.statusPatches.inc({ result: 'ok' });
    } catch (err) {
      this.lastWritten.delete(variantKey);
      this.deps.metrics.statusPatches.inc({ result: 'error' });
      const code = (err as { code?: unknown }).code;
      this.deps.logger.warn(
        { variant: variantKey, code, err: err instanceof Error ? err.message.slice(0, 200) : String(err) },
        'VariantAutoscaling status patch failed',
      );
    }
  }
}
