/**
 * Everything the scaler takes from and gives to the Kubernetes API, behind start()/stop():
 * informers for ScaledObjects and VariantAutoscalings (-> VariantRegistry), Deployments
 * (-> replica counts, spec-change invalidation), Pods and ReplicaSets (-> pod-to-variant mapping),
 * the saturation ConfigMap (-> GlobalConfig); the leader election and the VariantAutoscaling
 * status writer. main.ts builds one when `loadKubeConfig` returns a config.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { DecisionCache } from '../cache/decision-cache.js';
import type { DecisionTrigger } from '../cache/decision-trigger.js';
import type { GlobalConfig } from '../cache/global-config.js';
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { Settings } from '../config/settings.js';
import { AlwaysLeader, type LeadershipSource } from '../domain/leadership.js';
import type { ReplicaStatusSource } from '../engine/replica-status.js';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { KUBE_API_CALLS } from './api-calls.js';
import { DeploymentReplicas } from './deployment-replicas.js';
import { KubeGpuInventory } from './gpu-inventory.js';
import type { GpuInventorySource } from '../domain/gpu.js';
import { leaderIdentity, ownNamespace } from './kube-config.js';
import { refOf } from './object-fields.js';
import { LeaseLeaderElector } from './leader-election.js';
import { OwnerReferencePodMapper } from './pod-variant-mapper.js';
import { ResourceInformer } from './resource-informer.js';
import { SaturationConfigMapHandler } from './saturation-configmap.js';
import { fromEnvDeployment, variantFromScaledObject } from './scaledobject-variant.js';
import { KubeStatusPatcher, StatusWriter, type StatusPatcher } from './status-writer.js';
import { variantFromVariantAutoscaling } from './variantautoscaling-variant.js';
import { VariantSync } from './variant-sync.js';

export type KubeSettings = Pick<
  Settings,
  | 'WATCH_NAMESPACE'
  | 'WVA_SATURATION_CONFIGMAP'
  | 'WVA_CONFIGMAP_NAMESPACE'
  | 'WVA_SCALER_ADDRESS_MATCH'
  | 'WVA_LEADER_ELECTION'
  | 'WVA_GPU_INVENTORY'
  | 'WVA_LEASE_NAME'
  | 'POD_NAME'
  | 'POD_NAMESPACE'
>;

export interface KubernetesHooks {
  /** A Deployment's spec (other than replicas) changed: drop that variant's cached metrics. */
  onDeploymentSpecChange?(variantKey: string): void;
}

export interface KubernetesTuning {
  /** How often every informer's cache is reconciled against its owner (default 5 min). */
  readonly resyncMs?: number;
  /** How long start() waits for the first lists (default 10 s); readiness reports the rest. */
  readonly syncTimeoutMs?: number;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly maxBackoffMs?: number;
  /** Overrides where status patches go (tests). */
  readonly statusPatcher?: StatusPatcher;
  /** Overrides the leader identity (tests run two instances in one process). */
  readonly identity?: string;
}

export interface KubernetesDeps {
  readonly kubeConfig: KubeConfig;
  readonly settings: KubeSettings;
  readonly registry: VariantRegistry;
  readonly globalConfig: GlobalConfig;
  readonly trigger: DecisionTrigger;
  readonly decisions: DecisionCache;
  readonly metrics: ScalerMetrics;
  readonly logger: Logger;
  readonly hooks?: KubernetesHooks;
  readonly tuning?: KubernetesTuning;
}

export class KubernetesIntegration {
  readonly replicaStatus: ReplicaStatusSource;
  readonly podMapper: OwnerReferencePodMapper;
  readonly leadership: LeadershipSource;
  readonly statusWriter: StatusWriter;
  /** Nodes, pods and ResourceQuotas as GPUs (undefined with WVA_GPU_INVENTORY=false). */
  readonly gpuInventory: GpuInventorySource | undefined;
  readonly informers: {
    readonly scaledObjects: ResourceInformer<KubernetesObject>;
    readonly variantAutoscalings: ResourceInformer<KubernetesObject>;
    readonly deployments: ResourceInformer<KubernetesObject>;
    readonly replicaSets: ResourceInformer<KubernetesObject>;
    readonly pods: ResourceInformer<KubernetesObject>;
    readonly configMap: ResourceInformer<KubernetesObject>;
    readonly nodes?: ResourceInformer<KubernetesObject>;
    readonly resourceQuotas?: ResourceInformer<KubernetesObject>;
  };
  private readonly elector: LeaseLeaderElector | undefined;
  private readonly logger: Logger;
  private started = false;

