/**
 * What the policies see of the token-level fleet, emulating Prometheus: every scrape stores one sample
 * per ready pod (pending pods serve no metrics), the gateway's gauges and its request counter; queries are
 * answered from those samples, as the PromQL each policy runs would answer them.
 *  - The engine and WVA's V1 rule: what the collector's queries give (`max_over_time(...[1m])` of KV use
 *    and waiting per pod, running as the latest sample, `rate(...[1m])` of completions, the inference-time
 *    histogram's mean), as bench/lib/quality-observer.ts does on the request-level fleet; and the gateway's
 *    arrivals, `irate(inference_objective_request_total[1m])`: the counter over the last two scrapes.
 *  - SLO mode (issue 22): the latency histograms' means over the window (increase(_sum) / increase(_count)),
 *    TTFT's p95 as `histogram_quantile(0.95, increase(_bucket[1m]))` (Prometheus' linear interpolation
 *    within a bucket), and output tokens per finished request; each missing when nothing was observed.
 *  - WVA's V2 analyzer: the same 1 m peaks, `vllm:cache_config_info`'s blocks, and the mean prompt and
 *    output tokens per finished request from the token counters over the window.
 *  - The KEDA recipes: instant sums at the latest scrape (`sum(vllm:kv_cache_usage_perc)`,
 *    `sum(vllm:num_requests_waiting)`) and the gateway's gauges (`llm_d_epp_flow_control_queue_size`,
 *    `llm_d_epp_inflight_tokens`, `inference_objective_running_requests`).
 */
import type { ModelMetrics, ReplicaMetrics } from '../../src/domain/metrics.js';
import type { FleetHistogram, FleetPodLatency } from '../../src/sim/fleet/types.js';
import { irate, type CounterSample } from './quality-observer.js';
import type { Accelerator, TokenModelSnapshot } from './token-fleet.js';

export const PEAK_WINDOW_MS = 60_000;

interface PodSample {
  readonly at: number;
  readonly kv: number;
  readonly waiting: number;
  readonly running: number;
  readonly completed: number;
  readonly inferenceSeconds: number;
  readonly promptTokensTotal: number;
  readonly generationTokensTotal: number;
  readonly latency: FleetPodLatency | undefined;
}

interface PodHistory {
  readonly deployment: string;
  readonly accelerator: Accelerator;
  numGpuBlocks: number;
  blockSize: number;
  readonly samples: PodSample[];
}

/** One ready pod as WVA's V2 collector reads it. */
export interface TokenPodView {
  readonly pod: string;
  readonly deployment: string;
  readonly accelerator: Accelerator;
  /** `max_over_time(vllm:kv_cache_usage_perc[1m])`. */
  readonly kvPeak: number;
  /** `max_over_time(vllm:num_requests_waiting[1m])`. */
  readonly waitingPeak: number;
  /** `vllm:cache_config_info`: num_gpu_blocks x block_size. */
  readonly kvCapacityTokens: number;
  /**
   * increase(vllm:prompt_tokens_total[1m]) / increase(vllm:request_success_total[1m]); undefined without a
   * completion.
   */
  readonly avgPromptTokens: number | undefined;
  /** increase(vllm:generation_tokens_total[1m]) / increase(vllm:request_success_total[1m]). */
  readonly avgOutputTokens: number | undefined;
  /** rate(vllm:request_success_total[1m]) in req/s; undefined with a single sample. */
  readonly completionRps: number | undefined;
  /**
   * 1000 x increase(vllm:time_to_first_token_seconds_sum[1m]) / increase(_count[1m]); undefined without a first token
   * in the window (missing, never 0).
   */
  readonly avgTtftMs: number | undefined;
  /** The same mean of vllm:inter_token_latency_seconds; undefined without a decode step in the window. */
  readonly avgItlMs: number | undefined;
}

/** Everything a token-aware policy may read at a cycle. */
export interface TokenView {
  readonly pods: readonly TokenPodView[];
  /** `sum(vllm:kv_cache_usage_perc)` at the latest scrape. */
  readonly sumKvUsage: number;
  /** `sum(llm_d_epp_flow_control_queue_size)`. */
  readonly gatewayQueue: number;
  /** Prompt + output tokens of the requests held at the gateway. */
  readonly gatewayQueuedTokens: number;
  /** `sum(llm_d_epp_inflight_tokens)`. */
  readonly inflightTokens: number;
  /** `sum(inference_objective_running_requests)`. */
  readonly runningRequests: number;
}

