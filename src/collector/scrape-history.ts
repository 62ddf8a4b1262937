/**
 * What the scrape backend remembers between scrapes, to give the same meaning Prometheus' queries
 * have: KV and waiting are peaks over the last minute, request rate is a counter delta over the
 * last minute, mean service time is the delta of the inference-time histogram's sum over the delta
 * of its count over the last minute, and requests over the retention window are counter deltas
 * over that window.
 *
 * The latency histograms of SLO mode (time to first token, inter-token latency or its older name
 * time per output token, queue time) and the generated-token counter are folded the same way; their
 * window means are delta(_sum) / delta(_count), as the PromQL's increase() ratios.
 *
 * Counters are folded at ingestion into a per-pod monotonic total (resets add the new value, as
 * Prometheus' increase() does), so old samples can be thinned without losing increments; thinning
 * can only move a window's baseline earlier by one spacing bucket (over-count, never under-count).
 *
 * Retention coverage: a fresh process (or one whose history is shorter than the window) has NOT
 * seen the whole window, so it must not conclude "no requests → idle": the value stays missing
 * until `now - firstScrape >= window`. Pods first seen after we started watching are counted from
 * 0 (they started within the window), which can only over-count: that delays scale to zero, never
 * causes a wrong one.
 */

export interface PodObservation {
  readonly kv: number | undefined;
  readonly waiting: number | undefined;
  readonly running: number | undefined;
  /** Raw `vllm:request_success_total` summed over finished_reason; undefined when absent. */
  readonly successTotal: number | undefined;
  /** Raw `vllm:request_inference_time_seconds_sum` / `_count`; undefined when absent. */
  readonly inferenceSum: number | undefined;
  readonly inferenceCount: number | undefined;
  /** Raw `vllm:prompt_tokens_total`; undefined when absent. */
  readonly promptTotal?: number | undefined;
  /** Raw latency histogram sums and counts and `vllm:generation_tokens_total` (SLO mode). */
  readonly latency?: LatencyCounters | undefined;
}

/** The counters SLO mode reads: histogram `_sum`/`_count` pairs and the generated tokens. */
export const LATENCY_FIELDS = [
  'ttftSum',
  'ttftCount',
  'itlSum',
  'itlCount',
  'tpotSum',
  'tpotCount',
  'queueSum',
  'queueCount',
  'generation',
] as const;
export type LatencyField = (typeof LATENCY_FIELDS)[number];
export type LatencyCounters = Readonly<Partial<Record<LatencyField, number | undefined>>>;

interface Sample {
  readonly t: number;
  readonly kv: number | undefined;
  readonly waiting: number | undefined;
  /** Monotonic total (resets folded in); undefined when the counter was absent. */
  readonly mono: number | undefined;
  /** Monotonic inference-time sum and count, likewise. */
  readonly inferSum: number | undefined;
  readonly inferCount: number | undefined;
  /** Monotonic prompt tokens, likewise. */
  readonly prompt: number | undefined;
  /** Monotonic latency counters, likewise (a field absent when its counter was). */
  readonly lat: LatencyCounters;
}

/** A counter folded into a monotonic total: a reset adds the new raw value, like increase(). */
class CounterFold {
  private mono = 0;
  constructor(private lastRaw: number | undefined) {}

  add(raw: number | undefined): number | undefined {
    if (raw === undefined) return undefined;
    if (this.lastRaw !== undefined) this.mono += raw >= this.lastRaw ? raw - this.lastRaw : raw;
    this.lastRaw = raw;
    return this.mono;
  }
}

interface PodHistory {
  readonly namespace: string;
  readonly modelID: string;
  readonly firstSeen: number;
  samples: Sample[];
  readonly success: CounterFold;
  readonly inferSum: CounterFold;
  readonly inferCount: CounterFold;
  readonly prompt: CounterFold;
  readonly lat: Map<LatencyField, CounterFold>;
}

export interface PodWindowValues {
  readonly kvPeak: number | undefined;
  readonly waitingPeak: number | undefined;
  readonly requestRate: number | undefined;
  /** Mean seconds running per request finished in the window; undefined when none finished. */
  readonly serviceSeconds: number | undefined;
  /** Prompt tokens per request finished in the window; undefined when none finished or no counter. */
  readonly promptTokensPerRequest: number | undefined;
  /** Window means in ms (SLO mode); undefined when the histogram took no sample or is absent. */
  readonly ttftMeanMs?: number | undefined;
  readonly itlMeanMs?: number | undefined;
  readonly queueTimeMeanMs?: number | undefined;
  /** Generated tokens per request finished in the window; undefined when none finished or no counter. */
  readonly outputTokensPerRequest?: number | undefined;
}

