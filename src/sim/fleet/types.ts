/** Public contract of the vLLM fleet emulator (other components code against these names). */

export interface FleetVariantSpec {
  /** Deployment name; pods are named `<deployment>-<10 hex>-<5 alnum>`. */
  deployment: string;
  /** Initial replicas: they exist and are ready at time 0 (no startup delay). */
  replicas: number;
  /** Requests one replica runs at once (default 16). Also capped by 1/kvPerRequest. */
  maxBatch?: number;
  /** KV-cache fraction one running request uses (default 0.05). */
  kvPerRequest?: number;
  /** Mean service time of one request in ms (default 2000). */
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
}

export interface FleetModelSnapshot {
  readonly namespace: string;
  readonly modelID: string;
  readonly arrivalRate: number;
  /** Requests that arrived since start (or the last stats reset). */
  readonly arrivals: number;
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
