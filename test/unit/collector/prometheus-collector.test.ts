import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../../src/cache/metrics-cache.js';
import type { TrackedModel } from '../../../src/collector/collector.js';
import { PrometheusCollector } from '../../../src/collector/prometheus-collector.js';
import {
  PrometheusError,
  type PromQueryResult,
  type PrometheusQuerier,
  type PromSample,
} from '../../../src/collector/prometheus-client.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';

/** Canned answers by signal, recognised from the query text. */
class CannedPrometheus implements PrometheusQuerier {
  readonly queries: string[] = [];
  constructor(private readonly answers: Partial<Record<string, PromSample[] | PrometheusError>>) {}
  async query(promql: string): Promise<PromQueryResult> {
    this.queries.push(promql);
    const latest = !promql.includes('max_over_time');
    const signal = promql.includes('inference_objective_request_total')
      ? 'arrivals'
      : promql.includes('cache_config_info')
        ? 'cacheConfig'
        : promql.includes('prompt_tokens')
          ? 'promptTokens'
          : promql.includes('kv_cache')
            ? latest
              ? 'kvNow'
              : 'kv'
            : promql.includes('num_requests_waiting')
              ? latest
                ? 'waitingNow'
                : 'waiting'
              : promql.startsWith('count')
                ? 'seen'
                : promql.includes('num_requests_running')
                  ? 'running'
                  : promql.includes('increase(')
                    ? 'retention'
                    : promql.includes('inference_time')
                      ? 'service'
                      : promql.includes('rate(')
                        ? 'rate'
                        : 'gateway';
    const a = this.answers[signal] ?? [];
    if (a instanceof PrometheusError) throw a;
    return { samples: a, warnings: signal === 'kv' ? ['a warning'] : [] };
  }
  close(): void {}
}

const pod = (namespace: string, model_name: string, p: string, value: number | undefined): PromSample => ({
  labels: { namespace, model_name, pod: p },
  value,
});
const tracked = (namespace: string, modelID: string): TrackedModel => ({
  namespace,
  modelID,
  retentionMs: 600_000,
  deployments: [{ variantKey: `${namespace}/dep`, deployment: 'dep' }],
  latency: true,
});

function make(answers: ConstructorParameters<typeof CannedPrometheus>[0]) {
  const client = new CannedPrometheus(answers);
  const metrics = new ScalerMetrics();
  const cache = new MemoryCache({ ttlMs: 30_000, max: 100 });
  const collector = new PrometheusCollector({ client, cache, logger: silentLogger(), metrics });
  return { client, metrics, cache, collector };
}