/** delta(num) / delta(den) between the first and last samples of the window that have both. */
function windowRatio(
  samples: readonly Sample[],
  num: (s: Sample) => number | undefined,
  den: (s: Sample) => number | undefined,
): number | undefined {
  let first: Sample | undefined;
  let last: Sample | undefined;
  for (const s of samples) {
    if (num(s) === undefined || den(s) === undefined) continue;
    first ??= s;
    last = s;
  }
  if (!first || !last) return undefined;
  const d = (den(last) ?? 0) - (den(first) ?? 0);
  return d > 0 ? ((num(last) ?? 0) - (num(first) ?? 0)) / d : undefined;
}

/** The latency means of the window's samples. */
function latencyMeans(
  samples: readonly Sample[],
): Pick<PodWindowValues, 'ttftMeanMs' | 'itlMeanMs' | 'queueTimeMeanMs' | 'outputTokensPerRequest'> {
  const mean = (sum: LatencyField, count: LatencyField): number | undefined => {
    const r = windowRatio(
      samples,
      (s) => s.lat[sum],
      (s) => s.lat[count],
    );
    return r === undefined ? undefined : r * 1000;
  };
  return {
    ttftMeanMs: mean('ttftSum', 'ttftCount'),
    itlMeanMs: mean('itlSum', 'itlCount') ?? mean('tpotSum', 'tpotCount'),
    queueTimeMeanMs: mean('queueSum', 'queueCount'),
    outputTokensPerRequest: windowRatio(
      samples,
      (s) => s.lat.generation,
      (s) => s.mono,
    ),
  };
}

export interface ScrapeHistoryOptions {
  /** Window of the KV/waiting peaks and the request rate (1 m, like the PromQL). */
  readonly peakWindowMs?: number;
  /** Older samples are kept at most one per this spacing (bounds memory at sub-second intervals). */
  readonly thinSpacingMs?: number;
}

/** increase(prompt tokens) / increase(requests) over the window's counter samples. */
function promptPerRequest(counters: readonly Sample[]): number | undefined {
  const withPrompt = counters.filter((s) => s.prompt !== undefined);
  const first = withPrompt[0];
  const last = withPrompt[withPrompt.length - 1];
  if (!first || !last) return undefined;
  const finished = (last.mono ?? 0) - (first.mono ?? 0);
  return finished > 0 ? ((last.prompt ?? 0) - (first.prompt ?? 0)) / finished : undefined;
}

