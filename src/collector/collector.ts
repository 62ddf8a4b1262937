/**
 * The collector contract. Backends (prometheus, scrape) are plugins chosen by settings; the
 * engine only sees this interface. Collectors never throw into the engine for a failed fetch:
 * `getModelMetrics` returns what the cache holds (with its age) or undefined when nothing is known.
 */
import type { ModelMetrics } from '../domain/metrics.js';

export interface TrackedModel {
  readonly namespace: string;
  readonly modelID: string;
  /** Deployment names of the model's variants, for pod -> variant mapping by name prefix. */
  readonly deployments: readonly { readonly variantKey: string; readonly deployment: string }[];
  /** Scale-to-zero retention window (ms) for the `increase(...[retention])` signal. */
  readonly retentionMs: number;
  /**
   * Fetch the latency signals (TTFT, ITL, queue time, output tokens) the service model learns from
   * (SLO mode; step 4's bound with token capacity on); absent or false: a model whose decisions
   * never read them (saturation mode with token capacity off) costs Prometheus nothing.
   */
  readonly latency?: boolean | undefined;
}

export interface MetricsCollector {
  readonly backend: string;
  /** Fetches fresh metrics for all given models at once (batched) and stores them in the cache. */
  fetch(models: readonly TrackedModel[]): Promise<void>;
  /** Latest known metrics for one model from the cache, or undefined when nothing is known. */
  getModelMetrics(namespace: string, modelID: string): ModelMetrics | undefined;
  close(): Promise<void>;
}
