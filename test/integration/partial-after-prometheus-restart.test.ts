/**
 * Finding 9, against a real Prometheus scraping each pod as its own target (as in a cluster):
 * standalone (no Kubernetes: current replicas are the pods that report), Prometheus restarts with
 * its TSDB gone and has scraped only 2 of the 5 pods when the engine next decides. That partial
 * view lowered the decision (5 -> 2). DESIGN: missing or partial data never scales down.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../src/cache/global-config.js';
import { MemoryCache } from '../../src/cache/metrics-cache.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { PrometheusClient } from '../../src/collector/prometheus-client.js';
import { PrometheusCollector } from '../../src/collector/prometheus-collector.js';
import { parseTriggerMetadata } from '../../src/config/trigger-metadata.js';
import { Engine, trackedModelOf } from '../../src/engine/engine.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { waitFor } from '../helpers/ports.js';
import { PrometheusProcess } from '../helpers/prometheus.js';

describe('a partial first fetch after a Prometheus restart', () => {
  let fleet: VllmFleet;
  let gate: Server;
  let prom: PrometheusProcess;
  let client: PrometheusClient;
  /** Pod targets answering 503: Prometheus has not scraped them (yet). */
  const closed = new Set<number>();

  beforeAll(async () => {
    fleet = new VllmFleet({
      realtime: false,
      seed: 5,
      histograms: false,
      models: [{ namespace: 'llm', modelID: 'm', arrivalRate: 1, variants: [{ deployment: 'v', replicas: 5 }] }],
    });
    fleet.step(20_000);
    await fleet.start();
    const pods = fleet.podUrls();
    gate = createServer((req, res) => {
      const i = Number(req.url?.split('/')[2]);
      const url = pods[i];
      if (url === undefined || closed.has(i)) {
        res.writeHead(503).end();
        return;
      }
      void fetch(url).then(
        async (r) => res.writeHead(r.status, { 'content-type': 'text/plain' }).end(await r.text()),
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    const port = (gate.address() as { port: number }).port;
    prom = await PrometheusProcess.start({
      jobs: pods.map((_, i) => ({ job: `pod-${i}`, url: `http://127.0.0.1:${port}/pod/${i}` })),
      scrapeIntervalMs: 1000,
    });
    client = new PrometheusClient({
      baseUrl: prom.url,
      timeoutMs: 3000,
      retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 },
    });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await prom?.close();
    await new Promise((r) => gate?.close(r));
    await fleet?.stop();
  });

  it('holds the last decision instead of lowering it to the pods seen so far', async () => {
    const registry = new VariantRegistry();
    registry.upsert({ ...parseTriggerMetadata('llm', 'v', { modelID: 'm', maxReplicas: '10' }), source: 'static' });
    const decisions = new DecisionCache();
    const config = new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
    });
    const collector = new PrometheusCollector({
      client,
      cache: new MemoryCache({ ttlMs: 30_000, max: 100 }),
      logger: silentLogger(),
    });
    const engine = new Engine({
      registry,
      decisions,
      trigger: new DecisionTrigger(),
      config,
      collector,
      metrics: new ScalerMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    const models = () =>
      [...registry.byModel().values()].map((vs) =>
        trackedModelOf(vs, {
          saturation: config.get().saturation,
          scaleToZero: config.get().scaleToZero,
          maxScaleUpRate: 2,
        }),
      );
    const reporting = () => collector.getModelMetrics('llm', 'm')?.replicas.length ?? 0;

    await waitFor(
      async () => {
        await collector.fetch(models());
        return reporting() === 5;
      },
      20_000,
      `Prometheus to scrape the 5 pods\n${prom.logTail}`,
    );
    await engine.runOnce();
    const before = decisions.get('llm/v');
    expect(before?.currentReplicas).toBe(5);
    const held = before?.desiredReplicas ?? 0;
    expect(held).toBeGreaterThanOrEqual(4);

    // Restart with the TSDB gone; 3 of the 5 pods not scraped yet.
    for (const i of [2, 3, 4]) closed.add(i);
    await prom.restart({ wipeData: true });
    await waitFor(
      async () => {
        await collector.fetch(models()).catch(() => undefined);
        return reporting() === 2;
      },
      20_000,
      `Prometheus to scrape 2 pods\n${prom.logTail}`,
    );
    await engine.runOnce();
    const after = decisions.get('llm/v');
    expect(after?.desiredReplicas, `reasons: ${after?.reasons.join('; ')}`).toBeGreaterThanOrEqual(held);

    // The pods are scraped again: the decision follows the full data.
    closed.clear();
    await waitFor(
      async () => {
        await collector.fetch(models());
        return reporting() === 5;
      },
      20_000,
      'Prometheus to scrape the 5 pods again',
    );
    await engine.runOnce();
    expect(decisions.get('llm/v')?.currentReplicas).toBe(5);
    await engine.stop();
  }, 90_000);
});
