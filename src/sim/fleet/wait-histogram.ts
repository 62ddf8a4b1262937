/**
 * Bounded-memory record of waiting times: exact count of zero waits plus log-spaced buckets
 * (4 % wide, 1 ms … ~28 h). Quantiles are reported as the bucket's upper bound (never
 * optimistic), capped by the true maximum.
 */
const BASE_MS = 1;
const RATIO = 1.04;
const BUCKETS = 470;
const LOG_RATIO = Math.log(RATIO);

export class WaitHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private zeros = 0;
  private n = 0;
  private maxMs = 0;
  private sumMs = 0;

  record(waitMs: number, times = 1): void {
    if (!(waitMs >= 0) || times <= 0) return;
    this.n += times;
    this.sumMs += waitMs * times;
    if (waitMs > this.maxMs) this.maxMs = waitMs;
    if (waitMs < BASE_MS) {
      this.zeros += times;
      return;
    }
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(waitMs / BASE_MS) / LOG_RATIO));
    this.counts[i] = (this.counts[i] ?? 0) + times;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.maxMs;
  }

  get mean(): number | undefined {
    return this.n === 0 ? undefined : this.sumMs / this.n;
  }

  /** q in [0, 1]; undefined when nothing was recorded. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const target = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.n));
    let seen = this.zeros;
    if (seen >= target) return 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= target) return Math.min(this.maxMs, BASE_MS * Math.pow(RATIO, i + 1));
    }
    return this.maxMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.zeros = 0;
    this.n = 0;
    this.maxMs = 0;
    this.sumMs = 0;
  }
}
