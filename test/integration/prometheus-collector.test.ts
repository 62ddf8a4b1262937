/**
 * The prometheus backend against a real Prometheus (Debian's binary) scraping the vLLM fleet
 * emulator every second, plus a small static target for absent/NaN series. The fleet is frozen
 * (realtime off, stepped once) so Prometheus' values can be compared with the fleet's own state.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/cache/metrics-cache.js';
import type { TrackedModel } from '../../src/collector/collector.js';
import { MetricsFetcher } from '../../src/collector/fetcher.js';
import { PrometheusClient, PrometheusError } from '../../src/collector/prometheus-client.js';
import { PrometheusCollector } from '../../src/collector/prometheus-collector.js';
import { freshnessOf } from '../../src/domain/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { PrometheusProcess } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/ports.js';

const QWEN = 'Qwen/Qwen2.5-7B-Instruct';
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const MISTRAL = 'mistralai/Mistral-7B-Instruct-v0.3';

function tracked(namespace: string, modelID: string, deployments: string[]): TrackedModel {
  return {
    namespace,
    modelID,
    retentionMs: 600_000,
    deployments: deployments.map((d) => ({ variantKey: `${namespace}/${d}`, deployment: d })),
    // SLO mode's latency signals too, so their PromQL runs against a real Prometheus here.
    latency: true,
  };
}

const MODELS: TrackedModel[] = [
  tracked('team-a', QWEN, ['qwen-h100']),
  tracked('team-b', LLAMA, ['llama-a100', 'llama-h100']),
  tracked('team-b', MISTRAL, ['mistral-l4']),
  tracked('team-a', 'a.b+c', ['abc']),
  tracked('team-a', 'absent', ['absent']),
  tracked('team-b', 'idle', ['idle-h100']),
  tracked('team-b', 'woken', ['woken-h100']),
  tracked('team-b', 'shrink', ['shrink-h100']),
  tracked('team-a', 'gw-both', ['gw-both']),
  tracked('team-a', 'gw-new', ['gw-new']),
  tracked('team-a', 'gw-split', ['gw-split']),
  tracked('team-a', 'grow', ['grow']),
  tracked('team-a', 'reset', ['reset']),
];

/** A static target: one pod with KV only (no waiting metric, no counter) and a NaN running gauge. */
const ABSENT_EXPOSITION = `# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="absent",namespace="team-a",pod="absent-5d8f9c7b6d-a1b2c"} 0.3
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="absent",namespace="team-a",pod="absent-5d8f9c7b6d-a1b2c"} NaN
`;

/**
 * Two gateways: one exports its queue under both names (the old one with more labels, as EPP
 * does), the other only under llm-d's new name. Each must be read once, under one name. Likewise
 * EPP's request counter: the first exports the current name and the one before the rename (at
 * other rates, so counting both would show), the second only the older name. The counters grow with
 * the wall clock at the given requests per second, so Prometheus' irate() has something to measure.
 */
const FIXTURE_STARTED_MS = Date.now();
function requestCounter(name: string, model: string, perSecond: number): string {
  const value = ((perSecond * (Date.now() - FIXTURE_STARTED_MS)) / 1000).toFixed(3);
  return `${name}{model_name="${model}",namespace="team-a",target_model_name="${model}"} ${value}`;
}
function gatewayBoth(): string {
  return `# TYPE inference_extension_flow_control_queue_size gauge
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",namespace="team-a",priority="0",target_model_name="gw-both"} 2
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",namespace="team-a",priority="0",target_model_name="gw-split"} 1
# TYPE llm_d_epp_flow_control_queue_size gauge
llm_d_epp_flow_control_queue_size{namespace="team-a",priority="0",target_model_name="gw-both"} 2
llm_d_epp_flow_control_queue_size{namespace="team-a",priority="0",target_model_name="gw-split"} 1
# TYPE inference_objective_request_total counter
${requestCounter('inference_objective_request_total', 'gw-both', 2)}
${requestCounter('inference_objective_request_total', 'gw-split', 1)}
# TYPE inference_model_request_total counter
${requestCounter('inference_model_request_total', 'gw-both', 10)}
${requestCounter('inference_model_request_total', 'gw-split', 10)}
`;
}
function gatewayNew(): string {
  return `# TYPE llm_d_epp_flow_control_queue_size gauge
llm_d_epp_flow_control_queue_size{namespace="team-a",priority="0",target_model_name="gw-new"} 5
llm_d_epp_flow_control_queue_size{namespace="team-a",priority="0",target_model_name="gw-split"} 4
# TYPE inference_model_request_total counter
${requestCounter('inference_model_request_total', 'gw-new', 3)}
${requestCounter('inference_model_request_total', 'gw-split', 4)}
`;
}

