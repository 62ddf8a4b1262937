/**
 * bench:prom — how much the collector loads Prometheus, against WVA's per-model design.
 *
 * A real Prometheus (Debian's binary) scrapes a static exposition of 1,000 models × 10 pods (vLLM
 * series with namespace/pod labels). For 10, 100 and 1,000 tracked models we run fetch cycles of
 * (a) the batched PrometheusCollector and (b) a per-model design sending two queries per model per
 * cycle (KV and queue, as WVA does), and count the queries from Prometheus' own
 * `prometheus_http_requests_total{handler="/api/v1/query"}` (read from its /metrics, which is
 * not that handler). Also: fetch cycle wall time and retained collector memory at 1,000 × 10.
 *
 * Run: npm run bench:prom
 */
import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryCache } from '../src/cache/metrics-cache.js';
import type { TrackedModel } from '../src/collector/collector.js';
import { PrometheusClient } from '../src/collector/prometheus-client.js';
import { PrometheusCollector } from '../src/collector/prometheus-collector.js';
import { exactAlternation } from '../src/collector/promql.js';
import { mapWithConcurrency } from '../src/collector/scrape-collector.js';
import { silentLogger } from '../src/observability/logger.js';
import { PrometheusProcess } from '../test/helpers/prometheus.js';
import { waitFor } from '../test/helpers/ports.js';
import { machineLine, writeResultsSection } from './lib/results.js';

const MODELS = 1000;
const PODS = 10;
const NAMESPACES = 10;
const SCALES = [10, 100, 1000];
const CYCLES = 3;
const PER_MODEL_CONCURRENCY = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ns = (i: number): string => `ns-${i % NAMESPACES}`;
const modelName = (i: number): string => `org/model-${i}.v1`;
const tracked = (i: number): TrackedModel => ({
  namespace: ns(i),
  modelID: modelName(i),
  retentionMs: 600_000,
  deployments: [{ variantKey: `${ns(i)}/model-${i}-h100`, deployment: `model-${i}-h100` }],
  // As the engine tracks a model by default: token capacity on reads the latency histograms too.
  latency: true,
});

