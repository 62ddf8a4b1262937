import type { Variant } from '../domain/variant.js';

/** Replica counts of a variant's Deployment: `current` = spec/status replicas, `ready` = ready ones. */
export interface ReplicaStatus {
  readonly current: number;
  readonly ready: number;
}

/**
 * Where the engine learns current and pending (current - ready) replicas. The Kubernetes
 * Deployment informer implements it in a cluster; without one the engine counts the pods that
 * report metrics (all ready, none pending); the demo plays Kubernetes and implements it itself.
 */
export interface ReplicaStatusSource {
  get(variant: Variant): ReplicaStatus | undefined;
}
