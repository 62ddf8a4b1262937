/**
 * What the collector hands the engine. A value of `undefined` means *missing* (absent series,
 * NaN, ±Inf, fetch failed): never read missing as 0 — missing is not idle.
 */
export interface ReplicaMetrics {
  readonly namespace: string;
  readonly modelID: string;
  readonly pod: string;
  /** Variant key the pod belongs to, when it could be mapped (owner refs or name prefix). */
  readonly variantKey: string | undefined;
  /** KV-cache use 0..1, peak over 1 m. */
  readonly kvCacheUsage: number | undefined;
  /** Requests waiting in the replica's queue, peak over 1 m. */
  readonly queueLength: number | undefined;
  /** Requests running now. */
  readonly running: number | undefined;
  /** Finished requests per second over 1 m. */
  readonly requestRate: number | undefined;
  /**
   * Mean seconds a request finished over 1 m spent running (`vllm:request_inference_time_seconds`
   * sum / count, queueing excluded). With `running` it gives what the replica completes now
   * (Little's law), which a 1 m completion rate understates while load is rising.
   */
  readonly serviceSeconds: number | undefined;
  /**
   * KV-cache use and waiting requests at the latest sample (not peaks): whether a replica is
   * saturated now, or only was within the last minute. Undefined when missing (then only the peaks
   * are judged, as before these were read).
   */
  readonly kvCacheUsageNow?: number | undefined;
  readonly queueLengthNow?: number | undefined;
  /**
   * KV tokens the replica holds: `num_gpu_blocks` x `block_size` of `vllm:cache_config_info`
   * (summed over its engines). Undefined when the info gauge is absent.
   */
  readonly kvCapacityTokens?: number | undefined;
  /**
   * Mean prompt tokens of the requests it finished over 1 m (`vllm:prompt_tokens_total` over
   * `vllm:request_success_total`): what a waiting request will hold in KV. Undefined when unknown.
   */
  readonly promptTokensPerRequest?: number | undefined;
  /**
   * Latency over 1 m, for SLO mode (issue 22), in ms: mean and p95 time to first token
   * (`vllm:time_to_first_token_seconds`), mean inter-token latency (`vllm:inter_token_latency_seconds`,
   * or the older `vllm:request_time_per_output_token_seconds`), mean queue time
   * (`vllm:request_queue_time_seconds`). Undefined when the histogram took no sample or is absent.
   */
  readonly ttftMeanMs?: number | undefined;
  readonly ttftP95Ms?: number | undefined;
  readonly itlMeanMs?: number | undefined;
  readonly queueTimeMeanMs?: number | undefined;
  /** Mean output tokens of the requests finished over 1 m (`vllm:generation_tokens_total` per success). */
  readonly outputTokensPerRequest?: number | undefined;
}

export type Freshness = 'fresh' | 'stale' | 'unavailable';

export interface ModelMetrics {
  readonly namespace: string;
  readonly modelID: string;
  readonly replicas: readonly ReplicaMetrics[];
  /** Requests finished over the scale-to-zero retention window (sum over pods); undefined = missing. */
  readonly requestsOverRetention: number | undefined;
  /** Requests queued for this model at the gateway (EPP flow control); undefined = missing. */
  readonly gatewayQueue: number | undefined;
  /**
   * Requests per second arriving at the gateway for this model: the per-second rate of EPP's
   * `inference_objective_request_total` (older name `inference_model_request_total`) over its last
   * two samples (`irate`), summed over the gateway's series of the model; undefined = missing (no
   * gateway, no counter yet, or fewer than two samples), never 0 for unknown.
   */
  readonly gatewayArrivalRate?: number | undefined;
  /** When the underlying samples were fetched (epoch ms). */
  readonly collectedAt: number;
  /** `model_name` values seen in this namespace (for "modelID matches no series" reasons). */
  readonly seenModelNames: readonly string[];
  /**
   * Pods of the model's Deployments whose series carry a `model_name` no tracked model of the
   * namespace has: the pods run, but under another name (the trigger's modelID is likely wrong).
   * Absent when the collector cannot tell.
   */
  readonly misnamedPods?: readonly MisnamedPod[];
}

export interface MisnamedPod {
  readonly pod: string;
  readonly variantKey: string;
  /** The `model_name` its series carry. */
  readonly modelName: string;
}

/** Freshness thresholds from DESIGN.md: fresh < 1 m, stale < 5 m, unavailable beyond. */
export const FRESH_MS = 60_000;
export const STALE_MS = 300_000;

export function freshnessOf(ageMs: number): Freshness {
  if (ageMs < FRESH_MS) return 'fresh';
  if (ageMs < STALE_MS) return 'stale';
  return 'unavailable';
}