describe('PrometheusCollector', () => {
  it('assembles per-pod values for every tracked model from one query per signal', async () => {
    const { client, collector, metrics } = make({
      kv: [pod('a', 'm1', 'dep-1', 0.5), pod('a', 'm1', 'dep-2', 0.9), pod('b', 'm1', 'dep-1', 0.1)],
      waiting: [pod('a', 'm1', 'dep-1', 2), pod('a', 'm1', 'dep-2', 0)],
      running: [pod('a', 'm1', 'dep-1', 4), pod('a', 'm1', 'dep-2', 8)],
      rate: [pod('a', 'm1', 'dep-1', 1.5)],
      // dep-2 finished nothing in the window: 0 / 0 is NaN in Prometheus, missing here.
      service: [pod('a', 'm1', 'dep-1', 2.5), pod('a', 'm1', 'dep-2', undefined)],
      retention: [{ labels: { namespace: 'a', model_name: 'm1' }, value: 42 }],
      gateway: [
        { labels: { namespace: 'a', target_model_name: 'm1' }, value: 3 },
        { labels: { target_model_name: 'm1' }, value: 1 },
      ],
      arrivals: [
        { labels: { namespace: 'a', target_model_name: 'm1' }, value: 2.5 },
        { labels: { target_model_name: 'm1' }, value: 0.5 },
        { labels: { namespace: 'b', target_model_name: 'm1' }, value: 7 }, // another namespace's model
      ],
      seen: [
        { labels: { namespace: 'a', model_name: 'm1' }, value: 1 },
        { labels: { namespace: 'a', model_name: 'typo' }, value: 1 },
      ],
    });
    await collector.fetch([tracked('a', 'm1'), tracked('b', 'm2')]);
    expect(client.queries.length).toBe(18);
    const a = collector.getModelMetrics('a', 'm1');
    expect(a?.replicas).toEqual([
      {
        namespace: 'a',
        modelID: 'm1',
        pod: 'dep-1',
        variantKey: 'a/dep',
        kvCacheUsage: 0.5,
        queueLength: 2,
        running: 4,
        requestRate: 1.5,
        serviceSeconds: 2.5,
      },
      {
        namespace: 'a',
        modelID: 'm1',
        pod: 'dep-2',
        variantKey: 'a/dep',
        kvCacheUsage: 0.9,
        queueLength: 0,
        running: 8,
        requestRate: undefined,
        serviceSeconds: undefined,
      },
    ]);
    expect(a?.requestsOverRetention).toBe(42);
    expect(a?.gatewayQueue).toBe(4); // its namespace's series plus the namespace-less one
    expect(a?.gatewayArrivalRate).toBe(3); // likewise: 2.5 + 0.5 requests per second
    expect(a?.seenModelNames).toEqual(['m1', 'typo']);
    // b/m1 is not tracked (only b/m2 is): its series are ignored; b/m2 has no series at all.
    const b = collector.getModelMetrics('b', 'm2');
    expect(b?.replicas).toEqual([]);
    expect(b?.requestsOverRetention).toBeUndefined();
    expect(b?.gatewayQueue).toBeUndefined();
    expect(b?.gatewayArrivalRate).toBeUndefined(); // no series: missing, not 0
    expect(await metrics.registry.getSingleMetricAsString('wva_scaler_prometheus_queries_total')).toContain(
      'signal="kv"} 1',
    );
  });

  it('fails the fetch on a critical signal error and keeps the cached values', async () => {
    const ok = make({ kv: [pod('a', 'm1', 'dep-1', 0.5)], running: [pod('a', 'm1', 'dep-1', 1)] });
    await ok.collector.fetch([tracked('a', 'm1')]);
    const failing = new PrometheusCollector({
      client: new CannedPrometheus({
        waiting: new PrometheusError('network', 'cannot reach Prometheus: ECONNREFUSED'),
      }),
      cache: ok.cache,
      logger: silentLogger(),
      metrics: ok.metrics,
    });
    await expect(failing.fetch([tracked('a', 'm1')])).rejects.toMatchObject({ kind: 'network' });
    expect(failing.getModelMetrics('a', 'm1')?.replicas[0]?.kvCacheUsage).toBe(0.5);
    expect(await ok.metrics.registry.getSingleMetricAsString('wva_scaler_prometheus_query_errors_total')).toContain(
      'type="network"} 1',
    );
  });

  it('makes only the affected field missing when a secondary signal fails', async () => {
    const { collector } = make({
      kv: [pod('a', 'm1', 'dep-1', 0.5)],
      running: [pod('a', 'm1', 'dep-1', 1)],
      rate: new PrometheusError('execution', 'too many samples'),
      service: new PrometheusError('timeout', 'query timed out'),
      gateway: new PrometheusError('bad_data', 'x'),
      arrivals: new PrometheusError('timeout', 'query timed out'),
    });
    await collector.fetch([tracked('a', 'm1')]);
    const m = collector.getModelMetrics('a', 'm1');
    expect(m?.replicas[0]).toMatchObject({
      kvCacheUsage: 0.5,
      requestRate: undefined,
      serviceSeconds: undefined,
      queueLength: undefined,
    });
    expect(m?.gatewayQueue).toBeUndefined();
    expect(m?.gatewayArrivalRate).toBeUndefined();
  });

  it('reads the latest samples, prompt tokens per request and the KV tokens of vllm:cache_config_info by pod', async () => {
    const info = (p: string, blocks: string, engines: number): PromSample => ({
      labels: { namespace: 'a', pod: p, num_gpu_blocks: blocks, block_size: '16' },
      value: engines,
    });
    const { collector } = make({
      kv: [pod('a', 'm1', 'dep-1', 0.9), pod('a', 'm1', 'dep-2', 0.8), pod('a', 'm1', 'dep-3', 0.7)],
      waiting: [pod('a', 'm1', 'dep-1', 6), pod('a', 'm1', 'dep-2', 0), pod('a', 'm1', 'dep-3', 0)],
      running: [pod('a', 'm1', 'dep-1', 1), pod('a', 'm1', 'dep-2', 1), pod('a', 'm1', 'dep-3', 1)],
      kvNow: [pod('a', 'm1', 'dep-1', 0.05)],
      waitingNow: [pod('a', 'm1', 'dep-1', 0)],
      promptTokens: [pod('a', 'm1', 'dep-1', 512)],
      // dep-1: one engine; dep-2: two data-parallel engines (summed); dep-3: not profiled yet ("None").
      cacheConfig: [info('dep-1', '1000', 1), info('dep-2', '1000', 2), info('dep-3', 'None', 1)],
    });
    await collector.fetch([tracked('a', 'm1')]);
    const r = collector.getModelMetrics('a', 'm1')?.replicas ?? [];
    expect(
      r.map((x) => [x.pod, x.kvCacheUsageNow, x.queueLengthNow, x.promptTokensPerRequest, x.kvCapacityTokens]),
    ).toEqual([
      ['dep-1', 0.05, 0, 512, 16_000],
      ['dep-2', undefined, undefined, undefined, 32_000],
      ['dep-3', undefined, undefined, undefined, undefined],
    ]);
  });

  it('leaves the new signals missing, never 0, when their queries fail', async () => {
    const { collector } = make({
      kv: [pod('a', 'm1', 'dep-1', 0.5)],
      running: [pod('a', 'm1', 'dep-1', 1)],
      kvNow: new PrometheusError('timeout', 'query timed out'),
      cacheConfig: new PrometheusError('timeout', 'query timed out'),
    });
    await collector.fetch([tracked('a', 'm1')]);
    expect(collector.getModelMetrics('a', 'm1')?.replicas[0]).toMatchObject({
      kvCacheUsage: 0.5,
      kvCacheUsageNow: undefined,
      kvCapacityTokens: undefined,
    });
  });

  it('sends nothing when no model is tracked', async () => {
    const { client, collector } = make({});
    await collector.fetch([]);
    expect(client.queries).toEqual([]);
  });
});
