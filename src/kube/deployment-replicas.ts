/**
 * Deployments of registered variants, from the Deployment informer:
 *  - ReplicaStatusSource for the engine: `current` = spec.replicas (what the HPA last asked for,
 *    so replicas still being created count as pending capacity), else status.replicas;
 *    `ready` = status.readyReplicas.
 *  - a change of the Deployment's spec other than `replicas` (new image, new args, new resources)
 *    calls `onSpecChange(variantKey)` for each variant on it, so cached metrics of the old pods
 *    are dropped. Scaling alone is not a spec change here: the HPA scales all the time and the
 *    metrics of the remaining pods stay valid.
 */
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { Variant } from '../domain/variant.js';
import type { ReplicaStatus, ReplicaStatusSource } from '../engine/replica-status.js';
import { field, int, refOf } from './object-fields.js';
import type { InformerHandlers } from './resource-informer.js';

export interface DeploymentLookup<T> {
  get(name: string, namespace: string): T | undefined;
}

export function replicaStatusOf(deployment: unknown): ReplicaStatus {
  const current = int(deployment, 'spec', 'replicas') ?? int(deployment, 'status', 'replicas') ?? 0;
  const ready = Math.min(current, int(deployment, 'status', 'readyReplicas') ?? 0);
  return { current, ready };
}

/** The spec minus `replicas`, as a comparable string. */
export function specFingerprint(deployment: unknown): string {
  const spec = field(deployment, 'spec');
  if (spec === null || typeof spec !== 'object') return '';
  const { replicas: _ignored, ...rest } = spec as Record<string, unknown>;
  return JSON.stringify(rest, Object.keys(flatKeys(rest)).sort());
}

function flatKeys(obj: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (obj !== null && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      out[k] = true;
      flatKeys(v, out);
    }
  }
  return out;
}

export class DeploymentReplicas<T> implements ReplicaStatusSource, InformerHandlers<T> {
  private readonly fingerprints = new Map<string, string>();
  private lookup: DeploymentLookup<T> | undefined;

  constructor(
    private readonly registry: VariantRegistry,
    private readonly onSpecChange: (variantKey: string) => void,
  ) {}

  /** The informer cache to read from (set once the informer exists). */
  attach(lookup: DeploymentLookup<T>): void {
    this.lookup = lookup;
  }

  get(variant: Variant): ReplicaStatus | undefined {
    const d = this.lookup?.get(variant.deployment, variant.namespace);
    return d === undefined ? undefined : replicaStatusOf(d);
  }

  onUpsert(obj: T): void {
    const ref = refOf(obj);
    if (!ref) return;
    const id = `${ref.namespace}/${ref.name}`;
    const fp = specFingerprint(obj);
    const previous = this.fingerprints.get(id);
    this.fingerprints.set(id, fp);
    if (previous !== undefined && previous !== fp) {
      for (const v of this.registry.all()) {
        if (v.namespace === ref.namespace && v.deployment === ref.name) this.onSpecChange(v.key);
      }
    }
  }

  onDelete(obj: T): void {
    const ref = refOf(obj);
    if (ref) this.fingerprints.delete(`${ref.namespace}/${ref.name}`);
  }
}
