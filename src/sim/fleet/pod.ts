import { BatchQueue } from './batch-queue.js';
import { PromHistogram, REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS } from './prom-histogram.js';

export interface RunningRequest {
  readonly arrivedAt: number;
  readonly dispatchedAt: number;
  readonly startAt: number;
  readonly finishAt: number;
  readonly promptTokens: number;
}

/** The resolved (defaulted, validated) spec of one variant. */
export interface VariantParams {
  readonly deployment: string;
  /** Running slots per replica: min(maxBatch, floor(1 / kvPerRequest)). */
  readonly slots: number;
  readonly kvPerRequest: number;
  readonly serviceTimeMs: number;
  readonly startupDelayMs: number;
}

/** One emulated vLLM replica: its scheduler state and the counters its /metrics reports. */
export class SimPod {
  readonly running: RunningRequest[] = [];
  readonly waiting = new BatchQueue();
  ready: boolean;
  kvUsage = 0;

  // Counters, as vLLM reports them.
  successStop = 0;
  promptTokens = 0;
  generationTokens = 0;
  prefixQueries = 0;
  prefixHits = 0;

  readonly e2e = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly queueTime = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly inferenceTime = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly ttft = new PromHistogram(TTFT_BUCKETS);

  /** Label text before the sorted position of `finished_reason`/`le`. */
  readonly labelsHead: string;
  /** Label text after it: `model_name`, `namespace`, `pod`. */
  readonly labelsTail: string;

  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly modelID: string,
    readonly variant: VariantParams,
    readonly createdAt: number,
    readonly readyAt: number,
    /** Wall-clock seconds used for the `_created` series. */
    readonly createdEpochSeconds: number,
  ) {
    this.ready = readyAt <= createdAt;
    this.labelsHead = 'engine="0"';
    this.labelsTail = `model_name="${escapeLabel(modelID)}",namespace="${escapeLabel(namespace)}",pod="${escapeLabel(name)}"`;
  }

  /** running + waiting: the dispatcher's load measure. */
  get load(): number {
    return this.running.length + this.waiting.size;
  }

  get freeSlots(): number {
    return this.variant.slots - this.running.length;
  }
}

/** Escapes a label value for the text exposition format. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
