/**
 * Prometheus text exposition (format 0.0.4) mirroring a real vLLM v1 engine (v0.10+,
 * vllm/v1/metrics/loggers.py) as served by Python's prometheus_client: HELP/TYPE per family,
 * labels `engine` and `model_name` sorted by name, counters as `<name>_total` plus a separate
 * `<name>_created` gauge family, histograms as `_bucket`/`_count`/`_sum` plus `_created`, Python
 * float formatting (`1.0`, `1.755e+09`), and the `vllm:cache_config_info` info gauge. Every
 * series also carries `namespace` and `pod`, as Prometheus' Kubernetes discovery adds them.
 *
 * Families are written family-major (all pods' samples of one family together), as the format
 * requires when one endpoint serves many pods; output is produced in chunks so a fleet of
 * 10,000 pods is streamed, not held in one string.
 */
import { escapeLabel, type SimPod } from './pod.js';
import type { PromHistogram } from './prom-histogram.js';
import type { SimModel } from './model.js';

export interface ExpositionOptions {
  readonly legacyKvMetricName: boolean;
  readonly histograms: boolean;
}

/** prometheus_client's floatToGoString: Python repr, large values in Go's exponent form. */
export function formatValue(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  const s = Number.isInteger(d) && Math.abs(d) < 1e16 ? `${d}.0` : String(d);
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

type SampleWriter = (pod: SimPod, out: string[]) => void;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly write: SampleWriter;
}

function labels(pod: SimPod, extra?: string): string {
  return extra ? `{${pod.labelsHead},${extra},${pod.labelsTail}}` : `{${pod.labelsHead},${pod.labelsTail}}`;
}

function gauge(name: string, help: string, value: (p: SimPod) => number): Family {
  return { name, help, type: 'gauge', write: (p, out) => out.push(`${name}${labels(p)} ${formatValue(value(p))}`) };
}

/** A counter as prometheus_client renders it: `<base>_total` and a `<base>_created` family. */
function counter(base: string, help: string, value: (p: SimPod) => number): Family[] {
  return [
    {
      name: `${base}_total`,
      help,
      type: 'counter',
      write: (p, out) => out.push(`${base}_total${labels(p)} ${formatValue(value(p))}`),
    },
    created(base, help),
  ];
}

function created(base: string, help: string): Family {
  return {
    name: `${base}_created`,
    help,
    type: 'gauge',
    write: (p, out) => out.push(`${base}_created${labels(p)} ${formatValue(p.createdEpochSeconds)}`),
  };
}

function histogram(name: string, help: string, pick: (p: SimPod) => PromHistogram): Family[] {
  return [
    {
      name,
      help,
      type: 'histogram',
      write: (p, out) => {
        const h = pick(p);
        let cumulative = 0;
        for (let i = 0; i < h.bounds.length; i++) {
          cumulative += h.counts[i] ?? 0;
          out.push(`${name}_bucket${labels(p, `le="${formatValue(h.bounds[i] ?? 0)}"`)} ${formatValue(cumulative)}`);
        }
        out.push(`${name}_bucket${labels(p, 'le="+Inf"')} ${formatValue(h.count)}`);
        out.push(`${name}_count${labels(p)} ${formatValue(h.count)}`);
        out.push(`${name}_sum${labels(p)} ${formatValue(h.sum)}`);
      },
    },
    created(name, help),
  ];
}

const FINISHED_REASONS = ['abort', 'length', 'stop'] as const;

function cacheConfigInfo(): Family {
  const name = 'vllm:cache_config_info';
  return {
    name,
    help: 'Information of the LLMEngine CacheConfig',
    type: 'gauge',
    write: (p, out) => {
      out.push(
        `${name}{block_size="${p.variant.blockSize}",cache_dtype="auto",calculate_kv_scales="False",cpu_offload_gb="0",` +
          `enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",is_attention_free="False",` +
          `namespace="${escapeLabel(p.namespace)}",num_cpu_blocks="None",num_gpu_blocks="${p.variant.numGpuBlocks}",` +
          `num_gpu_blocks_override="None",pod="${escapeLabel(p.name)}",prefix_caching_hash_algo="builtin",` +
          `sliding_window="None",swap_space="4",swap_space_bytes="4294967296"} 1.0`,
      );
    },
  };
}

