/**
 * What the quality bench needs of the token-level fleet (the contract in notes/fleet-contract.md,
 * implemented by `src/sim/fleet`): the loop, the observer and the recipes are written against these
 * names, and `createTokenFleet` builds the real `VllmFleet` (the type check proves it conforms). A
 * narrow interface, so the loop's tests could drive a stand-in and the fleet's snapshot can grow.
 */
import type { Accelerator, FleetRequestEvent, TokenRequest } from '../../src/sim/fleet/index.js';

export type { Accelerator, FleetRequestEvent };

export interface TokenPodSnapshot {
  readonly pod: string;
  readonly deployment: string;
  readonly ready: boolean;
  readonly running: number;
  readonly waiting: number;
  /** `vllm:kv_cache_usage_perc`. */
  readonly kvUsage: number;
  /** `vllm:request_success_total`. */
  readonly completed: number;
  /** Seconds its finished requests spent running (`vllm:request_inference_time_seconds_sum`). */
  readonly inferenceSeconds: number;
  readonly kvBlocksUsed: number;
  /** `vllm:cache_config_info{num_gpu_blocks}`. */
  readonly numGpuBlocks: number;
  /** `vllm:cache_config_info{block_size}`. */
  readonly blockSize: number;
  readonly waitingPromptTokens: number;
  readonly runningTokens: number;
  readonly preemptions: number;
  /** `vllm:prompt_tokens_total`. */
  readonly promptTokensTotal: number;
  /** `vllm:generation_tokens_total`. */
  readonly generationTokensTotal: number;
  readonly accelerator: Accelerator;
}

export interface TokenModelSnapshot {
  readonly namespace: string;
  readonly modelID: string;
  /** `llm_d_epp_flow_control_queue_size`: requests held at the gateway. */
  readonly gatewayQueue: number;
  /** Requests waiting in the replicas' queues. */
  readonly waiting: number;
  readonly running: number;
  /** Longest arrival → start wait since the last stats reset (ms). */
  readonly waitMaxMs: number;
  /** `llm_d_epp_inflight_tokens`: prompt + output tokens of requests dispatched and not finished. */
  readonly inflightTokens: number;
  /** `inference_objective_running_requests`. */
  readonly runningRequests: number;
  /** Prompt + output tokens of the requests held at the gateway. */
  readonly gatewayQueuedTokens: number;
  readonly pods: readonly TokenPodSnapshot[];
}

export interface TokenVariantSpec {
  readonly deployment: string;
  readonly replicas: number;
  readonly startupDelayMs: number;
  readonly accelerator: Accelerator;
}

export interface TokenFleetOptions {
  readonly namespace: string;
  readonly modelID: string;
  readonly variants: readonly TokenVariantSpec[];
  readonly seed: number;
  /** The gateway's flow control (EPP saturation detector, its defaults). */
  readonly flowControl: boolean;
  readonly onRequestEvent: (e: FleetRequestEvent) => void;
}

/** The fleet as the loop drives it. */
export interface TokenFleet {
  enqueueRequests(namespace: string, modelID: string, requests: readonly TokenRequest[]): void;
  step(ms: number): void;
  setReplicas(namespace: string, deployment: string, n: number): void;
  deploymentStatus(namespace: string, deployment: string): { current: number; ready: number } | undefined;
  /** The model's snapshot (the bench runs one model per fleet). */
  model(): TokenModelSnapshot;
  resetStats(): void;
}

/** What a recipe reads of an accelerator (the fleet's ACCELERATOR_PROFILES). */
export interface AcceleratorFacts {
  readonly numGpuBlocks: number;
  readonly peakPrefillTokensPerS: number;
  readonly source: string;
}

export type TokenFleetFactory = (opts: TokenFleetOptions) => TokenFleet;
