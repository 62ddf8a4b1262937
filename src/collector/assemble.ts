/**
 * Turns per-signal samples into the engine's ModelMetrics (pure). A pod is a replica when it is
 * in the instant signal (`running`); a signal it lacks is `undefined` (missing), never 0.
 */
import type { MisnamedPod, ModelMetrics, ReplicaMetrics } from '../domain/metrics.js';
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
  /** The latest KV use and waiting per pod (not peaks); undefined when the signal failed to fetch. */
  readonly kvNow?: PodValues | undefined;
  readonly waitingNow?: PodValues | undefined;
  /** Mean prompt tokens per finished request per pod; undefined when the signal failed to fetch. */
  readonly promptTokens?: PodValues | undefined;
  /** Latency means and p95 per pod in seconds (SLO mode); undefined when the signal failed to fetch. */
  readonly ttftMean?: PodValues | undefined;
  readonly ttftP95?: PodValues | undefined;
  readonly itlMean?: PodValues | undefined;
  readonly queueTime?: PodValues | undefined;
  /** Output tokens per finished request per pod; undefined when the signal failed to fetch. */
  readonly outputTokens?: PodValues | undefined;
  /** KV tokens per pod (`vllm:cache_config_info`) keyed by capacityKey(namespace, pod). */
  readonly kvCapacity?: ReadonlyMap<string, number> | undefined;
  /** Requests over each model's retention window; a model absent from the map is missing. */
  readonly retention: ModelValues | undefined;
  readonly gateway: ModelValues | undefined;
  /**
   * Requests per second arriving at the gateway per model (EPP's request counter); undefined when
   * the signal failed or no gateway is read, and a model absent from the map is missing, never 0.
   */
  readonly arrivals?: ModelValues | undefined;
  /** namespace → model_name values seen there → the pods seen with it (empty when the series name none). */
  readonly seen: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>> | undefined;
}

/** The key of a pod's KV capacity: the info gauge carries no model_name in real vLLM. */
export function capacityKey(namespace: string, pod: string): string {
  return `${namespace}${SEP}${pod}`;
}

/**
 * num_gpu_blocks x block_size of one `vllm:cache_config_info` series; undefined when either is not a
 * positive number ("None" before the engine has profiled its memory).
 */
export function kvTokensOf(labels: Readonly<Record<string, string>>): number | undefined {
  const blocks = Number(labels.num_gpu_blocks);
  const size = Number(labels.block_size);
  return Number.isFinite(blocks) && Number.isFinite(size) && blocks > 0 && size > 0 ? blocks * size : undefined;
}

/** namespace → model_name → pods, as a collector gathers it. */
export type SeenNames = Map<string, Map<string, Set<string>>>;

/** Records that `pod` (when known) serves `modelName` in `namespace`. */
export function addSeen(seen: SeenNames, namespace: string, modelName: string, pod: string | undefined): void {
  let names = seen.get(namespace);
  if (!names) seen.set(namespace, (names = new Map<string, Set<string>>()));
  let pods = names.get(modelName);
  if (!pods) names.set(modelName, (pods = new Set()));
  if (pod !== undefined) pods.add(pod);
}

/**
 * Pods of `model`'s Deployments whose series carry a name no tracked model of the namespace has
 * (a pod serving another tracked model is that model's, whatever its name prefix).
 */
function misnamedPods(
  model: TrackedModel,
  names: ReadonlyMap<string, ReadonlySet<string>>,
  trackedNames: ReadonlySet<string>,
  mapper: PodVariantMapper,
): MisnamedPod[] {
  const out: MisnamedPod[] = [];
  for (const [modelName, pods] of names) {
    if (trackedNames.has(modelName)) continue;
    for (const pod of pods) {
      const variantKey = mapper.variantOf(model.namespace, pod, model);
      if (variantKey !== undefined) out.push({ pod, variantKey, modelName });
    }
  }
  return out.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

/** Seconds to ms; missing stays missing. */
function ms(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
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
  const trackedNames = new Map<string, Set<string>>();
  for (const m of models) trackedNames.set(m.namespace, (trackedNames.get(m.namespace) ?? new Set()).add(m.modelID));
  return models.map((model) => {
    const mk = modelKey(model.namespace, model.modelID);
    const seen = signals.seen?.get(model.namespace);
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
        kvCacheUsageNow: signals.kvNow?.get(k),
        queueLengthNow: signals.waitingNow?.get(k),
        kvCapacityTokens: signals.kvCapacity?.get(capacityKey(model.namespace, pod)),
        promptTokensPerRequest: signals.promptTokens?.get(k),
        ttftMeanMs: ms(signals.ttftMean?.get(k)),
        ttftP95Ms: ms(signals.ttftP95?.get(k)),
        itlMeanMs: ms(signals.itlMean?.get(k)),
        queueTimeMeanMs: ms(signals.queueTime?.get(k)),
        outputTokensPerRequest: signals.outputTokens?.get(k),
      };
    });
    return {
      namespace: model.namespace,
      modelID: model.modelID,
      replicas,
      requestsOverRetention: signals.retention?.get(mk),
      gatewayQueue: signals.gateway?.get(mk),
      gatewayArrivalRate: signals.arrivals?.get(mk),
      collectedAt,
      seenModelNames: [...(seen?.keys() ?? [])].sort(),
      misnamedPods: seen
        ? misnamedPods(model, seen, trackedNames.get(model.namespace) ?? new Set(), mapper)
        : undefined,
    };
  });
}
