/**
 * The prometheus backend: one batched query per signal per fetch for all tracked models (see
 * promql.ts), run concurrently. If a critical signal (KV, waiting, running) fails after retries,
 * the fetch fails and the cache keeps the last good values (which age into "stale"); a failed
 * secondary signal (rate, service, retention, gateway, seen) only makes that field missing.
 */
import type { Logger } from 'pino';
import type { MetricsCache } from '../cache/metrics-cache.js';
import type { ModelMetrics } from '../domain/metrics.js';
import { modelKey } from '../domain/variant.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { addSeen, assembleModelMetrics, podKey, type ModelValues, type PodValues, type SeenNames, type SignalSet } from './assemble.js';
import type { MetricsCollector, TrackedModel } from './collector.js';
import { FetchedMetrics } from './fetched-metrics.js';
import { gatewayQueueByModel } from './gateway-queue.js';
import { DeploymentPrefixMapper, type PodVariantMapper } from './pod-variant-mapper.js';
import { PrometheusError, toPrometheusError, type PromQueryResult, type PrometheusQuerier } from './prometheus-client.js';
import { buildSignalQueries, type SignalQuery } from './promql.js';

export interface PrometheusCollectorDeps {
  readonly client: PrometheusQuerier;
  readonly cache: MetricsCache;
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  readonly mapper?: PodVariantMapper;
  readonly now?: () => number;
}

type Outcome = { query: SignalQuery; result: PromQueryResult } | { query: SignalQuery; error: PrometheusError };

export class PrometheusCollector implements MetricsCollector {
  readonly backend = 'prometheus';
  private readonly mapper: PodVariantMapper;
  private readonly now: () => number;
  private readonly fetched: FetchedMetrics;

  constructor(private readonly deps: PrometheusCollectorDeps) {
    this.mapper = deps.mapper ?? new DeploymentPrefixMapper();
    this.fetched = new FetchedMetrics(deps.cache);
    this.now = deps.now ?? Date.now;
  }

  async fetch(models: readonly TrackedModel[]): Promise<void> {
    if (models.length === 0) return;
    const collectedAt = this.now();
    const queries = buildSignalQueries(models);
    // Queries evaluate at Prometheus' "now"; collectedAt uses our (injectable) clock for freshness.
    const outcomes = await Promise.all(queries.map((q) => this.run(q)));
    const failedCritical = outcomes.find((o): o is Extract<Outcome, { error: PrometheusError }> => 'error' in o && o.query.critical);
    if (failedCritical) {
      this.fetched.failed();
      throw failedCritical.error;
    }
    const signals = toSignalSet(models, outcomes);
    const results = assembleModelMetrics(models, signals, this.mapper, collectedAt);
    this.fetched.store(results);
  }

  getModelMetrics(namespace: string, modelID: string): ModelMetrics | undefined {
    return this.fetched.get(namespace, modelID);
  }

  async close(): Promise<void> {
    this.deps.client.close();
  }

  private async run(query: SignalQuery): Promise<Outcome> {
    this.deps.metrics?.promQueries.inc({ signal: query.signal });
    try {
      const result = await this.deps.client.query(query.promql);
      if (result.warnings.length > 0) this.deps.logger.warn({ signal: query.signal, warnings: result.warnings }, 'Prometheus returned warnings');
      return { query, result };
    } catch (thrown) {
      const error = toPrometheusError(thrown, query.promql);
      this.deps.metrics?.promErrors.inc({ type: error.kind });
      this.deps.logger.warn({ signal: query.signal, kind: error.kind, err: error.message }, 'Prometheus query failed');
      return { query, error };
    }
  }
}

function podValues(result: PromQueryResult): PodValues {
  const out = new Map<string, number | undefined>();
  for (const s of result.samples) {
    out.set(podKey(s.labels.namespace ?? '', s.labels.model_name ?? '', s.labels.pod ?? ''), s.value);
  }
  return out;
}

function toSignalSet(models: readonly TrackedModel[], outcomes: readonly Outcome[]): SignalSet {
  const ok = (signal: SignalQuery['signal']): PromQueryResult[] | undefined => {
    const matching = outcomes.filter((o) => o.query.signal === signal);
    if (matching.length === 0 || matching.some((o) => 'error' in o)) return undefined;
    return matching.map((o) => (o as { result: PromQueryResult }).result);
  };
  const single = (signal: SignalQuery['signal']): PodValues => {
    const r = ok(signal)?.[0];
    return r ? podValues(r) : new Map();
  };
  const rate = ok('rate')?.[0];
  const service = ok('service')?.[0];

  let retention: ModelValues | undefined;
  const retentionOutcomes = outcomes.filter((o) => o.query.signal === 'retention');
  if (retentionOutcomes.length > 0) {
    const map = new Map<string, number | undefined>();
    for (const o of retentionOutcomes) {
      if ('error' in o) continue; // that window's models stay missing
      const wanted = new Set(models.filter((m) => m.retentionMs === o.query.retentionMs).map((m) => modelKey(m.namespace, m.modelID)));
      for (const s of o.result.samples) {
        const mk = modelKey(s.labels.namespace ?? '', s.labels.model_name ?? '');
        if (wanted.has(mk)) map.set(mk, s.value);
      }
    }
    retention = map;
  }

  // The query already picks one of the queue's names per gateway; the rest is the shared rule.
  const gw = ok('gateway')?.[0];
  const gateway: ModelValues | undefined = gw ? gatewayQueueByModel(gw.samples, models) : undefined;

  let seen: SeenNames | undefined;
  const seenResult = ok('seen')?.[0];
  if (seenResult) {
    seen = new Map();
    for (const s of seenResult.samples) {
      if (s.labels.model_name !== undefined) addSeen(seen, s.labels.namespace ?? '', s.labels.model_name, s.labels.pod);
    }
  }

  return { kv: single('kv'), waiting: single('waiting'), running: single('running'), rate: rate ? podValues(rate) : undefined, service: service ? podValues(service) : undefined, retention, gateway, seen };
}
