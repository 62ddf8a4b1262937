/**
 * Background metrics fetch: every WVA_FETCH_INTERVAL, one batched fetch for every tracked model.
 * - Never overlaps itself: the next tick is scheduled when a fetch ends (a slow fetch delays it).
 * - Errors are logged and counted (wva_scaler_metrics_fetch_errors_total), never thrown: the
 *   engine reads the cache, whose values then age into "stale".
 * - fetchNow() (e.g. GetMetrics for a variant with no decision yet) joins the fetch in flight when
 *   that one already covers every tracked model, else queues exactly one follow-up for all callers.
 */
import type { Logger } from 'pino';
import type { MetricsCache } from '../cache/metrics-cache.js';
import { modelKey } from '../domain/variant.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import type { MetricsCollector, TrackedModel } from './collector.js';

export interface MetricsFetcherOptions {
  readonly collector: MetricsCollector;
  readonly models: () => readonly TrackedModel[];
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  /** Cleaned of entries past their usable age after each fetch. */
  readonly cache?: MetricsCache;
}

export interface FetchOutcome {
  readonly ok: boolean;
  readonly models: number;
  readonly durationMs: number;
  readonly error?: string;
}

export class MetricsFetcher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: { promise: Promise<FetchOutcome>; keys: Set<string> } | undefined;
  private followUp: Promise<FetchOutcome> | undefined;
  private lastOutcome: FetchOutcome | undefined;

  constructor(private readonly opts: MetricsFetcherOptions) {
    if (!(opts.intervalMs > 0)) throw new Error(`WVA_FETCH_INTERVAL must be > 0 ms, got ${opts.intervalMs}`);
  }

  /** Starts the loop with an immediate first fetch. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop and waits for a fetch in flight to end. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.promise;
    await this.followUp;
  }

  get last(): FetchOutcome | undefined {
    return this.lastOutcome;
  }

  fetchNow(): Promise<FetchOutcome> {
    const current = this.inFlight;
    if (!current) return this.begin().promise;
    const wanted = this.opts.models().map((m) => modelKey(m.namespace, m.modelID));
    if (wanted.every((k) => current.keys.has(k))) return current.promise;
    this.followUp ??= current.promise.then(() => {
      this.followUp = undefined;
      return this.inFlight ? this.inFlight.promise : this.begin().promise;
    });
    return this.followUp;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = Date.now();
      const p = this.inFlight?.promise ?? this.begin().promise;
      void p.then(() => this.schedule(Math.max(0, this.opts.intervalMs - (Date.now() - started))));
    }, delayMs);
    this.timer.unref?.();
  }

  private begin(): { promise: Promise<FetchOutcome>; keys: Set<string> } {
    const models = this.opts.models();
    const keys = new Set(models.map((m) => modelKey(m.namespace, m.modelID)));
    const backend = this.opts.collector.backend;
    const started = performance.now();
    const endTimer = this.opts.metrics?.fetchSeconds.startTimer({ backend });
    const promise = (async (): Promise<FetchOutcome> => {
      try {
        await this.opts.collector.fetch(models);
        return { ok: true, models: models.length, durationMs: performance.now() - started };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.opts.metrics?.fetchErrors.inc({ backend });
        this.opts.logger.warn(
          { backend, models: models.length, err: message },
          'metrics fetch failed; serving cached values',
        );
        return { ok: false, models: models.length, durationMs: performance.now() - started, error: message };
      } finally {
        endTimer?.();
        this.opts.cache?.cleanup();
      }
    })().then((outcome) => {
      this.lastOutcome = outcome;
      if (this.inFlight?.promise === promise) this.inFlight = undefined;
      return outcome;
    });
    this.inFlight = { promise, keys };
    return this.inFlight;
  }
}