function foldLatency(folds: ReadonlyMap<LatencyField, CounterFold>, raw: LatencyCounters | undefined): LatencyCounters {
  if (!raw) return {};
  const out: Partial<Record<LatencyField, number>> = {};
  for (const [f, fold] of folds) {
    const v = fold.add(raw[f]);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

export class ScrapeHistory {
  private readonly pods = new Map<string, PodHistory>();
  private firstScrapeAt: number | undefined;
  private readonly peakWindowMs: number;
  private readonly thinSpacingMs: number;

  constructor(opts: ScrapeHistoryOptions = {}) {
    this.peakWindowMs = opts.peakWindowMs ?? 60_000;
    this.thinSpacingMs = opts.thinSpacingMs ?? 5_000;
  }

  /** Records one scrape cycle; `keepMs` is the longest window any tracked model needs. */
  record(
    t: number,
    observations: ReadonlyMap<string, PodObservation & { namespace: string; modelID: string }>,
    keepMs: number,
  ): void {
    this.firstScrapeAt ??= t;
    for (const [key, o] of observations) {
      let h = this.pods.get(key);
      if (!h) {
        // A pod that appeared after we started watching began within our history: count from 0.
        const base = t > this.firstScrapeAt ? 0 : undefined;
        h = {
          namespace: o.namespace,
          modelID: o.modelID,
          firstSeen: t,
          samples: [],
          success: new CounterFold(base),
          inferSum: new CounterFold(base),
          inferCount: new CounterFold(base),
          prompt: new CounterFold(base),
          lat: new Map(LATENCY_FIELDS.map((f) => [f, new CounterFold(base)])),
        };
        this.pods.set(key, h);
      }
      h.samples.push({
        t,
        kv: o.kv,
        waiting: o.waiting,
        mono: h.success.add(o.successTotal),
        inferSum: h.inferSum.add(o.inferenceSum),
        inferCount: h.inferCount.add(o.inferenceCount),
        prompt: h.prompt.add(o.promptTotal),
        lat: foldLatency(h.lat, o.latency),
      });
    }
    this.prune(t, Math.max(keepMs, this.peakWindowMs));
  }

  /** Peaks and rate of one pod over the last peak window. */
  windowValues(key: string, now: number): PodWindowValues {
    const h = this.pods.get(key);
    if (!h)
      return {
        kvPeak: undefined,
        waitingPeak: undefined,
        requestRate: undefined,
        serviceSeconds: undefined,
        promptTokensPerRequest: undefined,
      };
    const from = now - this.peakWindowMs;
    let kvPeak: number | undefined;
    let waitingPeak: number | undefined;
    const counters: Sample[] = [];
    const service: Sample[] = [];
    for (const s of h.samples) {
      if (s.t <= from) continue; // left-open like Prometheus' range selectors
      if (s.kv !== undefined) kvPeak = Math.max(kvPeak ?? s.kv, s.kv);
      if (s.waiting !== undefined) waitingPeak = Math.max(waitingPeak ?? s.waiting, s.waiting);
      if (s.mono !== undefined) counters.push(s);
      if (s.inferSum !== undefined && s.inferCount !== undefined) service.push(s);
    }
    const first = counters[0];
    const last = counters[counters.length - 1];
    const requestRate =
      first && last && last.t > first.t && first.mono !== undefined && last.mono !== undefined
        ? ((last.mono - first.mono) * 1000) / (last.t - first.t)
        : undefined;
    // rate(_sum[1m]) / rate(_count[1m]): the window cancels out; no completion is NaN (missing).
    const s0 = service[0];
    const s1 = service[service.length - 1];
    const finished = s0 && s1 ? (s1.inferCount ?? 0) - (s0.inferCount ?? 0) : 0;
    const serviceSeconds = s0 && s1 && finished > 0 ? ((s1.inferSum ?? 0) - (s0.inferSum ?? 0)) / finished : undefined;
    const windowed = h.samples.filter((x) => x.t > from);
    return {
      kvPeak,
      waitingPeak,
      requestRate,
      serviceSeconds,
      promptTokensPerRequest: promptPerRequest(counters),
      ...latencyMeans(windowed),
    };
  }

  /**
   * Requests a model finished over the window ending now, summed over its pods (gone ones too);
   * undefined while our history does not cover the window or no pod of the model ever reported.
   */
  requestsOverWindow(namespace: string, modelID: string, windowMs: number, now: number): number | undefined {
    if (this.firstScrapeAt === undefined || now - this.firstScrapeAt < windowMs) return undefined;
    const from = now - windowMs;
    let total: number | undefined;
    for (const h of this.pods.values()) {
      if (h.namespace !== namespace || h.modelID !== modelID) continue;
      let baseline: number | undefined;
      let latest: number | undefined;
      for (const s of h.samples) {
        if (s.mono === undefined) continue;
        if (s.t <= from) baseline = s.mono;
        else latest = s.mono;
      }
      if (latest === undefined) continue; // nothing from this pod inside the window
      // No sample before the window: the pod's first sample is its baseline (already 0-based for new pods).
      const firstInWindow = h.samples.find((s) => s.t > from && s.mono !== undefined)?.mono ?? latest;
      const base = baseline ?? (h.firstSeen > (this.firstScrapeAt ?? 0) ? 0 : firstInWindow);
      total = (total ?? 0) + (latest - base);
    }
    return total;
  }

  /** Pods known, for tests and /debug. */
  get podCount(): number {
    return this.pods.size;
  }

  private prune(now: number, keepMs: number): void {
    const keepFrom = now - keepMs;
    const denseFrom = now - this.peakWindowMs;
    for (const [key, h] of this.pods) {
      const kept: Sample[] = [];
      let lastBeforeWindow: Sample | undefined;
      for (const s of h.samples) {
        if (s.t < keepFrom) {
          lastBeforeWindow = s; // the newest one before the window is the baseline
          continue;
        }
        const prev = kept[kept.length - 1];
        // Older than the peak window: one sample per spacing bucket (the latest; its mono covers the rest).
        if (
          s.t < denseFrom &&
          prev &&
          Math.floor(prev.t / this.thinSpacingMs) === Math.floor(s.t / this.thinSpacingMs)
        ) {
          kept[kept.length - 1] = s;
          continue;
        }
        kept.push(s);
      }
      h.samples = lastBeforeWindow ? [lastBeforeWindow, ...kept] : kept;
      // A pod unseen for longer than every window is forgotten.
      const newest = h.samples[h.samples.length - 1];
      if (!newest || newest.t < keepFrom) this.pods.delete(key);
    }
  }
}
