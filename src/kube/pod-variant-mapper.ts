/**
 * Pod -> variant through owner references: Pod -> ReplicaSet -> Deployment -> the registered
 * variant whose `deployment` is that Deployment (same namespace). When the ReplicaSet is not in
 * the cache yet, its name minus the pod's `pod-template-hash` label is the Deployment's name
 * (that is how the Deployment controller names ReplicaSets).
 */
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { PodVariantMapper } from '../collector/pod-variant-mapper.js';
import { controllerOwner, str } from './object-fields.js';

export interface ObjectLookup {
  get(name: string, namespace: string): unknown;
}

/** The collector's PodVariantMapper from the cluster's objects (the tracked model is not needed). */
export class OwnerReferencePodMapper implements PodVariantMapper {
  private byDeployment: Map<string, string> | undefined;

  constructor(
    private readonly pods: ObjectLookup,
    private readonly replicaSets: ObjectLookup,
    private readonly registry: VariantRegistry,
  ) {
    registry.onChange(() => {
      this.byDeployment = undefined;
    });
  }

  variantOf(namespace: string, pod: string): string | undefined {
    const deployment = this.deploymentOf(namespace, pod);
    return deployment === undefined ? undefined : this.index().get(`${namespace}/${deployment}`);
  }

  /** The Deployment owning a pod, or undefined (bare pod, StatefulSet, unknown pod). */
  deploymentOf(namespace: string, pod: string): string | undefined {
    const p = this.pods.get(pod, namespace);
    if (p === undefined) return undefined;
    const rsName = controllerOwner(p, 'ReplicaSet');
    if (rsName === undefined) return undefined;
    const rs = this.replicaSets.get(rsName, namespace);
    if (rs !== undefined) return controllerOwner(rs, 'Deployment');
    const hash = str(p, 'metadata', 'labels', 'pod-template-hash');
    return hash && rsName.endsWith(`-${hash}`) ? rsName.slice(0, -hash.length - 1) : undefined;
  }

  private index(): Map<string, string> {
    if (!this.byDeployment) {
      const m = new Map<string, string>();
      // Sorted so that two variants on one Deployment (a misconfiguration) resolve the same way everywhere.
      for (const v of this.registry.ready().sort((a, b) => (a.key < b.key ? -1 : 1))) {
        const k = `${v.namespace}/${v.deployment}`;
        if (!m.has(k)) m.set(k, v.key);
      }
      this.byDeployment = m;
    }
    return this.byDeployment;
  }
}
