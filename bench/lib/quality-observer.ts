/**
 * What each policy sees of the fleet, emulating Prometheus: every scrape stores one sample per
 * ready pod (pending pods serve no metrics); queries are answered from those samples.
 *  - The engine (and WVA's rule) read what the collector's PromQL gives: KV use and waiting as
 *    `max_over_time(...[1m])` per pod and as the latest sample, running as the latest sample, the
 *    completion rate as the counter's increase over the window's samples (`rate(...[1m])`, without
 *    extrapolation). Only pods that exist now are listed (Prometheus would keep a removed pod's 1 m
 *    peak for up to a minute; the collector maps pods to variants through Kubernetes, which no
 *    longer lists it).
 *    The gateway's arrivals as `irate(inference_objective_request_total[1m])`: the never-reset
 *    counter (`arrivalsTotal`) over the last two scrapes.
 *  - KEDA's prometheus trigger reads `sum(vllm:num_requests_waiting)`: the latest sample per pod.
 */
import type { ModelMetrics, ReplicaMetrics } from '../../src/domain/metrics.js';
import type { FleetModelSnapshot } from '../../src/sim/fleet/types.js';

export interface PodSample {
  readonly at: number;
  readonly kv: number;
  readonly waiting: number;
  readonly running: number;
  readonly completed: number;
  readonly inferenceSeconds: number;
}

export const PEAK_WINDOW_MS = 60_000;

/** A never-reset counter (the gateway's `inference_objective_request_total`) at one scrape. */
export interface CounterSample {
  readonly at: number;
  readonly total: number;
}

/**
 * `irate(counter[window])` at `now` in per second: the increase over the last two samples (oldest
 * first), both inside the window; undefined before the second sample (missing, never 0). The
 * counter never resets (SimModel.arrivalsTotal), so there is no reset to fold in.
 */
export function irate(lastTwo: readonly CounterSample[], now: number, windowMs: number): number | undefined {
  const [a, b] = lastTwo.slice(-2);
  if (!a || !b || a.at <= now - windowMs || !(b.at > a.at)) return undefined;
  return ((b.total - a.total) * 1000) / (b.at - a.at);
}

export class ScrapeHistory {
  private readonly byPod = new Map<string, { deployment: string; samples: PodSample[] }>();
  /** Pods present at the last scrape (ready or not). */
  private present = new Set<string>();
  /** The gateway's request counter at the last two scrapes, oldest first (what irate() reads). */
  private arrivals: CounterSample[] = [];

  constructor(private readonly windowMs = PEAK_WINDOW_MS) {}

  /** One scrape of the model at `now`. */
  scrape(model: FleetModelSnapshot, now: number): void {
    this.present = new Set(model.pods.map((p) => p.pod));
    this.arrivals = [...this.arrivals, { at: now, total: model.arrivalsTotal }].slice(-2);
    for (const p of model.pods) {
      if (!p.ready) continue;
      let h = this.byPod.get(p.pod);
      if (!h) {
        h = { deployment: p.deployment, samples: [] };
        this.byPod.set(p.pod, h);
      }
      h.samples.push({
        at: now,
        kv: p.kvUsage,
        waiting: p.waiting,
        running: p.running,
        completed: p.completed,
        inferenceSeconds: p.inferenceSeconds,
      });
    }
    for (const [pod, h] of this.byPod) {
      // max_over_time(x[1m]) at `now` covers samples in (now - 1m, now].
      while (h.samples.length > 0 && (h.samples[0]?.at ?? now) <= now - this.windowMs) h.samples.shift();
      if (h.samples.length === 0 || !this.present.has(pod)) this.byPod.delete(pod);
    }
  }

  /** ModelMetrics as the collector would hand them to the engine (peak over the window). */
  modelMetrics(
    model: FleetModelSnapshot,
    now: number,
    variantKeyOf: (deployment: string) => string | undefined,
  ): ModelMetrics {
    const replicas: ReplicaMetrics[] = [];
    for (const [pod, h] of [...this.byPod].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const last = h.samples[h.samples.length - 1];
      if (!last) continue;
      let kv = 0;
      let waiting = 0;
      for (const s of h.samples) {
        if (s.kv > kv) kv = s.kv;
        if (s.waiting > waiting) waiting = s.waiting;
      }
      // rate(vllm:request_success_total[1m]): counter increase over the samples in the window.
      const first = h.samples[0];
      const requestRate =
        first && last.at > first.at ? ((last.completed - first.completed) * 1000) / (last.at - first.at) : undefined;
      // rate(_sum[1m]) / rate(_count[1m]) of vllm:request_inference_time_seconds: NaN (missing) with no completion.
      const finished = first ? last.completed - first.completed : 0;
      const serviceSeconds =
        first && finished > 0 ? (last.inferenceSeconds - first.inferenceSeconds) / finished : undefined;
      replicas.push({
        namespace: model.namespace,
        modelID: model.modelID,
        pod,
        variantKey: variantKeyOf(h.deployment),
        kvCacheUsage: kv,
        queueLength: waiting,
        running: last.running,
        requestRate,
        serviceSeconds,
        // The latest sample, as the collector's instant queries give it beside the peaks.
        kvCacheUsageNow: last.kv,
        queueLengthNow: last.waiting,
      });
    }
    return {
      namespace: model.namespace,
      modelID: model.modelID,
      replicas,
      requestsOverRetention: undefined,
      gatewayQueue: model.gatewayQueue,
      gatewayArrivalRate: irate(this.arrivals, now, this.windowMs),
      collectedAt: now,
      seenModelNames: [model.modelID],
    };
  }

  /** `sum(vllm:num_requests_waiting)`: latest sample of every pod still scraped. */
  sumWaitingLatest(): number {
    let sum = 0;
    for (const h of this.byPod.values()) sum += h.samples[h.samples.length - 1]?.waiting ?? 0;
    return sum;
  }
}