  constructor(private readonly deps: KubernetesDeps) {
    const { kubeConfig, settings, registry, metrics, tuning = {} } = deps;
    this.logger = deps.logger.child({ component: 'kubernetes' });
    const watched = settings.WATCH_NAMESPACE;
    const own = settings.WVA_CONFIGMAP_NAMESPACE ?? ownNamespace(settings);
    const common = { kubeConfig, logger: this.logger, resyncMs: tuning.resyncMs, maxBackoffMs: tuning.maxBackoffMs };
    const onInvalid = (source: string) => () => metrics.configErrors.inc({ source });

    // `<key>FromEnv` resolves against the target Deployment, so a ScaledObject using it is mapped
    // again when that Deployment arrives or changes (see the deployments informer below).
    const deploymentOf = (namespace: string, name: string): unknown => this.informers.deployments.get(name, namespace);
    const soSync = new VariantSync<KubernetesObject>(
      registry,
      'scaledobject',
      (o) => variantFromScaledObject(o, settings.WVA_SCALER_ADDRESS_MATCH, deploymentOf),
      this.logger,
      onInvalid('scaledobject'),
    );
    const vaSync = new VariantSync<KubernetesObject>(
      registry,
      'variantautoscaling',
      (o) => variantFromVariantAutoscaling(o),
      this.logger,
      onInvalid('variantautoscaling'),
      ['scaledobject'],
    );
    const replicas = new DeploymentReplicas<KubernetesObject>(registry, (key) => {
      this.logger.info({ variant: key }, 'deployment spec changed; invalidating cached metrics');
      deps.hooks?.onDeploymentSpecChange?.(key);
    });
    const configMap = new SaturationConfigMapHandler<KubernetesObject>(
      settings.WVA_SATURATION_CONFIGMAP,
      deps.globalConfig,
      metrics,
      this.logger,
    );

    this.informers = {
      scaledObjects: new ResourceInformer(
        { ...common, call: KUBE_API_CALLS.scaledObjects, namespace: watched },
        soSync,
      ),
      variantAutoscalings: new ResourceInformer(
        { ...common, call: KUBE_API_CALLS.variantAutoscalings, namespace: watched },
        vaSync,
      ),
      deployments: new ResourceInformer(
        { ...common, call: KUBE_API_CALLS.deployments, namespace: watched },
        {
          onUpsert: (d) => {
            replicas.onUpsert(d);
            const ref = refOf(d);
            if (!ref) return;
            const id = `${ref.namespace}/${ref.name}`;
            for (const so of this.informers.scaledObjects.list(ref.namespace)) {
              if (fromEnvDeployment(so, settings.WVA_SCALER_ADDRESS_MATCH) === id) soSync.onUpsert(so);
            }
          },
          onDelete: (d) => replicas.onDelete(d),
        },
      ),
      replicaSets: new ResourceInformer({ ...common, call: KUBE_API_CALLS.replicaSets, namespace: watched }, {}),
      pods: new ResourceInformer({ ...common, call: KUBE_API_CALLS.pods, namespace: watched }, {}),
      configMap: new ResourceInformer(
        {
          ...common,
          call: KUBE_API_CALLS.configMaps,
          namespace: own,
          fieldSelector: `metadata.name=${settings.WVA_SATURATION_CONFIGMAP}`,
        },
        configMap,
      ),
      ...(settings.WVA_GPU_INVENTORY
        ? {
            nodes: new ResourceInformer({ ...common, call: KUBE_API_CALLS.nodes, namespace: undefined }, {}),
            resourceQuotas: new ResourceInformer(
              { ...common, call: KUBE_API_CALLS.resourceQuotas, namespace: watched },
              {},
            ),
          }
        : {}),
    };
    replicas.attach(this.informers.deployments);
    this.replicaStatus = replicas;
    this.podMapper = new OwnerReferencePodMapper(this.informers.pods, this.informers.replicaSets, registry);
    const { nodes, resourceQuotas } = this.informers;
    this.gpuInventory =
      nodes && resourceQuotas
        ? new KubeGpuInventory({
            nodes,
            resourceQuotas,
            pods: this.informers.pods,
            deployments: this.informers.deployments,
            registry,
            variantOf: (namespace, pod) => this.podMapper.variantOf(namespace, pod),
          })
        : undefined;

    if (settings.WVA_LEADER_ELECTION) {
      this.elector = new LeaseLeaderElector(
        kubeConfig,
        {
          namespace: ownNamespace(settings),
          name: settings.WVA_LEASE_NAME,
          identity: tuning.identity ?? leaderIdentity(settings),
          leaseDurationMs: tuning.leaseDurationMs,
          renewDeadlineMs: tuning.renewDeadlineMs,
          retryPeriodMs: tuning.retryPeriodMs,
        },
        this.logger,
      );
      this.elector.onChange((leader) => metrics.leader.set(leader ? 1 : 0));
      this.leadership = this.elector;
    } else {
      this.leadership = new AlwaysLeader();
      metrics.leader.set(1);
    }
    this.statusWriter = new StatusWriter({
      patcher: tuning.statusPatcher ?? new KubeStatusPatcher(kubeConfig),
      registry,
      decisions: deps.decisions,
      trigger: deps.trigger,
      leadership: this.leadership,
      metrics,
      logger: this.logger,
      hasVariantAutoscaling: (key) => {
        const slash = key.indexOf('/');
        return this.informers.variantAutoscalings.get(key.slice(slash + 1), key.slice(0, slash)) !== undefined;
      },
    });
  }

  /** Starts every informer, waits (bounded) for their first lists, then the election and the status writer. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const all = Object.values(this.informers).filter((i) => i !== undefined);
    for (const i of all) i.start();
    const timeout = this.deps.tuning?.syncTimeoutMs ?? 10_000;
    const synced = await Promise.all(all.map((i) => i.waitForSync(timeout)));
    const missing = all.filter((_, n) => !synced[n]).map((i) => i.resource);
    if (missing.length > 0)
      this.logger.warn(
        { resources: missing, timeoutMs: timeout },
        'not yet listed; continuing (is the CRD installed and the RBAC granted?)',
      );
    this.logger.info(
      { variants: this.deps.registry.size, namespace: this.deps.settings.WATCH_NAMESPACE ?? '(all)' },
      'kubernetes informers started',
    );
    this.elector?.start();
    this.statusWriter.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.statusWriter.stop();
    await this.statusWriter.idle();
    await this.elector?.stop();
    await Promise.all(
      Object.values(this.informers)
        .filter((i) => i !== undefined)
        .map((i) => i.stop()),
    );
  }

  /** True once the variant sources have been listed (for /readyz). */
  ready(): boolean {
    return this.informers.scaledObjects.synced || this.informers.variantAutoscalings.synced;
  }

  /** Reconciles every informer's owner against its whole cache now (also on a timer). */
  resync(): void {
    for (const i of Object.values(this.informers)) i?.resync();
  }
}
