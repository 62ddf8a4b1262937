/**
 * Public contract of the token-level vLLM fleet emulator (other components code against these
 * names; /work/notes/fleet-contract.md fixes them).
 */

export type Accelerator = 'H100' | 'A100' | 'L4';

/** One request with its token counts; `atMs` is its arrival on the fleet's simulated clock. */
export interface TokenRequest {
  readonly atMs: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

/** A request's first token or its end, as the client sees them. */
export interface FleetRequestEvent {
  readonly namespace: string;
  readonly modelID: string;
  readonly kind: 'first-token' | 'finished';
  /** Arrival at the gateway. */
  readonly arrivedAtMs: number;
  /** When the first token was emitted / the request finished. */
  readonly atMs: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** The variant that served it. */
  readonly deployment: string;
}

export interface FleetVariantSpec {
  /** Deployment name; pods are named `<deployment>-<10 hex>-<5 alnum>`. */
  deployment: string;
  /** Initial replicas: they exist and are ready at time 0 (no startup delay). */
  replicas: number;
  /** The GPU one replica runs on (default 'H100'): step-time parameters and KV blocks come from its profile. */
  accelerator?: Accelerator;
  /** KV blocks one replica holds (vLLM's num_gpu_blocks; default from the accelerator profile). */
  numGpuBlocks?: number;
  /** Tokens per KV block (vLLM --block-size, default 16). */
  blockSize?: number;
  /** vLLM --max-num-seqs: sequences one step runs at most (default 256, or maxBatch when given). */
  maxNumSeqs?: number;
  /** vLLM --max-num-batched-tokens: token budget of one step, prefill chunked to fit (default 8192). */
  maxNumBatchedTokens?: number;
  /** Shorthand kept for older callers: maxNumSeqs when maxNumSeqs is not given. */
  maxBatch?: number;
  /**
   * Shorthand kept for older callers: the KV share a mean request holds while it runs (prompt plus
   * half its output). Sets numGpuBlocks (when not given) so that this share holds.
   */
  kvPerRequest?: number;
  /**
   * Shorthand kept for older callers: the time a mean request runs on this variant at a full batch.
   * Scales the accelerator's step time so that it holds (a faster or slower engine, same tokens).
   */
  serviceTimeMs?: number;
  /** Time a new pod takes to become ready in ms (default 0). */
  startupDelayMs?: number;
}

export interface FleetModelSpec {
  namespace: string;
  /** vLLM's `model_name` label value. */
  modelID: string;
  /** Poisson arrival rate, requests per second. */
  arrivalRate: number;
  /**
   * Mean lengths of the Poisson (and enqueueAtGateway) requests, drawn per request from a seeded
   * Erlang-4 (CV 0.5). Default: the Azure LLM inference trace 2023 (conversation) means, 1,155
   * prompt and 211 output tokens.
   */
  requestTokens?: { promptMean: number; outputMean: number };
  variants: FleetVariantSpec[];
}

/** EPP saturation detector thresholds (its defaults: waiting queue 5, KV-cache utilisation 0.8). */
export interface FlowControlSpec {
  /** A replica with at least this many waiting requests is saturated (default 5). */
  queueDepthThreshold?: number;
  /** A replica with at least this KV-cache use is saturated (default 0.8). */
  kvCacheUtilThreshold?: number;
}

export interface FleetOptions {
  models: FleetModelSpec[];
  /** Simulation step in sim ms (default 100). */
  tickMs?: number;
  /** PRNG seed (default 1). Same seed and same calls ⇒ same results. */
  seed?: number;
  /** Emit `vllm:gpu_cache_usage_perc` (older vLLM) instead of `vllm:kv_cache_usage_perc`. */
  legacyKvMetricName?: boolean;
  /** Emit the request histograms (default true). Turn off for very large fleets in benches. */
  histograms?: boolean;
  /** Seeded noise amplitude added to KV usage of busy pods (default 0). */
  kvNoise?: number;
  /**
   * The gateway's flow control (Gateway API Inference Extension EPP with its saturation detector):
   * when every ready replica is saturated, requests are held at the gateway and released first in,
   * first out as soon as one is not. Off by default: requests stay on the replica that took them.
   */
  flowControl?: FlowControlSpec;
  host?: string;
  port?: number;
  /** Default true: a timer advances the sim every tickMs (real time × timeScale). */
  realtime?: boolean;
  /** Sim ms per real ms in realtime mode (default 1). */
  timeScale?: number;
  /** Called at each request's first token and at its end (per replica in time order). */
  onRequestEvent?: (e: FleetRequestEvent) => void;
}

export interface FleetPodSnapshot {
  readonly pod: string;
  readonly deployment: string;
  readonly ready: boolean;
  readonly running: number;
  readonly waiting: number;
  readonly kvUsage: number;
  /** Requests this replica finished (its `vllm:request_success_total`). */
  readonly completed: number;
  /** Seconds its finished requests spent running (its `vllm:request_inference_time_seconds_sum`). */
  readonly inferenceSeconds: number;
  readonly accelerator: Accelerator;
  readonly kvBlocksUsed: number;
  readonly numGpuBlocks: number;
  readonly blockSize: number;
  /** Prompt tokens of the requests waiting in this replica. */
  readonly waitingPromptTokens: number;
  /** KV tokens the running requests hold. */
  readonly runningTokens: number;
  /** Recompute preemptions (its `vllm:num_preemptions_total`). */
  readonly preemptions: number;
  /** Its `vllm:prompt_tokens_total`. */
  readonly promptTokensTotal: number;
  /** Its `vllm:generation_tokens_total`. */
  readonly generationTokensTotal: number;
  /** Its latency histograms as /metrics exposes them (what SLO mode reads); absent in older snapshots. */
  readonly latency?: FleetPodLatency;
}

/** One histogram's cumulative state: per-bucket counts (non-cumulative, last is +Inf), sum, count. */
export interface FleetHistogram {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** `vllm:time_to_first_token_seconds`, `vllm:inter_token_latency_seconds`, `vllm:request_queue_time_seconds`. */
export interface FleetPodLatency {
  readonly ttft: FleetHistogram;
  readonly itl: FleetHistogram;
  readonly queueTime: FleetHistogram;
}

export interface FleetModelSnapshot {
  readonly namespace: string;
  readonly modelID: string;
  readonly arrivalRate: number;
  /** Requests that arrived since start (or the last stats reset). */
  readonly arrivals: number;
  /** Requests that arrived since start, never reset (the gateway's `inference_objective_request_total`). */
  readonly arrivalsTotal: number;
  readonly started: number;
  readonly completed: number;
  /** Requests put back in the queue because their pod was scaled away. */
  readonly requeued: number;
  /** Requests waiting at the gateway now (no ready replica, or every replica saturated under flow control). */
  readonly gatewayQueue: number;
  readonly running: number;
  /** Requests waiting in the replicas' queues now. */
  readonly waiting: number;
  /** 95th percentile of arrival → start wait (ms); undefined before any start. */
  readonly waitP95Ms: number | undefined;
  readonly waitMaxMs: number;
  readonly maxGatewayQueue: number;
  /** Peak of gateway queue + replica queues, sampled at every tick. */
  readonly maxQueue: number;
  /**
   * Uncached prompt tokens dispatched to replicas and not yet prefilled: llm-d's
   * `llm_d_epp_inflight_tokens` as its token-aware autoscaling guide defines it (the prefill backlog).
   */
  readonly inflightTokens: number;
  /** Requests dispatched to replicas and not finished (EPP's inference_objective_running_requests). */
  readonly runningRequests: number;
  /** Prompt + output tokens of the requests held at the gateway. */
  readonly gatewayQueuedTokens: number;
  readonly pods: readonly FleetPodSnapshot[];
}

export interface FleetSnapshot {
  /** Simulation clock (ms since start). */
  readonly nowMs: number;
  readonly models: readonly FleetModelSnapshot[];
  readonly totals: {
    readonly arrivals: number;
    readonly completed: number;
    readonly gatewayQueue: number;
    readonly running: number;
    readonly waiting: number;
    readonly pods: number;
    readonly readyPods: number;
  };
}
