import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCache, NoOpCache } from '../../../src/cache/metrics-cache.js';
import type { TrackedModel } from '../../../src/collector/collector.js';
import { ScrapeCollector, ScrapeError } from '../../../src/collector/scrape-collector.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { VllmFleet } from '../../../src/sim/fleet/index.js';
import { freePort } from '../../helpers/ports.js';
import { FixtureServer } from './fixture-server.js';

/** Shaped like a real vLLM v0.10 /metrics (HELP/TYPE, engine label, finished_reason, histograms, info gauge). */
function vllmExposition(o: {
  model: string;
  kv: string;
  waiting: number;
  running: number;
  stop: number;
  length: number;
  labels?: string;
  legacy?: boolean;
  inferSum?: number;
  /** SLO mode's histograms (sum seconds, count) and generated tokens; absent unless given. */
  latency?: { ttft: [number, number]; itl: [number, number]; queue: [number, number]; generated: number };
}): string {
  const l = `engine="0",model_name="${o.model}"${o.labels ? `,${o.labels}` : ''}`;
  const kvName = o.legacy ? 'vllm:gpu_cache_usage_perc' : 'vllm:kv_cache_usage_perc';
  return `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{${l}} ${o.running}.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{${l}} ${o.waiting}.0
# HELP ${kvName} KV-cache usage. 1 means 100 percent usage.
# TYPE ${kvName} gauge
${kvName}{${l}} ${o.kv}
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{${l},finished_reason="stop"} ${o.stop}.0
vllm:request_success_total{${l},finished_reason="length"} ${o.length}.0
vllm:request_success_total{${l},finished_reason="abort"} 0.0
# HELP vllm:request_success_created Count of successfully processed requests.
# TYPE vllm:request_success_created gauge
vllm:request_success_created{${l},finished_reason="stop"} 1.7e+09
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{${l},le="0.3"} 1.0
vllm:e2e_request_latency_seconds_bucket{${l},le="+Inf"} 4.0
vllm:e2e_request_latency_seconds_count{${l}} 4.0
vllm:e2e_request_latency_seconds_sum{${l}} 9.5
# HELP vllm:request_inference_time_seconds Histogram of time spent in RUNNING phase for request.
# TYPE vllm:request_inference_time_seconds histogram
vllm:request_inference_time_seconds_bucket{${l},le="1.0"} 0.0
vllm:request_inference_time_seconds_bucket{${l},le="+Inf"} ${o.stop + o.length}.0
vllm:request_inference_time_seconds_count{${l}} ${o.stop + o.length}.0
vllm:request_inference_time_seconds_sum{${l}} ${o.inferSum ?? 0}
${o.latency ? latencyExposition(l, o.latency) : ''}# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",engine="0",num_gpu_blocks="2048"} 1.0
`;
}

function latencyExposition(
  l: string,
  x: { ttft: [number, number]; itl: [number, number]; queue: [number, number]; generated: number },
): string {
  const h = (name: string, [sum, count]: [number, number]): string => `# HELP ${name} Histogram.
# TYPE ${name} histogram
${name}_bucket{${l},le="0.5"} 0.0
${name}_bucket{${l},le="+Inf"} ${count}.0
${name}_count{${l}} ${count}.0
${name}_sum{${l}} ${sum}
`;
  return `${h('vllm:time_to_first_token_seconds', x.ttft)}${h('vllm:inter_token_latency_seconds', x.itl)}${h('vllm:request_queue_time_seconds', x.queue)}# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{${l}} ${x.generated}.0
`;
}

const tracked = (modelID: string, namespace = 'default', retentionMs = 600_000): TrackedModel => ({
  namespace,
  modelID,
  retentionMs,
  deployments: [{ variantKey: `${namespace}/qwen-h100`, deployment: 'qwen-h100' }],
});