/** increase(_sum) / increase(_count) in ms; undefined without an observation in the window. */
function meanMs(a: FleetHistogram | undefined, b: FleetHistogram | undefined): number | undefined {
  if (!a || !b) return undefined;
  const n = b.count - a.count;
  return n > 0 ? ((b.sum - a.sum) / n) * 1000 : undefined;
}

/**
 * histogram_quantile(q, increase(_bucket)) in ms, as Prometheus computes it: linear within the bucket
 * that holds the rank (from 0 for the first), the highest finite bound when the rank is in +Inf.
 */
export function quantileMs(
  q: number,
  a: FleetHistogram | undefined,
  b: FleetHistogram | undefined,
): number | undefined {
  if (!a || !b) return undefined;
  const deltas = b.counts.map((c, i) => c - (a.counts[i] ?? 0));
  const total = deltas.reduce((x, y) => x + y, 0);
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < deltas.length; i++) {
    const d = deltas[i] ?? 0;
    if (cum + d >= rank && d > 0) {
      const upper = b.bounds[i];
      if (upper === undefined) return (b.bounds[b.bounds.length - 1] ?? 0) * 1000;
      const lower = i === 0 ? 0 : (b.bounds[i - 1] ?? 0);
      return (lower + ((upper - lower) * (rank - cum)) / d) * 1000;
    }
    cum += d;
  }
  return (b.bounds[b.bounds.length - 1] ?? 0) * 1000;
}

/** What the collector's latency queries give over the window between two samples of one pod. */
function latencyOver(first: PodSample, last: PodSample, finished: number): Partial<ReplicaMetrics> {
  const a = first.latency;
  const b = last.latency;
  return {
    ttftMeanMs: meanMs(a?.ttft, b?.ttft),
    ttftP95Ms: quantileMs(0.95, a?.ttft, b?.ttft),
    itlMeanMs: meanMs(a?.itl, b?.itl),
    queueTimeMeanMs: meanMs(a?.queueTime, b?.queueTime),
    outputTokensPerRequest:
      finished > 0 ? (last.generationTokensTotal - first.generationTokensTotal) / finished : undefined,
  };
}

export class TokenScrapeHistory {
  private readonly byPod = new Map<string, PodHistory>();
  private last: TokenModelSnapshot | undefined;
  /** The gateway's request counter at the last two scrapes, oldest first (what irate() reads). */
  private arrivals: CounterSample[] = [];

  constructor(private readonly windowMs = PEAK_WINDOW_MS) {}

  /** One scrape of the model at `now`. */
  scrape(model: TokenModelSnapshot, now: number): void {
    this.last = model;
    this.arrivals = [...this.arrivals, { at: now, total: model.arrivalsTotal }].slice(-2);
    const present = new Set(model.pods.map((p) => p.pod));
    for (const p of model.pods) {
      if (!p.ready) continue;
      let h = this.byPod.get(p.pod);
      if (!h) {
        h = { deployment: p.deployment, accelerator: p.accelerator, numGpuBlocks: 0, blockSize: 0, samples: [] };
        this.byPod.set(p.pod, h);
      }
      h.numGpuBlocks = p.numGpuBlocks;
      h.blockSize = p.blockSize;
      h.samples.push({
        at: now,
        kv: p.kvUsage,
        waiting: p.waiting,
        running: p.running,
        completed: p.completed,
        inferenceSeconds: p.inferenceSeconds,
        promptTokensTotal: p.promptTokensTotal,
        generationTokensTotal: p.generationTokensTotal,
        latency: p.latency,
      });
    }
    for (const [pod, h] of this.byPod) {
      // max_over_time(x[1m]) at `now` covers samples in (now - 1m, now].
      while (h.samples.length > 0 && (h.samples[0]?.at ?? now) <= now - this.windowMs) h.samples.shift();
      if (h.samples.length === 0 || !present.has(pod)) this.byPod.delete(pod);
    }
  }

