/**
 * Batched PromQL for the prometheus backend (pure). One query per signal for ALL tracked models:
 * the number of queries per fetch does not grow with models, variants or pods.
 *
 * Model names are user data (`Qwen/Qwen2.5-7B-Instruct`, `a.b+c`, even `"`), so the matchers are
 * escaped twice: for RE2 (Prometheus regexes are fully anchored RE2) and then for the PromQL
 * double-quoted string literal.
 */
import type { TrackedModel } from './collector.js';
import { GATEWAY_ARRIVAL_METRICS, GATEWAY_QUEUE_METRICS } from './gateway-queue.js';

/** Escapes every RE2 metacharacter so the text matches itself literally. */
export function escapeRe2(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/** Escapes text for a PromQL double-quoted string literal (backslash, quote, newline). */
export function promqlString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/**
 * A regex matcher literal that matches exactly the given values and nothing else, e.g.
 * `"^(?:a\\.b\\+c|Qwen/Qwen2\\.5)$"`. Sorted and deduplicated so the query text is stable.
 * An empty list matches nothing (`^$` would match the empty/absent label, so use a never-match).
 */
export function exactAlternation(values: Iterable<string>): string {
  const unique = [...new Set(values)].sort();
  if (unique.length === 0) return promqlString('^\\b\\B$'); // RE2: \b\B never matches
  return promqlString(`^(?:${unique.map(escapeRe2).join('|')})$`);
}

/** Signals the collector asks Prometheus for; the key is also the `signal` label of promQueries. */
export type SignalName =
  | 'kv'
  | 'waiting'
  | 'running'
  | 'rate'
  | 'service'
  | 'kvNow'
  | 'waitingNow'
  | 'promptTokens'
  | 'ttftMean'
  | 'ttftP95'
  | 'itlMean'
  | 'queueTime'
  | 'outputTokens'
  | 'cacheConfig'
  | 'retention'
  | 'gateway'
  | 'arrivals'
  | 'seen';

export interface SignalQuery {
  readonly signal: SignalName;
  readonly promql: string;
  /** For `retention` queries: the window they cover (ms). */
  readonly retentionMs?: number;
  /** Critical signals must all succeed for a fetch to replace cached values. */
  readonly critical: boolean;
}

const BY_POD = 'by (namespace, model_name, pod)';

/** Prometheus duration for a window in ms (whole seconds, at least 1s). */
export function promDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/** Mean of a histogram per pod over 1 m: increase of its _sum over increase of its _count. */
function meanOf(histogram: string, sel: string): string {
  return `sum ${BY_POD} (increase(${histogram}_sum${sel}[1m])) / sum ${BY_POD} (increase(${histogram}_count${sel}[1m]))`;
}

/**
 * The latency signals the service model learns from, for the models whose decisions read them only
 * (TrackedModel.latency), in seconds (the assembler turns them into ms). Each is NaN, read as
 * missing, over a minute in which the histogram took no sample.
 */
function latencyQueries(models: readonly TrackedModel[]): SignalQuery[] {
  const slo = models.filter((m) => m.latency === true);
  if (slo.length === 0) return [];
  const sel = `{namespace=~${exactAlternation(slo.map((m) => m.namespace))},model_name=~${exactAlternation(slo.map((m) => m.modelID))}}`;
  return [
    { signal: 'ttftMean', critical: false, promql: meanOf('vllm:time_to_first_token_seconds', sel) },
    {
      signal: 'ttftP95',
      critical: false,
      promql: `histogram_quantile(0.95, sum by (namespace, model_name, pod, le) (increase(vllm:time_to_first_token_seconds_bucket${sel}[1m])))`,
    },
    // vLLM renamed time_per_output_token to inter_token_latency; the older name where only it exists.
    {
      signal: 'itlMean',
      critical: false,
      promql: `(${meanOf('vllm:inter_token_latency_seconds', sel)}) or (${meanOf('vllm:request_time_per_output_token_seconds', sel)})`,
    },
    { signal: 'queueTime', critical: false, promql: meanOf('vllm:request_queue_time_seconds', sel) },
    {
      signal: 'outputTokens',
      critical: false,
      promql: `sum ${BY_POD} (increase(vllm:generation_tokens_total${sel}[1m])) / sum ${BY_POD} (increase(vllm:request_success_total${sel}[1m]))`,
    },
  ];
}

/**
 * The batched queries for one fetch. Per-pod aggregation: a pod with several engines (data
 * parallel, label `engine`) reports the max KV use and the sum of queued/running requests.
 */
export function buildSignalQueries(models: readonly TrackedModel[]): SignalQuery[] {
  if (models.length === 0) return [];
  const namespaces = exactAlternation(models.map((m) => m.namespace));
  const names = exactAlternation(models.map((m) => m.modelID));
  const sel = `{namespace=~${namespaces},model_name=~${names}}`;
  const queries: SignalQuery[] = [
    {
      signal: 'kv',
      critical: true,
      // `or` keeps the new name where a pod exposes both; older vLLM only has gpu_cache_usage_perc.
      promql: `max ${BY_POD} (max_over_time(vllm:kv_cache_usage_perc${sel}[1m]) or max_over_time(vllm:gpu_cache_usage_perc${sel}[1m]))`,
    },
    { signal: 'waiting', critical: true, promql: `sum ${BY_POD} (max_over_time(vllm:num_requests_waiting${sel}[1m]))` },
    { signal: 'running', critical: true, promql: `sum ${BY_POD} (vllm:num_requests_running${sel})` },
    // Sum over finished_reason (and engines): all finished requests per second.
    { signal: 'rate', critical: false, promql: `sum ${BY_POD} (rate(vllm:request_success_total${sel}[1m]))` },
    // Mean seconds a request spent running (queueing excluded); NaN, read as missing, when none finished.
    {
      signal: 'service',
      critical: false,
      promql: `sum ${BY_POD} (rate(vllm:request_inference_time_seconds_sum${sel}[1m])) / sum ${BY_POD} (rate(vllm:request_inference_time_seconds_count${sel}[1m]))`,
    },
    // The latest samples beside the 1 m peaks: saturated now, or only within the last minute.
    {
      signal: 'kvNow',
      critical: false,
      promql: `max ${BY_POD} (vllm:kv_cache_usage_perc${sel} or vllm:gpu_cache_usage_perc${sel})`,
    },
    { signal: 'waitingNow', critical: false, promql: `sum ${BY_POD} (vllm:num_requests_waiting${sel})` },
    // Mean prompt tokens per finished request: the KV a waiting request will take. NaN when none finished.
    {
      signal: 'promptTokens',
      critical: false,
      promql: `sum ${BY_POD} (rate(vllm:prompt_tokens_total${sel}[1m])) / sum ${BY_POD} (rate(vllm:request_success_total${sel}[1m]))`,
    },
    {
      signal: 'cacheConfig',
      critical: false,
      // An info gauge (value 1) whose labels carry the config; real vLLM labels it with the engine but
      // not model_name, so it is matched to the model's pods by (namespace, pod). One series per
      // engine and config: the count is the engines sharing it.
      promql: `count by (namespace, pod, num_gpu_blocks, block_size) (vllm:cache_config_info{namespace=~${namespaces}})`,
    },
    ...latencyQueries(models),
  ];
  // One increase() query per distinct retention window (usually one), never one per model.
  const byRetention = new Map<number, TrackedModel[]>();
  for (const m of models) byRetention.set(m.retentionMs, [...(byRetention.get(m.retentionMs) ?? []), m]);
  for (const [retentionMs, group] of [...byRetention].sort((a, b) => a[0] - b[0])) {
    const rsel = `{namespace=~${exactAlternation(group.map((m) => m.namespace))},model_name=~${exactAlternation(group.map((m) => m.modelID))}}`;
    queries.push({
      signal: 'retention',
      critical: false,
      retentionMs,
      promql: requestsOverWindow(`vllm:request_success_total${rsel}`, promDuration(retentionMs)),
    });
  }
  // The gateway (EPP) may or may not carry a namespace label: the empty alternative keeps both.
  // Its queue has two names; a gateway (job, instance) exporting the first is read only under it.
  const gwNamespaces = exactAlternation([...models.map((m) => m.namespace), '']);
  const gwSel = `{namespace=~${gwNamespaces},target_model_name=~${names}}`;
  const [current, next] = GATEWAY_QUEUE_METRICS;
  queries.push({
    signal: 'gateway',
    critical: false,
    promql: `sum by (namespace, target_model_name) (${current}${gwSel} or (${next}${gwSel} unless on (job, instance) ${current}))`,
  });
  // Requests per second arriving at the gateway, per series then summed per model, read under one
  // of the counter's two names per gateway as the queue is. irate: the last two samples of the
  // minute, so at a 15 s scrape a 15 s rate (what arrives now, not a minute's mean), and a longer
  // scrape interval (up to 30 s) still has two samples in the range.
  const [arrivals, arrivalsBefore] = GATEWAY_ARRIVAL_METRICS;
  queries.push({
    signal: 'arrivals',
    critical: false,
    promql: `sum by (namespace, target_model_name) (irate(${arrivals}${gwSel}[1m]) or (irate(${arrivalsBefore}${gwSel}[1m]) unless on (job, instance) ${arrivals}))`,
  });
  // Every model_name present in the tracked namespaces (unfiltered by name), with the pods that
  // serve it: feeds the "modelID matches no series" reason, naming a model's own pods that run
  // under another name. One series per pod.
  queries.push({
    signal: 'seen',
    critical: false,
    promql: `count by (namespace, model_name, pod) (vllm:num_requests_running{namespace=~${namespaces}})`,
  });
  return queries;
}

/**
 * Requests finished over the window, per (namespace, model_name). increase() counts from a
 * series' first sample, so a pod born inside the window (woken from zero, say) that served
 * requests before Prometheus first scraped it would count 0 and let the model go back to zero.
 * A series with no sample at the window's start (`unless x offset w`) therefore also adds its
 * first value, what it had counted since it started from 0: min_over_time() is that value for a
 * counter without resets; after a reset the min may be lower, so max_over_time() is used instead
 * (over-counts, which only delays scale to zero). Series that existed before the window add
 * nothing beyond increase(). The extra label keeps both parts apart through `or`, so the sum
 * adds them (and a series with one sample, which increase() drops, still counts).
 */
export function requestsOverWindow(counter: string, window: string): string {
  const range = `${counter}[${window}]`;
  const firstValue = `(min_over_time(${range}) and resets(${range}) == 0) or max_over_time(${range})`;
  const bornInWindow = `label_replace((${firstValue}) unless ${counter} offset ${window}, "part", "before_first_scrape", "", "")`;
  return `sum by (namespace, model_name) (increase(${range}) or ${bornInWindow})`;
}
