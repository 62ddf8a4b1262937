/**
 * Where a collector puts what it fetched and where the engine reads it, the same for every
 * backend. With a MemoryCache the engine reads the cache (values age from fresh to stale, then
 * go); with a NoOpCache it reads the latest successful fetch only, replaced whole on each fetch
 * and dropped when a fetch fails, so it sees this cycle's values or nothing, never older ones.
 */
import type { MetricsCache } from '../cache/metrics-cache.js';
import type { ModelMetrics } from '../domain/metrics.js';
import { modelKey } from '../domain/variant.js';

export class FetchedMetrics {
  private latest = new Map<string, ModelMetrics>();

  constructor(private readonly cache: MetricsCache) {}

  /** A successful fetch: into the cache, and as the latest. */
  store(results: readonly ModelMetrics[]): void {
    for (const m of results) this.cache.setModel(m);
    this.latest = new Map(results.map((m) => [modelKey(m.namespace, m.modelID), m]));
  }

  /** A failed fetch: the cache keeps its (ageing) values, the latest is gone. */
  failed(): void {
    this.latest.clear();
  }

  get(namespace: string, modelID: string): ModelMetrics | undefined {
    if (this.cache.kind === 'noop') return this.latest.get(modelKey(namespace, modelID));
    return this.cache.getModel(namespace, modelID)?.value;
  }
}
