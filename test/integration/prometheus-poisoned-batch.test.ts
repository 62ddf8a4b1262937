/**
 * Finding 5, against a real Prometheus: a few models whose names push the batched PromQL past what
 * Prometheus accepts (its form limit: `400 no expression found`) made every fetch fail for every
 * model. Refused batches now split, so only the poisoned models go without metrics.
 * (GetMetricSpec bounds modelID at 256 characters; the collector does not rely on it.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/cache/metrics-cache.js';
import type { TrackedModel } from '../../src/collector/collector.js';
import { PrometheusClient } from '../../src/collector/prometheus-client.js';
import { PrometheusCollector } from '../../src/collector/prometheus-collector.js';
import { silentLogger } from '../../src/observability/logger.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { waitFor } from '../helpers/ports.js';
import { PrometheusProcess } from '../helpers/prometheus.js';

const tracked = (namespace: string, modelID: string, deployment: string): TrackedModel => ({
  namespace,
  modelID,
  retentionMs: 600_000,
  deployments: [{ variantKey: `${namespace}/${deployment}`, deployment }],
});
const GOOD = [
  tracked('llm', 'qwen', 'qwen-h100'),
  tracked('llm', 'llama', 'llama-h100'),
  tracked('other', 'mistral', 'mistral-l4'),
];
// 5.5 MB: every query names the models at least twice except `running`, so any batch holding it
// passes Go's 10 MB form limit and Prometheus answers 400 at once.
const POISON = [tracked('llm', `p${'x'.repeat(5_500_000)}`, 'junk')];

describe('a batch Prometheus refuses degrades per model', () => {
  let fleet: VllmFleet;
  let prom: PrometheusProcess;
  let client: PrometheusClient;

  beforeAll(async () => {
    fleet = new VllmFleet({
      realtime: false,
      seed: 3,
      histograms: false,
      models: [
        { namespace: 'llm', modelID: 'qwen', arrivalRate: 4, variants: [{ deployment: 'qwen-h100', replicas: 2 }] },
        { namespace: 'llm', modelID: 'llama', arrivalRate: 2, variants: [{ deployment: 'llama-h100', replicas: 1 }] },
        {
          namespace: 'other',
          modelID: 'mistral',
          arrivalRate: 1,
          variants: [{ deployment: 'mistral-l4', replicas: 1 }],
        },
      ],
    });
    fleet.step(10_000);
    await fleet.start();
    // The fleet's metrics never change here (not realtime); its /metrics runs in this process, which
    // blocks while it builds and sends the 11 MB refused queries. A scrape that times out marks every
    // series stale, and a fresh collector then reads a good model as having no replicas: the likely
    // cause of a fresh-clone CI run on a loaded machine seeing llama come back with none at 1 s.
    prom = await PrometheusProcess.start({ jobs: [{ job: 'vllm', url: fleet.metricsUrl() }], scrapeIntervalMs: 5000 });
    client = new PrometheusClient({
      baseUrl: prom.url,
      // Generous: the split batch sends one query per signal and model, and a timeout on a loaded
      // machine would read as a missing model; this test is about which models degrade, not speed.
      timeoutMs: 20_000,
      retry: { retries: 1, baseDelayMs: 50, maxDelayMs: 200 },
    });
    const probe = new PrometheusCollector({
      client,
      cache: new MemoryCache({ ttlMs: 30_000, max: 100 }),
      logger: silentLogger(),
    });
    await waitFor(
      async () => {
        await probe.fetch(GOOD);
        return GOOD.every((m) => (probe.getModelMetrics(m.namespace, m.modelID)?.replicas.length ?? 0) > 0);
      },
      20_000,
      `Prometheus to scrape the fleet\n${prom.logTail}`,
    );
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await prom?.close();
    await fleet?.stop();
  });

  it('Prometheus really refuses the whole batch', async () => {
    const { buildSignalQueries } = await import('../../src/collector/promql.js');
    const kv = buildSignalQueries([...GOOD, ...POISON])[0];
    await expect(client.query(kv?.promql ?? '')).rejects.toMatchObject({ details: { httpStatus: 400 } });
  });

  it('the other models still get their metrics; the poisoned ones get none', async () => {
    const collector = new PrometheusCollector({
      client,
      cache: new MemoryCache({ ttlMs: 30_000, max: 100 }),
      logger: silentLogger(),
    });
    await collector.fetch([GOOD[0] as TrackedModel, ...POISON, ...GOOD.slice(1)]);
    expect(collector.getModelMetrics('llm', 'qwen')?.replicas).toHaveLength(2);
    expect(collector.getModelMetrics('llm', 'llama')?.replicas).toHaveLength(1);
    expect(collector.getModelMetrics('other', 'mistral')?.replicas).toHaveLength(1);
    for (const p of POISON) expect(collector.getModelMetrics(p.namespace, p.modelID)).toBeUndefined();
    // Bounded, but generous: splitting sends each signal's refused 11 MB request again at every
    // level, which takes more than a minute on a machine busy with other work.
  }, 180_000);

  it('a batch of poisoned models only still fails the fetch (nothing to serve)', async () => {
    const collector = new PrometheusCollector({
      client,
      cache: new MemoryCache({ ttlMs: 30_000, max: 100 }),
      logger: silentLogger(),
    });
    await expect(collector.fetch(POISON)).rejects.toThrow();
  }, 60_000);
});
