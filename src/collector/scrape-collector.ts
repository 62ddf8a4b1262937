/**
 * The scrape backend: reads vLLM's `/metrics` straight from static targets (WVA_SCRAPE_TARGETS),
 * for clusters without Prometheus, the demo, and fast demand detection at zero replicas.
 *
 * Labels: a series carries `model_name`; `pod`/`namespace` when the target adds them (the fleet
 * emulator does; Prometheus-style relabeling is not available here). Without `pod` the target's
 * host:port names the pod; without `namespace`, WVA_SCRAPE_NAMESPACE applies. Per pod, engines
 * (data parallel) are combined as the PromQL does: max KV, summed queues and counters.
 *
 * With a gateway target (WVA_GATEWAY_SCRAPE_TARGET) its exposition gives each model's gateway queue
 * and its arrivals: the rate of EPP's request counter over the last two gateway scrapes
 * (gateway-arrivals.ts), as the prometheus backend's irate() gives it.
 *
 * A target that fails keeps its last known pods as replicas with every value missing (the engine
 * holds rather than reading a vanished pod as idle). If every target fails, fetch() throws and the
 * cache keeps the last good values, which age into "stale".
 */
import type { Logger } from 'pino';
import type { MetricsCache } from '../cache/metrics-cache.js';
import type { ModelMetrics } from '../domain/metrics.js';
import { modelKey } from '../domain/variant.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import {
  addSeen,
  assembleModelMetrics,
  capacityKey,
  kvTokensOf,
  podKey,
  type SeenNames,
  type SignalSet,
} from './assemble.js';
import type { MetricsCollector, TrackedModel } from './collector.js';
import { FetchedMetrics } from './fetched-metrics.js';
import { GatewayArrivalRates } from './gateway-arrivals.js';
import { GATEWAY_ARRIVAL_METRICS, GATEWAY_QUEUE_METRICS, gatewayQueueFromSamples } from './gateway-queue.js';
import { DeploymentPrefixMapper, type PodVariantMapper } from './pod-variant-mapper.js';
import { LATENCY_FIELDS, ScrapeHistory, type LatencyField, type PodObservation } from './scrape-history.js';
import { parseExposition, type TextSample } from './text-format.js';

export const VLLM_METRICS = {
  kv: 'vllm:kv_cache_usage_perc',
  kvLegacy: 'vllm:gpu_cache_usage_perc',
  waiting: 'vllm:num_requests_waiting',
  running: 'vllm:num_requests_running',
  success: 'vllm:request_success_total',
  inferenceSum: 'vllm:request_inference_time_seconds_sum',
  inferenceCount: 'vllm:request_inference_time_seconds_count',
  promptTokens: 'vllm:prompt_tokens_total',
  generationTokens: 'vllm:generation_tokens_total',
  ttftSum: 'vllm:time_to_first_token_seconds_sum',
  ttftCount: 'vllm:time_to_first_token_seconds_count',
  itlSum: 'vllm:inter_token_latency_seconds_sum',
  itlCount: 'vllm:inter_token_latency_seconds_count',
  tpotSum: 'vllm:request_time_per_output_token_seconds_sum',
  tpotCount: 'vllm:request_time_per_output_token_seconds_count',
  queueSum: 'vllm:request_queue_time_seconds_sum',
  queueCount: 'vllm:request_queue_time_seconds_count',
  cacheConfig: 'vllm:cache_config_info',
} as const;
/** Histograms read for their `_sum` and `_count` (see parseExposition). */
const FLAT_HISTOGRAMS = new Set<string>([
  'vllm:request_inference_time_seconds',
  // SLO mode's latency means (their buckets are not read: no p95 from this backend).
  'vllm:time_to_first_token_seconds',
  'vllm:inter_token_latency_seconds',
  'vllm:request_time_per_output_token_seconds',
  'vllm:request_queue_time_seconds',
]);

const WANTED = new Set<string>(Object.values(VLLM_METRICS));
/** What the gateway's exposition is parsed for: its queue and its request counter. */
const GATEWAY_WANTED = new Set<string>([...GATEWAY_QUEUE_METRICS, ...GATEWAY_ARRIVAL_METRICS]);

type PodField =
  'kv' | 'kvLegacy' | 'waiting' | 'running' | 'success' | 'inferSum' | 'inferCount' | 'prompt' | LatencyField;