/** The vLLM metric families, in the order a v1 engine registers them. */
export function vllmFamilies(opts: ExpositionOptions): Family[] {
  const kv = opts.legacyKvMetricName
    ? gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', (p) => p.kvUsage)
    : gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (p) => p.kvUsage);
  const families: Family[] = [
    cacheConfigInfo(),
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', (p) => p.running.length),
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (p) => p.waiting),
    kv,
    ...counter(
      'vllm:prefix_cache_queries',
      'Prefix cache queries, in terms of number of queried tokens.',
      (p) => p.prefixQueries,
    ),
    ...counter(
      'vllm:prefix_cache_hits',
      'Prefix cache hits, in terms of number of cached tokens.',
      (p) => p.prefixHits,
    ),
    ...counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.', (p) => p.preemptions),
    ...counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', (p) => p.promptTokens),
    ...counter('vllm:generation_tokens', 'Number of generation tokens processed.', (p) => p.generationTokens),
    {
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      type: 'counter',
      write: (p, out) => {
        for (const reason of FINISHED_REASONS) {
          const v = reason === 'stop' ? p.successStop : 0;
          out.push(`vllm:request_success_total${labels(p, `finished_reason="${reason}"`)} ${formatValue(v)}`);
        }
      },
    },
    {
      name: 'vllm:request_success_created',
      help: 'Count of successfully processed requests.',
      type: 'gauge',
      write: (p, out) => {
        for (const reason of FINISHED_REASONS) {
          out.push(
            `vllm:request_success_created${labels(p, `finished_reason="${reason}"`)} ${formatValue(p.createdEpochSeconds)}`,
          );
        }
      },
    },
  ];
  if (opts.histograms) {
    families.push(
      ...histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', (p) => p.ttft),
      ...histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', (p) => p.itl),
      ...histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', (p) => p.e2e),
      ...histogram(
        'vllm:request_queue_time_seconds',
        'Histogram of time spent in WAITING phase for request.',
        (p) => p.queueTime,
      ),
      ...histogram(
        'vllm:request_inference_time_seconds',
        'Histogram of time spent in RUNNING phase for request.',
        (p) => p.inferenceTime,
      ),
    );
  }
  return families;
}

/** HELP text escaping (backslash and newline). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** The exposition of the given pods, one chunk per family. */
export function* vllmExposition(pods: readonly SimPod[], families: readonly Family[]): Generator<string> {
  for (const f of families) {
    const out: string[] = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
    for (const p of pods) f.write(p, out);
    out.push('');
    yield out.join('\n');
  }
}

/**
 * The gateway (llm-d EPP) exposition per model, as Go's client renders it (integers without a
 * decimal point): the flow-control queue under llm-d's name and the deprecated upstream name beside
 * it (gateway-api-inference-extension), the uncached prompt tokens dispatched and not yet prefilled
 * (`llm_d_epp_inflight_tokens`, llm-d's token-aware autoscaling guide) and their count
 * (`inference_objective_running_requests`), and the requests that arrived
 * (`inference_objective_request_total`).
 *
 * The request counter: gateway-api-inference-extension's site-src/guides/metrics.md lists it as
 * `inference_model_request_total` (Counter, labels model_name and target_model_name); since the
 * InferenceModel → InferenceObjective rename EPP exports it as `inference_objective_request_total`
 * only (its e2e test `verifyMetrics` expects that name), so only that name is written here. It is
 * the model's never-reset arrivals total: a counter must not go down between scrapes.
 */
export function gatewayExposition(models: Iterable<SimModel>): string {
  const list = [...models];
  const out: string[] = [];
  const family = (
    name: string,
    help: string,
    labels: (m: SimModel) => string,
    value: (m: SimModel) => number,
    type: 'gauge' | 'counter' = 'gauge',
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const m of list) out.push(`${name}{${labels(m)}} ${value(m)}`);
  };
  const model = (m: SimModel) => escapeLabel(m.modelID);
  const ns = (m: SimModel) => escapeLabel(m.namespace);
  const queueLabels = (m: SimModel) =>
    `fairness_id="default",inference_pool="vllm-pool",model_name="${model(m)}",namespace="${ns(m)}",` +
    `priority="0",target_model_name="${model(m)}"`;
  family(
    'llm_d_epp_flow_control_queue_size',
    'Current number of requests being actively managed by the EPP flow control layer.',
    queueLabels,
    (m) => m.gateway.size,
  );
  family(
    'inference_extension_flow_control_queue_size',
    '[ALPHA] Current number of requests being actively managed by the EPP flow control layer.',
    queueLabels,
    (m) => m.gateway.size,
  );
  family(
    'llm_d_epp_inflight_tokens',
    '[ALPHA] Current number of in-flight tokens per endpoint (uncached prompt tokens, optionally plus estimated output), as tracked by the in-flight load producer.',
    (m) => `inference_pool="vllm-pool",model_name="${model(m)}",namespace="${ns(m)}",target_model_name="${model(m)}"`,
    (m) => m.inflightTokens(),
  );
  family(
    'inference_objective_running_requests',
    '[ALPHA] Inference objective number of running requests in each model.',
    (m) => `model_name="${model(m)}",namespace="${ns(m)}",target_model_name="${model(m)}"`,
    (m) => m.running() + m.podWaiting(),
  );
  family(
    'inference_objective_request_total',
    '[ALPHA] Counter of inference objective requests broken out for each model and target model.',
    (m) => `model_name="${model(m)}",namespace="${ns(m)}",target_model_name="${model(m)}"`,
    (m) => m.arrivalsTotal,
    'counter',
  );
  out.push('');
  return out.join('\n');
}