  private sortedPods(): [string, PodHistory][] {
    return [...this.byPod].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** ModelMetrics as the collector would hand them to the engine (peaks over the window). */
  modelMetrics(now: number, variantKeyOf: (deployment: string) => string | undefined): ModelMetrics {
    const model = this.latest();
    const replicas: ReplicaMetrics[] = [];
    for (const [pod, h] of this.sortedPods()) {
      const first = h.samples[0];
      const last = h.samples[h.samples.length - 1];
      if (!first || !last) continue;
      const finished = last.completed - first.completed;
      replicas.push({
        namespace: model.namespace,
        modelID: model.modelID,
        pod,
        variantKey: variantKeyOf(h.deployment),
        kvCacheUsage: Math.max(...h.samples.map((s) => s.kv)),
        queueLength: Math.max(...h.samples.map((s) => s.waiting)),
        running: last.running,
        // rate(vllm:request_success_total[1m]) over the window's samples, without extrapolation.
        requestRate: last.at > first.at ? (finished * 1000) / (last.at - first.at) : undefined,
        // rate(_sum[1m]) / rate(_count[1m]) of vllm:request_inference_time_seconds: missing with no completion.
        serviceSeconds: finished > 0 ? (last.inferenceSeconds - first.inferenceSeconds) / finished : undefined,
        // What the collector also hands the engine: the latest samples, vllm:cache_config_info's
        // num_gpu_blocks x block_size, and prompt tokens per finished request over the window.
        kvCacheUsageNow: last.kv,
        queueLengthNow: last.waiting,
        kvCapacityTokens: h.numGpuBlocks * h.blockSize,
        promptTokensPerRequest:
          finished > 0 ? (last.promptTokensTotal - first.promptTokensTotal) / finished : undefined,
        ...latencyOver(first, last, finished),
      });
    }
    return {
      namespace: model.namespace,
      modelID: model.modelID,
      replicas,
      requestsOverRetention: undefined,
      gatewayQueue: model.gatewayQueue,
      gatewayArrivalRate: irate(this.arrivals, now, this.windowMs),
      collectedAt: now,
      seenModelNames: [model.modelID],
    };
  }

  /** The token-aware policies' inputs at the latest scrape. */
  tokenView(): TokenView {
    const model = this.latest();
    const pods: TokenPodView[] = [];
    let sumKvUsage = 0;
    for (const [pod, h] of this.sortedPods()) {
      const first = h.samples[0];
      const last = h.samples[h.samples.length - 1];
      if (!first || !last) continue;
      sumKvUsage += last.kv;
      const finished = last.completed - first.completed;
      pods.push({
        pod,
        deployment: h.deployment,
        accelerator: h.accelerator,
        kvPeak: Math.max(...h.samples.map((s) => s.kv)),
        waitingPeak: Math.max(...h.samples.map((s) => s.waiting)),
        kvCapacityTokens: h.numGpuBlocks * h.blockSize,
        avgPromptTokens: finished > 0 ? (last.promptTokensTotal - first.promptTokensTotal) / finished : undefined,
        avgOutputTokens:
          finished > 0 ? (last.generationTokensTotal - first.generationTokensTotal) / finished : undefined,
        completionRps: last.at > first.at ? (finished * 1000) / (last.at - first.at) : undefined,
        avgTtftMs: meanMs(first.latency?.ttft, last.latency?.ttft),
        avgItlMs: meanMs(first.latency?.itl, last.latency?.itl),
      });
    }
    return {
      pods,
      sumKvUsage,
      gatewayQueue: model.gatewayQueue,
      gatewayQueuedTokens: model.gatewayQueuedTokens,
      inflightTokens: model.inflightTokens,
      runningRequests: model.runningRequests,
    };
  }

  /** `sum(vllm:num_requests_waiting)`: the latest sample of every pod still scraped. */
  sumWaitingLatest(): number {
    let sum = 0;
    for (const h of this.byPod.values()) sum += h.samples[h.samples.length - 1]?.waiting ?? 0;
    return sum;
  }

  private latest(): TokenModelSnapshot {
    if (!this.last) throw new Error('token observer: query before the first scrape');
    return this.last;
  }
}