/**
 * How each wanted series folds into its pod's value. A pod with several engines (data parallel)
 * reports the max KV and the sum of queues and counters, as the PromQL does; a NaN part makes
 * the value missing, except for the legacy KV name (only a fallback for the new one).
 */
const FOLDS = new Map<string, { field: PodField; combine: 'max' | 'sum'; nanIsMissing: boolean }>([
  [VLLM_METRICS.kv, { field: 'kv', combine: 'max', nanIsMissing: true }],
  [VLLM_METRICS.kvLegacy, { field: 'kvLegacy', combine: 'max', nanIsMissing: false }],
  [VLLM_METRICS.waiting, { field: 'waiting', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.running, { field: 'running', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.success, { field: 'success', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.inferenceSum, { field: 'inferSum', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.inferenceCount, { field: 'inferCount', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.promptTokens, { field: 'prompt', combine: 'sum', nanIsMissing: true }],
  [VLLM_METRICS.generationTokens, { field: 'generation', combine: 'sum', nanIsMissing: true }],
  ...(['ttftSum', 'ttftCount', 'itlSum', 'itlCount', 'tpotSum', 'tpotCount', 'queueSum', 'queueCount'] as const).map(
    (f) => [VLLM_METRICS[f], { field: f, combine: 'sum', nanIsMissing: true }] as const,
  ),
]);

interface PodAcc {
  readonly namespace: string;
  readonly modelID: string;
  readonly pod: string;
  readonly values: Partial<Record<PodField, number>>;
  readonly missing: Set<PodField>;
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

export class ScrapeError extends Error {
  constructor(
    message: string,
    readonly failures: readonly { target: string; reason: string }[],
  ) {
    super(message);
    this.name = 'ScrapeError';
  }
}

export interface ScrapeCollectorOptions {
  readonly targets: readonly string[];
  readonly gatewayTarget?: string | undefined;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly defaultNamespace: string;
}

export interface ScrapeCollectorDeps {
  readonly cache: MetricsCache;
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  readonly mapper?: PodVariantMapper;
  readonly now?: () => number;
  readonly history?: ScrapeHistory;
  /** Injectable for tests; defaults to the global fetch. */
  readonly fetchImpl?: typeof fetch;
}

type Obs = PodObservation & { namespace: string; modelID: string; pod: string };

export class ScrapeCollector implements MetricsCollector {
  readonly backend = 'scrape';
  private readonly mapper: PodVariantMapper;
  private readonly now: () => number;
  private readonly history: ScrapeHistory;
  private readonly fetched: FetchedMetrics;
  private readonly fetchImpl: typeof fetch;
  private readonly abort = new AbortController();
  /** target → pod keys it served last time it answered. */
  private readonly podsOfTarget = new Map<string, Set<string>>();
  /** The gateway's request counter at its last scrape: arrivals are its rate over the last two. */
  private readonly arrivalRates = new GatewayArrivalRates();

  constructor(
    private readonly opts: ScrapeCollectorOptions,
    private readonly deps: ScrapeCollectorDeps,
  ) {
    if (opts.targets.length === 0 && !opts.gatewayTarget)
      throw new Error(
        'scrape backend needs targets: set WVA_SCRAPE_TARGETS (comma-separated /metrics URLs) or WVA_GATEWAY_SCRAPE_TARGET',
      );
    if (!(opts.concurrency >= 1)) throw new Error(`WVA_SCRAPE_CONCURRENCY must be >= 1, got ${opts.concurrency}`);
    this.mapper = deps.mapper ?? new DeploymentPrefixMapper();
    this.fetched = new FetchedMetrics(deps.cache);
    this.now = deps.now ?? Date.now;
    this.history = deps.history ?? new ScrapeHistory();
    this.fetchImpl = deps.fetchImpl ?? fetch;
  }

  async fetch(models: readonly TrackedModel[]): Promise<void> {
    const t = this.now();
    const tracked = new Set(models.map((m) => modelKey(m.namespace, m.modelID)));
    const results = await mapWithConcurrency(this.opts.targets, this.opts.concurrency, (target) =>
      this.scrape(target, WANTED, FLAT_HISTOGRAMS),
    );
    const gatewayResult = this.opts.gatewayTarget
      ? await this.scrape(this.opts.gatewayTarget, GATEWAY_WANTED)
      : undefined;

    const failures: { target: string; reason: string }[] = [];
    const observations = new Map<string, Obs>();
    const missingPods = new Set<string>();
    const seen: SeenNames = new Map();
    const kvCapacity = new Map<string, number>();
    results.forEach((r, i) => {
      const target = this.opts.targets[i] ?? '';
      if ('error' in r) {
        failures.push({ target, reason: r.error });
        for (const k of this.podsOfTarget.get(target) ?? []) missingPods.add(k);
        return;
      }
      const pods = new Set<string>();
      for (const [k, o] of this.observe(r.samples, target, seen, kvCapacity)) {
        if (!tracked.has(modelKey(o.namespace, o.modelID))) continue;
        observations.set(k, o);
        pods.add(k);
      }
      this.podsOfTarget.set(target, pods);
    });
    if (this.opts.targets.length > 0 && failures.length === this.opts.targets.length) {
      this.fetched.failed();
      throw new ScrapeError(
        `every scrape target failed: ${failures.map((f) => `${f.target} (${f.reason})`).join('; ')}`,
        failures,
      );
    }

    const keepMs = Math.max(0, ...models.map((m) => m.retentionMs));
    this.history.record(t, observations, keepMs);

    const pods = this.podSignals(observations, missingPods, t);
    const retention = new Map<string, number | undefined>();
    for (const m of models)
      retention.set(
        modelKey(m.namespace, m.modelID),
        this.history.requestsOverWindow(m.namespace, m.modelID, m.retentionMs, t),
      );

    const gatewaySamples = gatewayResult && 'samples' in gatewayResult ? gatewayResult.samples : undefined;
    const signals: SignalSet = {
      ...pods,
      kvCapacity,
      retention,
      gateway: gatewaySamples ? gatewayQueueFromSamples(gatewaySamples, models) : undefined,
      // A failed gateway scrape keeps the last readings: the next one rates over the longer gap.
      arrivals: gatewaySamples ? this.arrivalRates.update(t, gatewaySamples, models) : undefined,
      seen,
    };
    const assembled = assembleModelMetrics(models, signals, this.mapper, t);
    this.fetched.store(assembled);
  }

  getModelMetrics(namespace: string, modelID: string): ModelMetrics | undefined {
    return this.fetched.get(namespace, modelID);
  }

  /**
   * The per-pod signals of this scrape: peaks and rates over the history's window, the latest
   * samples as they were read; pods of a failed target with every value missing.
   */
  private podSignals(
    observations: ReadonlyMap<string, Obs>,
    missingPods: ReadonlySet<string>,
    t: number,
  ): Pick<
    SignalSet,
    | 'kv'
    | 'waiting'
    | 'running'
    | 'rate'
    | 'service'
    | 'kvNow'
    | 'waitingNow'
    | 'promptTokens'
    | 'ttftMean'
    | 'itlMean'
    | 'queueTime'
    | 'outputTokens'
  > {
    const maps = {
      kv: new Map<string, number | undefined>(),
      waiting: new Map<string, number | undefined>(),
      running: new Map<string, number | undefined>(),
      rate: new Map<string, number | undefined>(),
      service: new Map<string, number | undefined>(),
      kvNow: new Map<string, number | undefined>(),
      waitingNow: new Map<string, number | undefined>(),
      promptTokens: new Map<string, number | undefined>(),
      ttftMean: new Map<string, number | undefined>(),
      itlMean: new Map<string, number | undefined>(),
      queueTime: new Map<string, number | undefined>(),
      outputTokens: new Map<string, number | undefined>(),
    };
    for (const [k, o] of observations) {
      const w = this.history.windowValues(k, t);
      maps.kv.set(k, w.kvPeak);
      maps.waiting.set(k, w.waitingPeak);
      maps.running.set(k, o.running);
      maps.rate.set(k, w.requestRate);
      maps.service.set(k, w.serviceSeconds);
      maps.kvNow.set(k, o.kv);
      maps.waitingNow.set(k, o.waiting);
      maps.promptTokens.set(k, w.promptTokensPerRequest);
      // The assembler reads latency signals in seconds, as Prometheus returns them.
      maps.ttftMean.set(k, seconds(w.ttftMeanMs));
      maps.itlMean.set(k, seconds(w.itlMeanMs));
      maps.queueTime.set(k, seconds(w.queueTimeMeanMs));
      maps.outputTokens.set(k, w.outputTokensPerRequest);
    }
    for (const k of missingPods) {
      if (observations.has(k)) continue; // another target reported it
      for (const m of Object.values(maps)) m.set(k, undefined);
    }
    return maps;
  }

  async close(): Promise<void> {
    this.abort.abort();
  }

  /**
   * Per-pod observations of one target's samples; also records every model_name seen, and each
   * pod's KV tokens from `vllm:cache_config_info` into `kvCapacity` (summed over its engines).
   */
  private observe(
    samples: readonly TextSample[],
    target: string,
    seen: SeenNames,
    kvCapacity: Map<string, number>,
  ): Map<string, Obs> {
    const out = new Map<string, Obs>();
    const hostPort = new URL(target).host;
    const acc = new Map<string, PodAcc>();
    // Real vLLM labels the info gauge with the engine, neither model_name nor pod: without a pod
    // label it is the target's, so every pod the target serves gets it.
    let targetTokens = 0;
    for (const s of samples) {
      if (s.name === VLLM_METRICS.cacheConfig) {
        const tokens = kvTokensOf(s.labels);
        if (tokens === undefined) continue;
        if (s.labels.pod === undefined) targetTokens += tokens;
        else {
          const key = capacityKey(s.labels.namespace ?? this.opts.defaultNamespace, s.labels.pod);
          kvCapacity.set(key, (kvCapacity.get(key) ?? 0) + tokens);
        }
        continue;
      }
      const modelID = s.labels.model_name;
      if (modelID === undefined) continue;
      const namespace = s.labels.namespace ?? this.opts.defaultNamespace;
      const pod = s.labels.pod ?? hostPort;
      addSeen(seen, namespace, modelID, pod);
      const fold = FOLDS.get(s.name);
      if (!fold) continue;
      const k = podKey(namespace, modelID, pod);
      let a = acc.get(k);
      if (!a) acc.set(k, (a = { namespace, modelID, pod, values: {}, missing: new Set() }));
      const v = s.value;
      if (v === undefined) {
        if (fold.nanIsMissing) a.missing.add(fold.field);
        continue;
      }
      const prev = a.values[fold.field];
      a.values[fold.field] = prev === undefined ? v : fold.combine === 'max' ? Math.max(prev, v) : prev + v;
    }
    for (const a of acc.values()) {
      const key = capacityKey(a.namespace, a.pod);
      if (targetTokens > 0 && !kvCapacity.has(key)) kvCapacity.set(key, targetTokens);
    }
    for (const [k, a] of acc) {
      // A NaN part makes a value missing (never under-report); the new KV name wins over the legacy one.
      const get = (f: PodField): number | undefined => (a.missing.has(f) ? undefined : a.values[f]);
      out.set(k, {
        namespace: a.namespace,
        modelID: a.modelID,
        pod: a.pod,
        kv: a.missing.has('kv') ? undefined : (a.values.kv ?? a.values.kvLegacy),
        waiting: get('waiting'),
        running: get('running'),
        successTotal: get('success'),
        inferenceSum: get('inferSum'),
        inferenceCount: get('inferCount'),
        promptTotal: get('prompt'),
        latency: Object.fromEntries(LATENCY_FIELDS.map((f) => [f, get(f)])),
      });
    }
    return out;
  }

  private async scrape(
    target: string,
    wanted: ReadonlySet<string>,
    flatHistograms?: ReadonlySet<string>,
  ): Promise<{ samples: TextSample[] } | { error: string }> {
    try {
      const res = await this.fetchImpl(target, {
        headers: { accept: 'text/plain;version=0.0.4' },
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      return { samples: parseExposition(await res.text(), target, wanted, flatHistograms) };
    } catch (error) {
      const e = error as Error;
      const reason = e.name === 'TimeoutError' ? `timed out after ${this.opts.timeoutMs} ms` : e.message;
      this.deps.metrics?.scrapeErrors.inc({ target });
      this.deps.logger.warn({ target, err: reason }, 'scrape failed');
      return { error: reason };
    }
  }
}

/** Runs `fn` over items with at most `limit` in flight; results keep the items' order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
