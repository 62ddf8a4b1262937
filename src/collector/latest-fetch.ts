/**
 * The result of a collector's latest successful fetch, replaced whole on each fetch and dropped
 * when a fetch fails. Read only with a NoOpCache: then the engine sees this cycle's values or
 * nothing, never older ones.
 */
import type { ModelMetrics } from '../domain/metrics.js';
import { modelKey } from '../domain/variant.js';

export class LatestFetch {
  private byModel = new Map<string, ModelMetrics>();

  replace(results: readonly ModelMetrics[]): void {
    this.byModel = new Map(results.map((m) => [modelKey(m.namespace, m.modelID), m]));
  }

  get(namespace: string, modelID: string): ModelMetrics | undefined {
    return this.byModel.get(modelKey(namespace, modelID));
  }

  clear(): void {
    this.byModel.clear();
  }
}