/** A static target with request counters the test moves by hand (two pods, one model each). */
function countersExposition(grow: number, reset: number): string {
  return `# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="grow",namespace="team-a",pod="grow-5d8f9c7b6d-a1b2c"} 0
vllm:num_requests_running{engine="0",model_name="reset",namespace="team-a",pod="reset-5d8f9c7b6d-a1b2c"} 0
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="grow",namespace="team-a",pod="grow-5d8f9c7b6d-a1b2c"} ${grow}
vllm:request_success_total{engine="0",finished_reason="stop",model_name="reset",namespace="team-a",pod="reset-5d8f9c7b6d-a1b2c"} ${reset}
`;
}

describe('PrometheusCollector against a real Prometheus', () => {
  let fleet: VllmFleet;
  let fixture: Server;
  let prom: PrometheusProcess;
  let offsetMs = 0;
  const now = (): number => Date.now() + offsetMs;
  const metrics = new ScalerMetrics();
  let cache: MemoryCache;
  let client: PrometheusClient;
  let collector: PrometheusCollector;
  let counters = countersExposition(3, 5);

  beforeAll(async () => {
    fleet = new VllmFleet({
      realtime: false,
      seed: 7,
      histograms: true,
      models: [
        {
          namespace: 'team-a',
          modelID: QWEN,
          arrivalRate: 20,
          variants: [{ deployment: 'qwen-h100', replicas: 2, maxBatch: 4 }],
        },
        {
          namespace: 'team-b',
          modelID: LLAMA,
          arrivalRate: 6,
          variants: [
            { deployment: 'llama-a100', replicas: 2 },
            { deployment: 'llama-h100', replicas: 1 },
          ],
        },
        {
          namespace: 'team-b',
          modelID: MISTRAL,
          arrivalRate: 2,
          variants: [{ deployment: 'mistral-l4', replicas: 1 }],
        },
        { namespace: 'team-a', modelID: 'a.b+c', arrivalRate: 1, variants: [{ deployment: 'abc', replicas: 1 }] },
        { namespace: 'team-a', modelID: 'aXb+c', arrivalRate: 1, variants: [{ deployment: 'axbc', replicas: 1 }] },
        { namespace: 'team-a', modelID: 'a.b+cc', arrivalRate: 1, variants: [{ deployment: 'abcc', replicas: 1 }] },
        // What the unescaped regex `a.b+c` would also match: catches a missing escape.
        { namespace: 'team-a', modelID: 'aXbbc', arrivalRate: 1, variants: [{ deployment: 'axbbc', replicas: 1 }] },
        { namespace: 'team-b', modelID: 'idle', arrivalRate: 0, variants: [{ deployment: 'idle-h100', replicas: 0 }] },
        {
          namespace: 'team-b',
          modelID: 'woken',
          arrivalRate: 0,
          variants: [{ deployment: 'woken-h100', replicas: 0 }],
        },
        {
          namespace: 'team-b',
          modelID: 'shrink',
          arrivalRate: 4,
          variants: [{ deployment: 'shrink-h100', replicas: 3 }],
        },
      ],
    });
    // Woken from zero: its new pod serves the 3 queued requests before Prometheus ever scrapes it.
    fleet.enqueueAtGateway('team-b', 'woken', 3);
    fleet.setReplicas('team-b', 'woken-h100', 1);
    fleet.step(20_000); // build queues and KV use, then freeze: Prometheus sees constant values
    await fleet.start();
    fixture = createServer((req, res) =>
      res.end(
        req.url === '/counters'
          ? counters
          : req.url === '/gw-both'
            ? gatewayBoth()
            : req.url === '/gw-new'
              ? gatewayNew()
              : ABSENT_EXPOSITION,
      ),
    );
    await new Promise<void>((r) => fixture.listen(0, '127.0.0.1', r));
    const addr = fixture.address();
    const fixturePort = typeof addr === 'object' && addr ? addr.port : 0;
    prom = await PrometheusProcess.start({
      jobs: [
        { job: 'vllm', url: fleet.metricsUrl() },
        { job: 'gateway', url: fleet.gatewayUrl() },
        { job: 'static', url: `http://127.0.0.1:${fixturePort}/metrics` },
        { job: 'counters', url: `http://127.0.0.1:${fixturePort}/counters` },
        { job: 'gateway-both', url: `http://127.0.0.1:${fixturePort}/gw-both` },
        { job: 'gateway-new', url: `http://127.0.0.1:${fixturePort}/gw-new` },
      ],
      scrapeIntervalMs: 1000,
    });
    cache = new MemoryCache({ ttlMs: 30_000, max: 1000, now });
    client = new PrometheusClient({
      baseUrl: prom.url,
      timeoutMs: 2000,
      retry: { retries: 1, baseDelayMs: 50, maxDelayMs: 100 },
    });
    collector = new PrometheusCollector({ client, cache, logger: silentLogger(), metrics, now });
    // Wait until Prometheus has scraped every job at least twice (rate needs two samples).
    await waitFor(
      async () => {
        await collector.fetch(MODELS);
        const q = collector.getModelMetrics('team-a', QWEN);
        return (
          (q?.replicas.length ?? 0) === 2 &&
          q?.replicas.every((r) => r.requestRate !== undefined) === true &&
          collector.getModelMetrics('team-a', 'absent')?.replicas.length === 1
        );
      },
      20_000,
      `Prometheus to scrape the fleet\n${prom.logTail}`,
    );
  }, 40_000);

  afterAll(async () => {
    await collector?.close();
    await prom?.close();
    await fleet?.stop();
    await new Promise<void>((r) => (fixture ? fixture.close(() => r()) : r()));
  });

  it('reports correct per-pod values for three models in two namespaces', () => {
    const snap = fleet.snapshot();
    for (const [ns, id] of [
      ['team-a', QWEN],
      ['team-b', LLAMA],
      ['team-b', MISTRAL],
    ] as const) {
      const want = snap.models.find((m) => m.namespace === ns && m.modelID === id);
      const got = collector.getModelMetrics(ns, id);
      expect(got, `${ns}/${id}`).toBeDefined();
      expect(got?.replicas.map((r) => r.pod)).toEqual(
        want?.pods
          .filter((p) => p.ready)
          .map((p) => p.pod)
          .sort(),
      );
      for (const r of got?.replicas ?? []) {
        const p = want?.pods.find((x) => x.pod === r.pod);
        expect(r.kvCacheUsage).toBeCloseTo(p?.kvUsage ?? -1, 6);
        expect(r.queueLength).toBe(p?.waiting);
        expect(r.running).toBe(p?.running);
        expect(r.requestRate).toBe(0); // frozen fleet: counters do not move
        expect(r.serviceSeconds).toBeUndefined(); // nothing finished over the window: 0 / 0 is NaN, missing
        expect(r.variantKey).toBe(`${ns}/${p?.deployment}`);
      }
    }
    // Something is actually loaded, so the comparison above is not all zeros.
    const qwen = collector.getModelMetrics('team-a', QWEN);
    expect(qwen?.replicas.some((r) => (r.queueLength ?? 0) > 0)).toBe(true);
    expect(qwen?.replicas.some((r) => (r.kvCacheUsage ?? 0) > 0)).toBe(true);
    // Llama has two variants: pods are split by Deployment name prefix.
    expect(new Set(collector.getModelMetrics('team-b', LLAMA)?.replicas.map((r) => r.variantKey))).toEqual(
      new Set(['team-b/llama-a100', 'team-b/llama-h100']),
    );
    expect(collector.getModelMetrics('team-a', QWEN)?.requestsOverRetention).toBeGreaterThanOrEqual(0);
  });

  it('matches a model name with regex metacharacters exactly, and sees its look-alikes', () => {
    const m = collector.getModelMetrics('team-a', 'a.b+c');
    expect(m?.replicas.map((r) => r.pod)).toHaveLength(1);
    expect(m?.replicas[0]?.pod.startsWith('abc-')).toBe(true);
    expect(m?.seenModelNames).toEqual(expect.arrayContaining(['a.b+c', 'aXb+c', 'a.b+cc', 'aXbbc', QWEN]));
    expect(m?.seenModelNames).not.toContain(LLAMA); // other namespace
  });

  it('reports an absent metric and a NaN as missing, never 0', () => {
    const m = collector.getModelMetrics('team-a', 'absent');
    expect(m?.replicas).toEqual([
      {
        namespace: 'team-a',
        modelID: 'absent',
        pod: 'absent-5d8f9c7b6d-a1b2c',
        variantKey: 'team-a/absent',
        kvCacheUsage: 0.3,
        queueLength: undefined,
        running: undefined,
        requestRate: undefined,
        serviceSeconds: undefined,
        // The latest sample of the same gauge; the absent ones stay missing.
        kvCacheUsageNow: 0.3,
        queueLengthNow: undefined,
        kvCapacityTokens: undefined,
        promptTokensPerRequest: undefined,
      },
    ]);
    expect(m?.requestsOverRetention).toBeUndefined();
  });

  it('reads the gateway queue of a model at zero replicas', async () => {
    expect(collector.getModelMetrics('team-b', 'idle')?.replicas).toEqual([]);
    fleet.enqueueAtGateway('team-b', 'idle', 3);
    await waitFor(
      async () => {
        await collector.fetch(MODELS);
        return collector.getModelMetrics('team-b', 'idle')?.gatewayQueue === 3;
      },
      10_000,
      'gateway queue of 3 in Prometheus',
    );
  });

  it('reads the gateway queue under either name, one name per gateway, so nothing counts twice', async () => {
    await waitFor(
      // The fleet's own gateway exports the llm-d name too; count the two fixture gateways' series.
      async () =>
        (await client.query('llm_d_epp_flow_control_queue_size')).samples.filter((x) =>
          (x.labels.target_model_name ?? '').startsWith('gw-'),
        ).length === 4,
      10_000,
      `both gateways scraped\n${prom.logTail}`,
    );
    await collector.fetch(MODELS);
    expect(collector.getModelMetrics('team-a', 'gw-both')?.gatewayQueue).toBe(2);
    expect(collector.getModelMetrics('team-a', 'gw-new')?.gatewayQueue).toBe(5);
    // 1 from the first gateway, 4 from the other.
    expect(collector.getModelMetrics('team-a', 'gw-split')?.gatewayQueue).toBe(5);
  });

  it("reads the gateway's arrival rate (irate of EPP's request counter) under either name, one name per gateway", async () => {
    const rateOf = (id: string): number | undefined => collector.getModelMetrics('team-a', id)?.gatewayArrivalRate;
    await waitFor(
      async () => {
        await collector.fetch(MODELS);
        return ['gw-both', 'gw-new', 'gw-split', QWEN].every((id) => rateOf(id) !== undefined);
      },
      10_000,
      `two scrapes of the gateways' request counters\n${prom.logTail}`,
    );
    // Requests per second; the counters are computed when served, a few ms after the scrape's timestamp.
    const near = (got: number | undefined, want: number): void => {
      expect(got).toBeGreaterThan(want * 0.8);
      expect(got).toBeLessThan(want * 1.2);
    };
    near(rateOf('gw-both'), 2); // the current name only; both would say 12
    near(rateOf('gw-new'), 3); // the older name where it is the only one
    near(rateOf('gw-split'), 5); // 1 from the first gateway, 4 from the other
    // The frozen fleet's counter does not move: a measured 0, not missing.
    expect(rateOf(QWEN)).toBe(0);
  });

  it('counts the requests a pod woken from zero served before its first scrape, but not again once the series is older than the window', async () => {
    expect(fleet.snapshot().models.find((m) => m.modelID === 'woken')?.completed).toBe(3);
    // The counter is first seen at 3 and stays there: increase() alone says 0 and the model would go back to zero.
    expect(collector.getModelMetrics('team-b', 'woken')?.requestsOverRetention).toBe(3);
    // With a window shorter than Prometheus has known the series, those 3 are older than the window.
    const short = { ...tracked('team-b', 'woken', ['woken-h100']), retentionMs: 3_000 };
    await waitFor(
      async () => {
        await collector.fetch([short]);
        return collector.getModelMetrics('team-b', 'woken')?.requestsOverRetention === 0;
      },
      15_000,
      `0 requests over 3 s for a series older than that\n${prom.logTail}`,
    );
  });

  it("counts a new series' first value once (not again with what it adds) and what it served before a reset", async () => {
    const scraped = async (grow: number, reset: number): Promise<boolean> => {
      const r = await client.query('vllm:request_success_total{job="counters"}');
      const v = new Map(r.samples.map((x) => [x.labels.model_name, x.value]));
      return v.get('grow') === grow && v.get('reset') === reset;
    };
    await waitFor(() => scraped(3, 5), 10_000, 'first counter values in Prometheus');
    counters = countersExposition(10, 0); // grow serves 7 more; reset's vLLM restarts and serves nothing
    await waitFor(() => scraped(10, 0), 10_000, 'moved counter values in Prometheus');
    await collector.fetch(MODELS);
    // 10 served in all; increase() extrapolates its 7 a little. Counting the value again would say 17+.
    expect(collector.getModelMetrics('team-a', 'grow')?.requestsOverRetention).toBeGreaterThanOrEqual(10);
    expect(collector.getModelMetrics('team-a', 'grow')?.requestsOverRetention).toBeLessThan(17);
    // 5 served, then a reset to 0: increase() sees none of them; at least the 5 must count.
    expect(collector.getModelMetrics('team-a', 'reset')?.requestsOverRetention).toBeGreaterThanOrEqual(5);
  });

  it('drops a deleted pod at once, though its samples stay in the 1 m windows', async () => {
    const livePods = (): string[] =>
      (fleet.snapshot().models.find((m) => m.modelID === 'shrink')?.pods ?? [])
        .filter((p) => p.ready)
        .map((p) => p.pod)
        .sort();
    const running = async (): Promise<number> =>
      (await client.query('vllm:num_requests_running{model_name="shrink"}')).samples.length;
    await waitFor(async () => (await running()) === 3, 10_000, 'three shrink pods in Prometheus');
    await collector.fetch(MODELS);
    expect(collector.getModelMetrics('team-b', 'shrink')?.replicas).toHaveLength(3);
    fleet.setReplicas('team-b', 'shrink-h100', 2);
    // Prometheus marks the gone pod's series stale at its next scrape: the instant query drops it.
    await waitFor(async () => (await running()) === 2, 10_000, `the deleted pod's series to go stale\n${prom.logTail}`);
    await collector.fetch(MODELS);
    expect(collector.getModelMetrics('team-b', 'shrink')?.replicas.map((r) => r.pod)).toEqual(livePods());
    expect(livePods()).toHaveLength(2);
  });

  it('survives Prometheus going away: typed error, cached values while fresh, then stale; recovers by itself', async () => {
    await collector.fetch(MODELS);
    const before = collector.getModelMetrics('team-a', QWEN);
    expect(before).toBeDefined();
    await prom.stopProcess();

    const err = await collector.fetch(MODELS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe('network');
    expect(await metrics.registry.getSingleMetricAsString('wva_scaler_prometheus_query_errors_total')).toMatch(
      /type="network"} [1-9]/,
    );

    // Still served from the cache, fresh...
    const cached = collector.getModelMetrics('team-a', QWEN);
    expect(cached).toEqual(before);
    expect(freshnessOf(now() - (cached?.collectedAt ?? 0))).toBe('fresh');
    // ...then stale once the clock moves past a minute (and a re-fetch is due: TTL 30 s)...
    offsetMs = 2 * 60_000;
    const stale = cache.getModel('team-a', QWEN);
    expect(stale).toMatchObject({ freshness: 'stale', needsRefresh: true });
    expect(collector.getModelMetrics('team-a', QWEN)?.replicas).toEqual(before?.replicas);
    // ...and gone (unavailable) past five minutes.
    offsetMs = 6 * 60_000;
    expect(collector.getModelMetrics('team-a', QWEN)).toBeUndefined();
    offsetMs = 0;

    // The background fetcher keeps trying; once Prometheus is back, values return by themselves.
    const fetcher = new MetricsFetcher({
      collector,
      models: () => MODELS,
      intervalMs: 250,
      logger: silentLogger(),
      metrics,
      cache,
    });
    fetcher.start();
    try {
      await new Promise((r) => setTimeout(r, 600));
      expect(fetcher.last?.ok).toBe(false);
      await prom.startProcess();
      await waitFor(
        () => collector.getModelMetrics('team-a', QWEN)?.replicas.length === 2,
        15_000,
        `collector to recover after restart\n${prom.logTail}`,
      );
      const after = collector.getModelMetrics('team-a', QWEN);
      expect(freshnessOf(now() - (after?.collectedAt ?? 0))).toBe('fresh');
      expect(after?.replicas.map((r) => r.kvCacheUsage)).toEqual(before?.replicas.map((r) => r.kvCacheUsage));
      expect(await metrics.registry.getSingleMetricAsString('wva_scaler_metrics_fetch_errors_total')).toMatch(
        /backend="prometheus"} [1-9]/,
      );
    } finally {
      await fetcher.stop();
    }
  }, 40_000);

  // Last: it unfreezes the fleet. The service signal is a ratio of two rates in PromQL; check it
  // against what the fleet's requests really spent running (2 s mean, Erlang-4).
  it('reports the mean service time per pod as rate(_sum) / rate(_count) of the inference-time histogram', async () => {
    const sumOf = (): { sum: number; count: number } => {
      const pods = fleet.snapshot().models.find((m) => m.namespace === 'team-a' && m.modelID === QWEN)?.pods ?? [];
      return {
        sum: pods.reduce((a, p) => a + p.inferenceSeconds, 0),
        count: pods.reduce((a, p) => a + p.completed, 0),
      };
    };
    const start = sumOf();
    const ticker = setInterval(() => fleet.step(2_000), 250);
    try {
      await waitFor(
        async () => {
          await collector.fetch(MODELS);
          const m = collector.getModelMetrics('team-a', QWEN);
          // irate() is over the last two scrapes: a pair with no arrival between them is a measured 0,
          // and the latency means can lag the service time by one fetch; wait until all are in.
          return (
            m !== undefined &&
            (m.gatewayArrivalRate ?? 0) > 0 &&
            m.replicas.every(
              (r) => r.serviceSeconds !== undefined && r.ttftMeanMs !== undefined && r.queueTimeMeanMs !== undefined,
            )
          );
        },
        15_000,
        `service time, latency means and gateway arrivals from Prometheus\n${prom.logTail}`,
      );
    } finally {
      clearInterval(ticker);
    }
    const end = sumOf();
    const fleetMean = (end.sum - start.sum) / (end.count - start.count);
    expect(end.count - start.count).toBeGreaterThan(10);
    for (const r of collector.getModelMetrics('team-a', QWEN)?.replicas ?? []) {
      // Prometheus' window holds a subset of the same requests: the same mean within sampling noise.
      expect(r.serviceSeconds).toBeGreaterThan(fleetMean * 0.5);
      expect(r.serviceSeconds).toBeLessThan(fleetMean * 1.5);
    }
    expect(fleetMean).toBeGreaterThan(1);
    expect(fleetMean).toBeLessThan(3);
    // Under that load the emulator's gateway counter moves: Prometheus' irate() of it is the arrivals.
    expect(collector.getModelMetrics('team-a', QWEN)?.gatewayArrivalRate).toBeGreaterThan(0);
    // SLO mode's latency signals (the same window, real PromQL): present, positive, p95 above the mean.
    for (const r of collector.getModelMetrics('team-a', QWEN)?.replicas ?? []) {
      expect(r.ttftMeanMs).toBeGreaterThan(0);
      expect(r.ttftP95Ms).toBeGreaterThanOrEqual(r.ttftMeanMs ?? Infinity);
      expect(r.itlMeanMs).toBeGreaterThan(0);
      expect(r.queueTimeMeanMs).toBeGreaterThanOrEqual(0);
      expect(r.outputTokensPerRequest).toBeGreaterThan(0);
    }
  }, 30_000);
});
