/**
 * Every Kubernetes API call the scaler makes, declared once. The informers, the status writer and
 * the leader elector build their paths and choose their verbs from these entries, and the Helm
 * chart's RBAC test derives the rules it expects from the same constant, so code and chart cannot
 * drift apart (a verb the code does not use is a test failure, and so is a missing one).
 *
 * `scope`: `watched` resources live in the namespaces the scaler watches (all, or WATCH_NAMESPACE);
 * `own` resources live in the scaler's own namespace (the saturation ConfigMap, the leader Lease);
 * `cluster` resources have no namespace (Nodes, for the GPU inventory).
 */
export type ApiVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch';

export interface ApiCall {
  /** API group; '' is the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  /** Plural resource name, with `/status` for the status subresource. */
  readonly resource: string;
  readonly verbs: readonly ApiVerb[];
  readonly scope: 'watched' | 'own' | 'cluster';
}

export const KUBE_API_CALLS = {
  scaledObjects: {
    group: 'keda.sh',
    version: 'v1alpha1',
    resource: 'scaledobjects',
    verbs: ['list', 'watch'],
    scope: 'watched',
  },
  variantAutoscalings: {
    group: 'llmd.ai',
    version: 'v1alpha1',
    resource: 'variantautoscalings',
    verbs: ['list', 'watch'],
    scope: 'watched',
  },
  variantAutoscalingStatus: {
    group: 'llmd.ai',
    version: 'v1alpha1',
    resource: 'variantautoscalings/status',
    verbs: ['patch'],
    scope: 'watched',
  },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments', verbs: ['list', 'watch'], scope: 'watched' },
  replicaSets: { group: 'apps', version: 'v1', resource: 'replicasets', verbs: ['list', 'watch'], scope: 'watched' },
  pods: { group: '', version: 'v1', resource: 'pods', verbs: ['list', 'watch'], scope: 'watched' },
  configMaps: { group: '', version: 'v1', resource: 'configmaps', verbs: ['list', 'watch'], scope: 'own' },
  resourceQuotas: { group: '', version: 'v1', resource: 'resourcequotas', verbs: ['list', 'watch'], scope: 'watched' },
  nodes: { group: '', version: 'v1', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster' },
  leases: {
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    verbs: ['get', 'create', 'update'],
    scope: 'own',
  },
} as const satisfies Record<string, ApiCall>;

export type ApiCallName = keyof typeof KUBE_API_CALLS;

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(call: ApiCall): string {
  return call.group === '' ? `/api/${call.version}` : `/apis/${call.group}/${call.version}`;
}

/** The collection path of a resource, across all namespaces when `namespace` is undefined. */
export function collectionPath(call: ApiCall, namespace: string | undefined): string {
  const plural = call.resource.split('/')[0] ?? call.resource;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${groupVersionPath(call)}${ns}/${plural}`;
}

/** Throws when code asks for a verb its declared call does not grant (a programming error). */
export function requireVerb(call: ApiCall, verb: ApiVerb): void {
  if (!call.verbs.includes(verb)) {
    throw new Error(
      `kube API call ${call.group || 'core'}/${call.resource} does not declare verb "${verb}" in KUBE_API_CALLS`,
    );
  }
}
