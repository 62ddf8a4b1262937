/**
 * The prometheus backend: one batched query per signal per fetch for all tracked models (see
 * promql.ts), run concurrently. If a critical signal (KV, waiting, running) fails after retries,
 * the fetch fails and the cache keeps the last good values (which age into "stale"); a failed
 * secondary signal (rate, service, retention, gateway, arrivals, seen) only makes that field missing.
 *
 * A batch Prometheus refuses (400 bad_data, 413/422, "too many samples") is split in halves and
 * each half fetched on its own, down to single models, so one model that makes the batch
 * unacceptable (a huge or odd model name) cannot blind every other one: the others get their
 * metrics, the refused model gets none (its cached values age into stale; missing never scales down).
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
  type ModelValues,
  type PodValues,
  type SeenNames,
  type SignalSet,
} from './assemble.js';
import type { MetricsCollector, TrackedModel } from './collector.js';
import { FetchedMetrics } from './fetched-metrics.js';
import { gatewaySumByModel } from './gateway-queue.js';
import { DeploymentPrefixMapper, type PodVariantMapper } from './pod-variant-mapper.js';
import {
  PrometheusError,
  toPrometheusError,
  type PromQueryResult,
  type PrometheusQuerier,
} from './prometheus-client.js';
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

/** What one group of models gave: their metrics, or the error that left them without. */
interface GroupResult {
  readonly results: ModelMetrics[];
  readonly failures: { readonly models: readonly TrackedModel[]; readonly error: PrometheusError }[];
}

/** Prometheus refused the query itself (not a transient failure): a smaller batch may pass. */
function refusedBatch(e: PrometheusError): boolean {
  const status = e.details.httpStatus;
  return (
    e.kind === 'bad_data' ||
    e.kind === 'execution' ||
    (e.kind === 'http' && status !== undefined && status >= 400 && status < 500 && status !== 429)
  );
}

/** Longest error text a log line quotes (Prometheus may echo the query it could not parse). */
const LOGGED_ERROR_MAX = 300;
function shortError(message: string): string {
  return message.length <= LOGGED_ERROR_MAX
    ? message
    : `${message.slice(0, LOGGED_ERROR_MAX)}… (${message.length} chars)`;
}

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
    const { results, failures } = await this.fetchGroup(models, collectedAt);
    const first = failures[0];
    if (first && results.length === 0) {
      this.fetched.failed();
      throw first.error;
    }
    if (failures.length > 0) {
      const refused = failures.flatMap((f) => f.models.map((m) => modelKey(m.namespace, m.modelID)));
      this.deps.logger.warn(
        {
          models: refused.length,
          sample: refused.slice(0, 5).map((k) => shortError(k)),
          err: first ? shortError(first.error.message) : undefined,
        },
        'Prometheus refused the queries of some models; the others were fetched',
      );
    }
    this.fetched.store(results);
  }

  /** One batch for `models`; a refused batch splits in halves (see the file comment). */
  private async fetchGroup(models: readonly TrackedModel[], collectedAt: number): Promise<GroupResult> {
    // Queries evaluate at Prometheus' "now"; collectedAt uses our (injectable) clock for freshness.
    const outcomes = await Promise.all(buildSignalQueries(models).map((q) => this.run(q)));
    const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
    if (models.length > 1 && errors.some(refusedBatch)) {
      const mid = Math.ceil(models.length / 2);
      const halves = await Promise.all([
        this.fetchGroup(models.slice(0, mid), collectedAt),
        this.fetchGroup(models.slice(mid), collectedAt),
      ]);
      return { results: halves.flatMap((h) => h.results), failures: halves.flatMap((h) => h.failures) };
    }
    const failedCritical = outcomes.find(
      (o): o is Extract<Outcome, { error: PrometheusError }> => 'error' in o && o.query.critical,
    );
    if (failedCritical) return { results: [], failures: [{ models, error: failedCritical.error }] };
    const signals = toSignalSet(models, outcomes);
    return { results: assembleModelMetrics(models, signals, this.mapper, collectedAt), failures: [] };
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
      if (result.warnings.length > 0)
        this.deps.logger.warn({ signal: query.signal, warnings: result.warnings }, 'Prometheus returned warnings');
      return { query, result };
    } catch (thrown) {
      const error = toPrometheusError(thrown, query.promql);
      this.deps.metrics?.promErrors.inc({ type: error.kind });
      this.deps.logger.warn(
        { signal: query.signal, kind: error.kind, err: shortError(error.message) },
        'Prometheus query failed',
      );
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

/** KV tokens per (namespace, pod): each config's blocks x block size times the engines sharing it. */
function kvCapacityOf(result: PromQueryResult | undefined): Map<string, number> | undefined {
  if (!result) return undefined;
  const out = new Map<string, number>();
  for (const s of result.samples) {
    const tokens = kvTokensOf(s.labels);
    const pod = s.labels.pod;
    if (tokens === undefined || pod === undefined || s.value === undefined) continue;
    const key = capacityKey(s.labels.namespace ?? '', pod);
    out.set(key, (out.get(key) ?? 0) + tokens * s.value);
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
      const wanted = new Set(
        models.filter((m) => m.retentionMs === o.query.retentionMs).map((m) => modelKey(m.namespace, m.modelID)),
      );
      for (const s of o.result.samples) {
        const mk = modelKey(s.labels.namespace ?? '', s.labels.model_name ?? '');
        if (wanted.has(mk)) map.set(mk, s.value);
      }
    }
    retention = map;
  }

  // The query already picks one of the queue's names per gateway; the rest is the shared rule.
  const gw = ok('gateway')?.[0];
  const gateway: ModelValues | undefined = gw ? gatewaySumByModel(gw.samples, models) : undefined;
  const arr = ok('arrivals')?.[0];
  const arrivals: ModelValues | undefined = arr ? gatewaySumByModel(arr.samples, models) : undefined;

  let seen: SeenNames | undefined;
  const seenResult = ok('seen')?.[0];
  if (seenResult) {
    seen = new Map();
    for (const s of seenResult.samples) {
      if (s.labels.model_name !== undefined) addSeen(seen, s.labels.namespace ?? '', s.labels.model_name, s.labels.pod);
    }
  }

  const podValuesOf = (signal: SignalQuery['signal']): PodValues | undefined => {
    const r = ok(signal)?.[0];
    return r ? podValues(r) : undefined;
  };
  return {
    kvNow: podValuesOf('kvNow'),
    waitingNow: podValuesOf('waitingNow'),
    promptTokens: podValuesOf('promptTokens'),
    ttftMean: podValuesOf('ttftMean'),
    ttftP95: podValuesOf('ttftP95'),
    itlMean: podValuesOf('itlMean'),
    queueTime: podValuesOf('queueTime'),
    outputTokens: podValuesOf('outputTokens'),
    kvCapacity: kvCapacityOf(ok('cacheConfig')?.[0]),
    kv: single('kv'),
    waiting: single('waiting'),
    running: single('running'),
    rate: rate ? podValues(rate) : undefined,
    service: service ? podValues(service) : undefined,
    retention,
    gateway,
    arrivals,
    seen,
  };
}
