import type { SimModel } from './model.js';
import { WaitHistogram } from './wait-histogram.js';

/**
 * Fleet-wide counters for benchmarks. Wait times (arrival → start, gateway time included) live
 * in a bounded log-bucket histogram, so a long bench never grows memory.
 */
export class FleetStats {
  readonly waits = new WaitHistogram();

  constructor(private readonly models: () => Iterable<SimModel>) {}

  get arrivals(): number {
    return this.sum((m) => m.arrivals);
  }

  get started(): number {
    return this.sum((m) => m.started);
  }

  get completed(): number {
    return this.sum((m) => m.completed);
  }

  get requeued(): number {
    return this.sum((m) => m.requeued);
  }

  /** Number of wait samples (one per request start; a requeued request counts again). */
  get waitSamples(): number {
    return this.waits.count;
  }

  get maxWaitMs(): number {
    return this.waits.max;
  }

  get meanWaitMs(): number | undefined {
    return this.waits.mean;
  }

  /** Largest gateway queue any model had. */
  get maxGatewayQueue(): number {
    let max = 0;
    for (const m of this.models()) max = Math.max(max, m.maxGatewayQueue);
    return max;
  }

  /** Largest gateway + replica queue any model had (sampled every tick). */
  get maxQueue(): number {
    let max = 0;
    for (const m of this.models()) max = Math.max(max, m.maxQueue);
    return max;
  }

  /** Wait-time quantile in ms over all models (q in [0, 1]); undefined before any start. */
  waitQuantileMs(q: number): number | undefined {
    return this.waits.quantile(q);
  }

  private sum(f: (m: SimModel) => number): number {
    let s = 0;
    for (const m of this.models()) s += f(m);
    return s;
  }
}