/** One exposition for the whole fleet; counters advance on every scrape so rate() has work. */
function exposition(scrape: number): string {
  const out: string[] = [];
  for (const [name, type] of [
    ['vllm:kv_cache_usage_perc', 'gauge'],
    ['vllm:num_requests_waiting', 'gauge'],
    ['vllm:num_requests_running', 'gauge'],
    ['vllm:request_success_total', 'counter'],
  ] as const) {
    out.push(`# TYPE ${name} ${type}`);
    for (let m = 0; m < MODELS; m++) {
      for (let p = 0; p < PODS; p++) {
        const l = `engine="0",model_name="${modelName(m)}",namespace="${ns(m)}",pod="model-${m}-h100-5d8f9c7b6d-p${p}"`;
        if (name === 'vllm:kv_cache_usage_perc') out.push(`${name}{${l}} ${((m + p) % 100) / 100}`);
        else if (name === 'vllm:num_requests_waiting') out.push(`${name}{${l}} ${(m * p) % 7}`);
        else if (name === 'vllm:num_requests_running') out.push(`${name}{${l}} ${(m + p) % 16}`);
        else {
          out.push(`${name}{${l},finished_reason="stop"} ${scrape * (1 + (p % 3))}`);
          out.push(`${name}{${l},finished_reason="length"} ${scrape}`);
        }
      }
    }
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  let scrapes = 0;
  const server = createServer((_req, res) => {
    scrapes++;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(exposition(scrapes));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const prom = await PrometheusProcess.start({
    jobs: [{ job: 'fleet', url: `http://127.0.0.1:${port}/metrics` }],
    scrapeIntervalMs: 5000,
    readyTimeoutMs: 60_000,
  });
  const client = new PrometheusClient({
    baseUrl: prom.url,
    timeoutMs: 30_000,
    retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
  });
  try {
    const all = Array.from({ length: MODELS }, (_, i) => tracked(i));
    // Wait for two scrapes of everything (rate needs two samples).
    console.error(`prometheus on ${prom.url}; waiting for data of ${MODELS} models × ${PODS} pods…`);
    const probe = new PrometheusCollector({
      client,
      cache: new MemoryCache({ ttlMs: 30_000, max: 10_000 }),
      logger: silentLogger(),
    });
    await waitFor(
      async () => {
        await probe.fetch(all);
        const last = probe.getModelMetrics(ns(MODELS - 1), modelName(MODELS - 1));
        return last?.replicas.length === PODS && last.replicas.every((r) => r.requestRate !== undefined);
      },
      90_000,
      `Prometheus to hold the bench data\n${prom.logTail}`,
    );

    /** CYCLES fetches of `models` by a fresh batched collector: the queries Prometheus counted and each fetch's ms. */
    const batchedCycles = async (models: readonly TrackedModel[]) => {
      const collector = new PrometheusCollector({
        client,
        cache: new MemoryCache({ ttlMs: 30_000, max: 10_000 }),
        logger: silentLogger(),
      });
      const before = await prom.httpRequests('/api/v1/query');
      const ms: number[] = [];
      for (let c = 0; c < CYCLES; c++) {
        const t0 = performance.now();
        await collector.fetch(models);
        ms.push(performance.now() - t0);
      }
      return { collector, queries: (await prom.httpRequests('/api/v1/query')) - before, ms };
    };

    const rows: string[] = [];
    let ratio1000 = 0;
    for (const n of SCALES) {
      const models = all.slice(0, n);
      const { collector, queries: batched, ms: batchedMs } = await batchedCycles(models);
      const pods = models.reduce(
        (s, m) => s + (collector.getModelMetrics(m.namespace, m.modelID)?.replicas.length ?? 0),
        0,
      );
      if (pods !== n * PODS)
        throw new Error(`batched collector saw ${pods} pods for ${n} models, expected ${n * PODS}`);

      const before = await prom.httpRequests('/api/v1/query');
      const perModelMs: number[] = [];
      for (let c = 0; c < CYCLES; c++) {
        const t0 = performance.now();
        await mapWithConcurrency(models, PER_MODEL_CONCURRENCY, async (m) => {
          const sel = `{namespace=${JSON.stringify(m.namespace)},model_name=${exactAlternation([m.modelID])}}`;
          await client.query(`max by (pod) (max_over_time(vllm:kv_cache_usage_perc${sel}[1m]))`);
          await client.query(`max by (pod) (max_over_time(vllm:num_requests_waiting${sel}[1m]))`);
        });
        perModelMs.push(performance.now() - t0);
      }
      const perModel = (await prom.httpRequests('/api/v1/query')) - before;
      const ratio = perModel / batched;
      if (n === 1000) ratio1000 = ratio;
      rows.push(
        `| ${n.toLocaleString('en')} | ${n * PODS} | ${(batched / CYCLES).toFixed(0)} | ${(perModel / CYCLES).toFixed(0)} | ${ratio.toFixed(0)}× | ${median(batchedMs).toFixed(0)} ms | ${median(perModelMs).toFixed(0)} ms |`,
      );
      console.error(rows[rows.length - 1]);
    }

    // What the latency signals cost: the same 1,000 models tracked without them (token capacity off).
    const withoutLatency = await batchedCycles(all.map((m) => ({ ...m, latency: false })));
    const plainQueries = withoutLatency.queries / CYCLES;
    const plainMedian = median(withoutLatency.ms);
    console.error(`1,000 models without latency signals: ${plainQueries} queries, ${plainMedian.toFixed(0)} ms`);

    // Retained memory of a collector + cache holding 1,000 models × 10 pods.
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const cache = new MemoryCache({ ttlMs: 30_000, max: 10_000 });
    const collector = new PrometheusCollector({ client, cache, logger: silentLogger() });
    const t0 = performance.now();
    await collector.fetch(all);
    const fetchMs = performance.now() - t0;
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const retainedMiB = (heapAfter - heapBefore) / 2 ** 20;
    console.error(
      `1000×10: fetch ${fetchMs.toFixed(0)} ms, retained heap ${retainedMiB.toFixed(1)} MiB, cache entries ${cache.size}`,
    );

    writeResultsSection(
      'Prometheus load (bench/prometheus-load.ts)',
      `Machine: ${machineLine()} (\`nproc\` = ${(await import('node:os')).availableParallelism()}). Prometheus: Debian's binary on 127.0.0.1, scrape interval 5 s. Date: ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run bench:prom\` (tsx bench/prometheus-load.ts). Prometheus holds ${MODELS.toLocaleString('en')} models × ${PODS} pods (${(MODELS * PODS * 5).toLocaleString('en')} series) in ${NAMESPACES} namespaces; the collector tracks the first N models.
Queries are counted by Prometheus itself: the delta of \`prometheus_http_requests_total{handler="/api/v1/query"}\` over ${CYCLES} fetch cycles, divided by ${CYCLES}.
Per-model design: two queries per model per cycle (KV peak and queue peak, as WVA sends), ${PER_MODEL_CONCURRENCY} in flight, same client.
Target: the batched count is constant in the number of models.

| tracked models | pods | batched queries / cycle | per-model queries / cycle | ratio | batched cycle (median) | per-model cycle (median) |
|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

At 1,000 models the batched collector sends ${ratio1000.toFixed(0)}× fewer queries than the per-model design, and it also fetches more signals
(running, rate, mean service time, token counts, cache config, the latency histograms the service model learns from, increase
over retention, gateway queue and arrivals, model names seen). Models are tracked as the engine tracks them by default: with
token capacity on, the latency histograms too; the same 1,000 models without them (token capacity off): ${plainQueries.toFixed(0)} queries
per cycle, ${plainMedian.toFixed(0)} ms (median of ${CYCLES}). The exposition holds only KV use, waiting, running and
finished requests: the other queries find no series here, so with a real vLLM's series they cost more than shown.
1,000 models × 10 pods: one more fetch cycle of a new collector, right after GC: ${fetchMs.toFixed(0)} ms. Wall times vary between runs on this
shared 2-core machine (other jobs run alongside); the query counts do not. Collector + cache retained heap ${retainedMiB.toFixed(1)} MiB after GC (${cache.size.toLocaleString('en')} cache entries: one per model and one per variant).`,
    );
  } finally {
    client.close();
    await prom.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
