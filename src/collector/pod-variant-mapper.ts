/**
 * Which variant a pod belongs to. Pluggable: a Kubernetes owner-reference mapper (pod →
 * ReplicaSet → Deployment) replaces the default when the API is there; without it, the Deployment
 * name prefix of the pod name decides (`llama-h100-7d9f8-abcde` → Deployment `llama-h100`).
 */
import type { TrackedModel } from './collector.js';

export interface PodVariantMapper {
  /** The variant key of the pod, or undefined when it cannot be told. */
  variantOf(namespace: string, pod: string, model: TrackedModel): string | undefined;
}

/**
 * Longest Deployment name that is a prefix of the pod name followed by `-` wins, so `llama` and
 * `llama-h100` both tracked still map `llama-h100-x-y` to `llama-h100`.
 */
export class DeploymentPrefixMapper implements PodVariantMapper {
  variantOf(_namespace: string, pod: string, model: TrackedModel): string | undefined {
    let best: { variantKey: string; length: number } | undefined;
    for (const d of model.deployments) {
      if (d.deployment === '' || !pod.startsWith(`${d.deployment}-`)) continue;
      if (!best || d.deployment.length > best.length) best = { variantKey: d.variantKey, length: d.deployment.length };
    }
    return best?.variantKey;
  }
}
