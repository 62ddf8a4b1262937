/**
 * Turns per-signal samples into the engine's ModelMetrics (pure). A pod is a replica when it is
 * in the instant signal (`running`); a signal it lacks is `undefined` (missing), never 0.
 */
import type { ModelMetrics, ReplicaMetrics } from '../domain/metrics.js';
import { modelKey } from '../domain/variant.js';
import type { TrackedModel } from './collector.js';
import type { PodVariantMapper } from './pod-variant-mapper.js';

/** Values of one per-pod signal keyed by podKey(namespace, modelID, pod). */
export type PodValues = ReadonlyMap<string, number | undefined>;
/** Values of one per-model signal keyed by modelKey(namespace, modelID). */
export type ModelValues = ReadonlyMap<string, number | undefined>;

const SEP = '\u0000';
export function podKey(namespace: string, modelID: string, pod: string): string {
  return `${namespace}${SEP}${modelID}${SEP}${pod}`;
}
function splitPodKey(key: string): { namespace: string; modelID: string; pod: string } {
  const [namespace = '', modelID = '', pod = ''] = key.split(SEP);
  return { namespace, modelID, pod };
}

export interface SignalSet {
  readonly kv: PodValues;
  readonly waiting: PodValues;
  /**
   * The instant signal, and the live pods: its keys (values may be missing) are the replicas.
   * The windowed signals (kv, waiting, rate, service) still hold a deleted pod for up to their
   * window; counted as a replica it would inflate spare capacity and scale down one too many.
   */
  readonly running: PodValues;
  /** undefined when the whole signal failed to fetch (then every pod's value is missing). */
  readonly rate: PodValues | undefined;
  /** Mean service seconds per pod; undefined when the whole signal failed to fetch. */
  readonly service: PodValues | undefined;
  /** Requests over each model's retention window; a model absent from the map is missing. */
  readonly retention: ModelValues | undefined;
  readonly gateway: ModelValues | undefined;
  /** namespace → model_name values seen there. */
  readonly seen: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

export function assembleModelMetrics(
  models: readonly TrackedModel[],
  signals: SignalSet,
  mapper: PodVariantMapper,
  collectedAt: number,
): ModelMetrics[] {
  const tracked = new Map(models.map((m) => [modelKey(m.namespace, m.modelID), m]));
  const podsByModel = new Map<string, Set<string>>();
  for (const key of signals.running.keys()) {
    const { namespace, modelID, pod } = splitPodKey(key);
    const mk = modelKey(namespace, modelID);
    if (!tracked.has(mk)) continue; // e.g. a name tracked in another namespace only
    let pods = podsByModel.get(mk);
    if (!pods) podsByModel.set(mk, (pods = new Set()));
    pods.add(pod);
  }
  return models.map((model) => {
    const mk = modelKey(model.namespace, model.modelID);
    const pods = [...(podsByModel.get(mk) ?? [])].sort();
    const replicas: ReplicaMetrics[] = pods.map((pod) => {
      const k = podKey(model.namespace, model.modelID, pod);
      return {
        namespace: model.namespace,
        modelID: model.modelID,
        pod,
        variantKey: mapper.variantOf(model.namespace, pod, model),
        kvCacheUsage: signals.kv.get(k),
        queueLength: signals.waiting.get(k),
        running: signals.running.get(k),
        requestRate: signals.rate?.get(k),
        serviceSeconds: signals.service?.get(k),
      };
    });
    return {
      namespace: model.namespace,
      modelID: model.modelID,
      replicas,
      requestsOverRetention: signals.retention?.get(mk),
      gatewayQueue: signals.gateway?.get(mk),
      collectedAt,
      seenModelNames: [...(signals.seen?.get(model.namespace) ?? [])].sort(),
    };
  });
}