describe('ScrapeCollector', () => {
  let a: FixtureServer;
  let b: FixtureServer;
  beforeEach(async () => {
    a = new FixtureServer();
    b = new FixtureServer();
    await a.start();
    await b.start();
  });
  afterEach(async () => {
    await a.stop();
    await b.stop();
  });

  const make = (targets: string[], extra: { gateway?: string; now?: () => number; noop?: boolean } = {}) => {
    const metrics = new ScalerMetrics();
    const cache = extra.noop
      ? new NoOpCache()
      : new MemoryCache({ ttlMs: 30_000, max: 100, ...(extra.now ? { now: extra.now } : {}) });
    const collector = new ScrapeCollector(
      { targets, gatewayTarget: extra.gateway, timeoutMs: 500, concurrency: 2, defaultNamespace: 'default' },
      { cache, logger: silentLogger(), metrics, ...(extra.now ? { now: extra.now } : {}) },
    );
    return { collector, metrics, cache };
  };

  it('reads per-pod values from a real-shaped exposition; pod and namespace labels win, else host:port and the default namespace', async () => {
    a.route('/metrics', {
      body: vllmExposition({
        model: 'Qwen/Qwen2.5-7B-Instruct',
        kv: '0.42',
        waiting: 3,
        running: 5,
        stop: 10,
        length: 2,
        labels: 'namespace="prod",pod="qwen-h100-abc-1"',
      }),
    });
    b.route('/metrics', {
      body: vllmExposition({
        model: 'Qwen/Qwen2.5-7B-Instruct',
        kv: '0.1',
        waiting: 0,
        running: 1,
        stop: 1,
        length: 0,
      }),
    });
    const { collector } = make([a.url('/metrics'), b.url('/metrics')]);
    const models = [tracked('Qwen/Qwen2.5-7B-Instruct', 'prod'), tracked('Qwen/Qwen2.5-7B-Instruct', 'default')];
    await collector.fetch(models);
    const prod = collector.getModelMetrics('prod', 'Qwen/Qwen2.5-7B-Instruct');
    expect(prod?.replicas).toEqual([
      {
        namespace: 'prod',
        modelID: 'Qwen/Qwen2.5-7B-Instruct',
        pod: 'qwen-h100-abc-1',
        variantKey: 'prod/qwen-h100',
        kvCacheUsage: 0.42,
        queueLength: 3,
        running: 5,
        requestRate: undefined,
        serviceSeconds: undefined,
        // The latest samples beside the peaks, and the info gauge (no pod label: the target's pod).
        kvCacheUsageNow: 0.42,
        queueLengthNow: 3,
        kvCapacityTokens: 2048 * 16,
        promptTokensPerRequest: undefined,
      },
    ]);
    expect(prod?.requestsOverRetention).toBeUndefined(); // history shorter than the window
    expect(prod?.gatewayQueue).toBeUndefined(); // no gateway target
    expect(prod?.seenModelNames).toEqual(['Qwen/Qwen2.5-7B-Instruct']);
    const dflt = collector.getModelMetrics('default', 'Qwen/Qwen2.5-7B-Instruct');
    expect(dflt?.replicas.map((r) => [r.pod, r.kvCacheUsage, r.variantKey])).toEqual([
      [new URL(b.url()).host, 0.1, undefined],
    ]);
  });

  it('computes prompt tokens per finished request from successive scrapes, and reads a pod-labelled info gauge', async () => {
    let now = 1_000_000;
    let stop = 10;
    let prompt = 1000;
    a.route('/metrics', () => ({
      body:
        vllmExposition({
          model: 'm',
          kv: '0.5',
          waiting: 2,
          running: 1,
          stop,
          length: 0,
          labels: 'pod="qwen-h100-x-1"',
        }) +
        `# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{engine="0",model_name="m",pod="qwen-h100-x-1"} ${prompt}.0\n` +
        // An info gauge labelled with the pod is that pod's own: it wins over the target's unlabelled one.
        `vllm:cache_config_info{block_size="16",engine="1",num_gpu_blocks="1024",pod="qwen-h100-x-1"} 1.0\n`,
    }));
    const { collector } = make([a.url('/metrics')], { now: () => now });
    await collector.fetch([tracked('m')]);
    now += 10_000;
    stop += 4;
    prompt += 2000;
    await collector.fetch([tracked('m')]);
    const r = collector.getModelMetrics('default', 'm')?.replicas[0];
    expect(r?.promptTokensPerRequest).toBeCloseTo(500);
    expect(r?.kvCapacityTokens).toBe(1024 * 16);
  });

  it('computes the request rate from successive scrapes, summed over finished_reason', async () => {
    let now = 1_000_000;
    let stop = 10;
    a.route('/metrics', () => ({
      body: vllmExposition({
        model: 'm',
        kv: '0.5',
        waiting: 0,
        running: 1,
        stop,
        length: 5,
        labels: 'pod="qwen-h100-x-1"',
      }),
    }));
    const { collector } = make([a.url('/metrics')], { now: () => now });
    await collector.fetch([tracked('m')]);
    now += 10_000;
    stop += 20;
    await collector.fetch([tracked('m')]);
    expect(collector.getModelMetrics('default', 'm')?.replicas[0]?.requestRate).toBeCloseTo(2);
  });

  it('computes the mean service time from the inference-time histogram (its _sum and _count), which the parser alone drops', async () => {
    let now = 1_000_000;
    let stop = 10;
    let inferSum = 25;
    a.route('/metrics', () => ({
      body: vllmExposition({
        model: 'm',
        kv: '0.5',
        waiting: 0,
        running: 1,
        stop,
        length: 0,
        inferSum,
        labels: 'pod="qwen-h100-x-1"',
      }),
    }));
    const { collector } = make([a.url('/metrics')], { now: () => now });
    await collector.fetch([tracked('m')]);
    now += 10_000;
    stop += 20; // 20 more requests, 50 s more running time
    inferSum += 50;
    await collector.fetch([tracked('m')]);
    expect(collector.getModelMetrics('default', 'm')?.replicas[0]?.serviceSeconds).toBeCloseTo(2.5);
  });

  it('understands the legacy KV metric name and reports NaN as missing', async () => {
    a.route('/metrics', {
      body: vllmExposition({
        model: 'old',
        kv: '0.7',
        waiting: 1,
        running: 1,
        stop: 0,
        length: 0,
        legacy: true,
        labels: 'pod="p1"',
      }),
    });
    b.route('/metrics', {
      body: vllmExposition({ model: 'old', kv: 'NaN', waiting: 1, running: 1, stop: 0, length: 0, labels: 'pod="p2"' }),
    });
    const { collector } = make([a.url('/metrics'), b.url('/metrics')]);
    await collector.fetch([tracked('old')]);
    const byPod = new Map(collector.getModelMetrics('default', 'old')?.replicas.map((r) => [r.pod, r.kvCacheUsage]));
    expect(byPod.get('p1')).toBe(0.7);
    expect(byPod.has('p2')).toBe(true);
    expect(byPod.get('p2')).toBeUndefined();
  });

  it('keeps pods of a failed target as replicas with missing values, counts the error, and fails when every target fails', async () => {
    a.route('/metrics', {
      body: vllmExposition({ model: 'm', kv: '0.5', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p1"' }),
    });
    b.route('/metrics', {
      body: vllmExposition({ model: 'm', kv: '0.6', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p2"' }),
    });
    const { collector, metrics } = make([a.url('/metrics'), b.url('/metrics')]);
    await collector.fetch([tracked('m')]);
    b.route('/metrics', { status: 500, body: 'boom' });
    await collector.fetch([tracked('m')]);
    const r = collector.getModelMetrics('default', 'm')?.replicas ?? [];
    expect(r.map((x) => [x.pod, x.kvCacheUsage, x.running])).toEqual([
      ['p1', 0.5, 1],
      ['p2', undefined, undefined],
    ]);
    expect(await metrics.registry.getSingleMetricAsString('wva_scaler_scrape_errors_total')).toContain(
      `target="${b.url('/metrics')}"} 1`,
    );
    a.route('/metrics', { status: 503, body: 'down' });
    await expect(collector.fetch([tracked('m')])).rejects.toBeInstanceOf(ScrapeError);
    // The cache keeps the last good values.
    expect(collector.getModelMetrics('default', 'm')?.replicas.length).toBe(2);
  });

  it('drops a pod gone from its target at the next scrape (the history still holds its samples)', async () => {
    const two =
      vllmExposition({ model: 'm', kv: '0.5', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p1"' }) +
      vllmExposition({ model: 'm', kv: '0.2', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p2"' })
        .replace(/^#.*\n/gm, '')
        .replace(/^vllm:cache_config_info.*\n/gm, '');
    a.route('/metrics', { body: two });
    const { collector } = make([a.url('/metrics')]);
    await collector.fetch([tracked('m')]);
    expect(collector.getModelMetrics('default', 'm')?.replicas.map((r) => r.pod)).toEqual(['p1', 'p2']);
    a.route('/metrics', {
      body: vllmExposition({ model: 'm', kv: '0.5', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p1"' }),
    });
    await collector.fetch([tracked('m')]);
    expect(collector.getModelMetrics('default', 'm')?.replicas.map((r) => r.pod)).toEqual(['p1']);
  });

  it('times out a slow target', async () => {
    a.route('/metrics', { delayMs: 2000, body: '' });
    const { collector } = make([a.url('/metrics')]);
    await expect(collector.fetch([tracked('m')])).rejects.toThrow(/timed out after 500 ms/);
  });

  it('reads the gateway queue per target model, honouring a namespace label when present', async () => {
    a.route('/metrics', { body: '' });
    b.route('/gw', {
      body: `# TYPE inference_extension_flow_control_queue_size gauge
inference_extension_flow_control_queue_size{fairness_id="a",priority="0",target_model_name="m",namespace="prod"} 4
inference_extension_flow_control_queue_size{fairness_id="b",priority="0",target_model_name="m",namespace="prod"} 2
inference_extension_flow_control_queue_size{target_model_name="m",namespace="dev"} 9
inference_extension_flow_control_queue_size{target_model_name="n"} 1
`,
    });
    const { collector } = make([a.url('/metrics')], { gateway: b.url('/gw') });
    await collector.fetch([tracked('m', 'prod'), tracked('n', 'prod'), tracked('z', 'prod')]);
    expect(collector.getModelMetrics('prod', 'm')?.gatewayQueue).toBe(6);
    expect(collector.getModelMetrics('prod', 'n')?.gatewayQueue).toBe(1);
    expect(collector.getModelMetrics('prod', 'z')?.gatewayQueue).toBeUndefined(); // absent is missing, not 0
    expect(collector.getModelMetrics('prod', 'z')?.replicas).toEqual([]);
  });

  it("reads the gateway queue under llm-d's newer name too, and only one name when a gateway exports both", async () => {
    a.route('/metrics', { body: '' });
    b.route('/gw', {
      body: `# TYPE inference_extension_flow_control_queue_size gauge
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",priority="0",target_model_name="m",namespace="prod"} 4
# TYPE llm_d_epp_flow_control_queue_size gauge
llm_d_epp_flow_control_queue_size{priority="0",target_model_name="m",namespace="prod"} 4
`,
    });
    const { collector } = make([a.url('/metrics')], { gateway: b.url('/gw') });
    await collector.fetch([tracked('m', 'prod')]);
    expect(collector.getModelMetrics('prod', 'm')?.gatewayQueue).toBe(4);
    b.route('/gw', {
      body: `# TYPE llm_d_epp_flow_control_queue_size gauge\nllm_d_epp_flow_control_queue_size{priority="0",target_model_name="m",namespace="prod"} 3\n`,
    });
    await collector.fetch([tracked('m', 'prod')]);
    expect(collector.getModelMetrics('prod', 'm')?.gatewayQueue).toBe(3);
  });

  it("reads the gateway's arrivals as the rate of EPP's request counter over the last two gateway scrapes", async () => {
    a.route('/metrics', { body: '' });
    const gateway = (m: number): string =>
      `# TYPE inference_objective_request_total counter\n` +
      `inference_objective_request_total{model_name="m",namespace="prod",target_model_name="m"} ${m}\n`;
    let t = 1_000_000;
    const { collector } = make([a.url('/metrics')], { gateway: b.url('/gw'), now: () => t });
    const arrivals = () => collector.getModelMetrics('prod', 'm')?.gatewayArrivalRate;
    b.route('/gw', { body: gateway(100) });
    await collector.fetch([tracked('m', 'prod')]);
    expect(arrivals()).toBeUndefined(); // one scrape: no rate yet (missing, not 0)
    t += 15_000;
    b.route('/gw', { body: gateway(145) });
    await collector.fetch([tracked('m', 'prod')]);
    expect(arrivals()).toBe(3);
    t += 15_000;
    b.route('/gw', { status: 500, body: '' });
    await collector.fetch([tracked('m', 'prod')]);
    expect(arrivals()).toBeUndefined(); // the gateway failed: missing, never 0
    t += 15_000;
    b.route('/gw', { body: gateway(10) }); // the gateway restarted: 10 new requests over the 30 s since
    await collector.fetch([tracked('m', 'prod')]);
    expect(arrivals()).toBeCloseTo(10 / 30, 12);
  });

  it("reads the fleet emulator's gateway counter: the arrivals between two scrapes per second", async () => {
    const fleet = new VllmFleet({
      realtime: false,
      seed: 3,
      models: [{ namespace: 'prod', modelID: 'm', arrivalRate: 8, variants: [{ deployment: 'm-h100', replicas: 1 }] }],
    });
    await fleet.start();
    try {
      let t = 0;
      const { collector } = make([fleet.metricsUrl()], { gateway: fleet.gatewayUrl(), now: () => t });
      const total = () => fleet.snapshot().models[0]?.arrivalsTotal ?? NaN;
      await collector.fetch([tracked('m', 'prod')]);
      const before = total();
      fleet.step(15_000);
      t += 15_000;
      await collector.fetch([tracked('m', 'prod')]);
      expect(total() - before).toBeGreaterThan(0);
      expect(collector.getModelMetrics('prod', 'm')?.gatewayArrivalRate).toBeCloseTo((total() - before) / 15, 12);
    } finally {
      await fleet.stop();
    }
  });

  it('with a NoOpCache serves only the latest fetch and nothing after a failed one', async () => {
    a.route('/metrics', {
      body: vllmExposition({ model: 'm', kv: '0.5', waiting: 0, running: 1, stop: 0, length: 0, labels: 'pod="p1"' }),
    });
    const { collector } = make([a.url('/metrics')], { noop: true });
    await collector.fetch([tracked('m')]);
    expect(collector.getModelMetrics('default', 'm')?.replicas.length).toBe(1);
    a.route('/metrics', { status: 500, body: '' });
    await expect(collector.fetch([tracked('m')])).rejects.toThrow();
    expect(collector.getModelMetrics('default', 'm')).toBeUndefined();
  });

  it('refuses to start without targets, naming the setting', async () => {
    expect(
      () =>
        new ScrapeCollector(
          { targets: [], timeoutMs: 1, concurrency: 1, defaultNamespace: 'd' },
          { cache: new NoOpCache(), logger: silentLogger() },
        ),
    ).toThrow(/WVA_SCRAPE_TARGETS/);
    const port = await freePort();
    const { collector } = make([`http://127.0.0.1:${port}/metrics`]);
    await expect(collector.fetch([tracked('m')])).rejects.toThrow(/every scrape target failed/);
  });

  it('reads the latency means and output tokens per request over the window, missing before two scrapes', async () => {
    let t = 1_000_000;
    const { collector } = make([a.url('/metrics')], { now: () => t, noop: true });
    const body = (stop: number, latency: Parameters<typeof vllmExposition>[0]['latency']) =>
      vllmExposition({ model: 'm', kv: '0.2', waiting: 0, running: 2, stop, length: 0, latency });
    a.route('/metrics', { body: body(10, { ttft: [2, 10], itl: [1, 100], queue: [0.5, 10], generated: 1000 }) });
    await collector.fetch([tracked('m')]);
    const first = collector.getModelMetrics('default', 'm')?.replicas[0];
    expect(first?.ttftMeanMs).toBeUndefined();
    expect(first?.itlMeanMs).toBeUndefined();
    t += 15_000;
    // 10 more requests: TTFT 3 s over 10 (300 ms), ITL 2 s over 100 (20 ms), queue 1 s over 10, 2,000 tokens.
    a.route('/metrics', { body: body(20, { ttft: [5, 20], itl: [3, 200], queue: [1.5, 20], generated: 3000 }) });
    await collector.fetch([tracked('m')]);
    const r = collector.getModelMetrics('default', 'm')?.replicas[0];
    expect(r?.ttftMeanMs).toBeCloseTo(300, 6);
    expect(r?.itlMeanMs).toBeCloseTo(20, 6);
    expect(r?.queueTimeMeanMs).toBeCloseTo(100, 6);
    expect(r?.outputTokensPerRequest).toBeCloseTo(200, 6);
    expect(r?.ttftP95Ms).toBeUndefined();
  });
});
