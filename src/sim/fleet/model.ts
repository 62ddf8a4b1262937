import { BatchQueue } from './batch-queue.js';
import { newPodName, replicaSetHash } from './pod-names.js';
import { SimPod, type VariantParams } from './pod.js';
import { Prng, streamSeed } from './prng.js';
import type { FlowControlSpec } from './types.js';
import { WaitHistogram } from './wait-histogram.js';

/** Share of a request's service time spent before its first token (prefill). */
const PREFILL_SHARE = 0.1;
/** Decode speed used to turn service time into generated tokens. */
const MS_PER_OUTPUT_TOKEN = 20;
/** Erlang shape of service times: exponential-like around the mean, CV 0.5. */
const SERVICE_SHAPE = 4;
/** Share of prompt tokens served from the prefix cache. */
const PREFIX_HIT_SHARE = 0.3;

/** Resolved flow-control thresholds: the spec with its defaults filled in. */
export type FlowControl = Readonly<Required<FlowControlSpec>>;

export interface VariantState {
  readonly params: VariantParams;
  readonly rsHash: string;
  readonly names: Prng;
  /** Pods in creation order (oldest first). */
  readonly pods: SimPod[];
}

/** Hooks the model uses to tell the fleet about pods it created or removed (for lookups). */
export interface PodRegistry {
  added(pod: SimPod): void;
  removed(pod: SimPod): void;
  epochSecondsAt(simMs: number): number;
}

/** Everything about one served model: its variants' pods, gateway queue and statistics. */
export class SimModel {
  readonly variants = new Map<string, VariantState>();
  readonly gateway = new BatchQueue();
  readonly waits = new WaitHistogram();
  arrivals = 0;
  started = 0;
  completed = 0;
  requeued = 0;
  maxGatewayQueue = 0;
  maxQueue = 0;
  private readonly arrivalsPrng: Prng;
  private readonly servicePrng: Prng;
  private readonly noisePrng: Prng;
  private readyCache: SimPod[] | undefined;

  constructor(
    readonly namespace: string,
    readonly modelID: string,
    public arrivalRate: number,
    seed: number,
    private readonly registry: PodRegistry,
    private readonly globalWaits: WaitHistogram,
    private readonly kvNoise: number,
    private readonly flowControl: FlowControl | undefined = undefined,
  ) {
    this.arrivalsPrng = new Prng(streamSeed(seed, 'arrivals', namespace, modelID));
    this.servicePrng = new Prng(streamSeed(seed, 'service', namespace, modelID));
    this.noisePrng = new Prng(streamSeed(seed, 'kv-noise', namespace, modelID));
  }

  addVariant(params: VariantParams, seed: number, initialReplicas: number, now: number): void {
    const state: VariantState = {
      params,
      rsHash: replicaSetHash(this.namespace, params.deployment),
      names: new Prng(streamSeed(seed, 'pod-names', this.namespace, params.deployment)),
      pods: [],
    };
    this.variants.set(params.deployment, state);
    // Initial replicas already exist: ready at time 0 whatever the startup delay.
    for (let i = 0; i < initialReplicas; i++) this.createPod(state, now, 0);
  }

  /** Ready pods of all variants, in variant then creation order (stable tie-break). */
  readyPods(): SimPod[] {
    if (!this.readyCache) {
      const out: SimPod[] = [];
      for (const v of this.variants.values()) for (const p of v.pods) if (p.ready) out.push(p);
      this.readyCache = out;
    }
    return this.readyCache;
  }

  allPods(): SimPod[] {
    const out: SimPod[] = [];
    for (const v of this.variants.values()) out.push(...v.pods);
    return out;
  }

  /**
   * Scale a variant. Up: new pods are pending for startupDelayMs. Down: not-ready pods go first,
   * then the newest ready ones; their running and waiting requests are requeued (dispatched again
   * with their original arrival time, like a gateway retry), never lost.
   */
  setReplicas(deployment: string, n: number, now: number): void {
    const v = this.variants.get(deployment);
    if (!v) throw new Error(`unknown deployment "${deployment}" for model ${this.namespace}/${this.modelID}`);
    while (v.pods.length < n) this.createPod(v, now, v.params.startupDelayMs);
    const orphans: { arrivedAt: number; count: number }[] = [];
    while (v.pods.length > n) {
      let idx = -1;
      for (let i = v.pods.length - 1; i >= 0; i--)
        if (!v.pods[i]?.ready) {
          idx = i;
          break;
        }
      if (idx < 0) idx = v.pods.length - 1;
      const [pod] = v.pods.splice(idx, 1);
      if (!pod) break;
      this.evict(pod, orphans);
    }
    this.requeue(orphans, now);
  }

  /**
   * Makes a variant's pods exactly `names` (pods that Kubernetes runs): a new name becomes a
   * ready replica at once, a missing one goes away and its requests are requeued.
   */
  adoptPods(deployment: string, names: readonly string[], now: number): void {
    const v = this.variants.get(deployment);
    if (!v) throw new Error(`unknown deployment "${deployment}" for model ${this.namespace}/${this.modelID}`);
    const wanted = new Set(names);
    const orphans: { arrivedAt: number; count: number }[] = [];
    for (let i = v.pods.length - 1; i >= 0; i--) {
      const pod = v.pods[i];
      if (!pod || wanted.has(pod.name)) continue;
      v.pods.splice(i, 1);
      this.evict(pod, orphans);
    }
    const have = new Set(v.pods.map((p) => p.name));
    for (const name of names) if (!have.has(name)) this.addPod(v, name, now, 0);
    this.requeue(orphans, now);
  }

  private evict(pod: SimPod, orphans: { arrivedAt: number; count: number }[]): void {
    for (const r of pod.running) orphans.push({ arrivedAt: r.arrivedAt, count: 1 });
    for (const b of pod.waiting.drain()) orphans.push({ arrivedAt: b.arrivedAt, count: b.count });
    pod.running.length = 0;
    this.registry.removed(pod);
    this.readyCache = undefined;
  }

  private requeue(orphans: { arrivedAt: number; count: number }[], now: number): void {
    orphans.sort((a, b) => a.arrivedAt - b.arrivedAt);
    for (const o of orphans) {
      this.requeued += o.count;
      this.dispatch(o.arrivedAt, o.count, now);
    }
    this.startWaiting(now);
  }

  enqueueAtGateway(n: number, now: number): void {
    this.arrivals += n;
    this.gateway.push(now, Number.NaN, n);
    this.observeQueues();
  }

  /** Advances this model by one tick ending at `now` (dt ms long). */
  tick(now: number, dtMs: number): void {
    // 1. Pending pods whose startup delay elapsed become ready.
    for (const v of this.variants.values()) {
      for (const p of v.pods) {
        if (!p.ready && p.readyAt <= now) {
          p.ready = true;
          this.readyCache = undefined;
        }
      }
    }
    // 2. Completions free slots.
    for (const p of this.readyPods()) this.complete(p, now);
    // 3. The gateway releases what it held once a replica is ready (under flow control: one not saturated).
    if (this.gateway.size > 0 && this.readyPods().length > 0) {
      if (this.flowControl) {
        // The detector reads queues after the replicas started what their freed slots allow.
        this.startWaiting(now);
        this.releaseHeld(now);
      } else for (const b of this.gateway.drain()) this.dispatch(b.arrivedAt, b.count, now);
    }
    // 4. New arrivals (Poisson over the tick).
    const n = this.arrivalsPrng.poisson((this.arrivalRate * dtMs) / 1000);
    if (n > 0) {
      this.arrivals += n;
      this.dispatch(now, n, now);
    }
    // 5. Replicas start what fits; KV follows running requests.
    this.startWaiting(now);
    for (const p of this.readyPods()) {
      let kv = p.running.length * p.variant.kvPerRequest;
      if (this.kvNoise > 0 && p.running.length > 0) kv += (this.noisePrng.next() * 2 - 1) * this.kvNoise;
      // Rounded to 1e-6 so float noise (0.35000000000000003) never reaches the exposition.
      p.kvUsage = Math.round(Math.min(1, Math.max(0, kv)) * 1e6) / 1e6;
    }
    this.observeQueues();
  }

  /** Requests waiting in replica queues now. */
  podWaiting(): number {
    let w = 0;
    for (const v of this.variants.values()) for (const p of v.pods) w += p.waiting.size;
    return w;
  }

  running(): number {
    let r = 0;
    for (const v of this.variants.values()) for (const p of v.pods) r += p.running.length;
    return r;
  }

  resetStats(): void {
    this.arrivals = 0;
    this.started = 0;
    this.completed = 0;
    this.requeued = 0;
    this.maxGatewayQueue = this.gateway.size;
    this.maxQueue = this.gateway.size + this.podWaiting();
    this.waits.reset();
  }

  private observeQueues(): void {
    const g = this.gateway.size;
    if (g > this.maxGatewayQueue) this.maxGatewayQueue = g;
    const q = g + this.podWaiting();
    if (q > this.maxQueue) this.maxQueue = q;
  }

  private createPod(v: VariantState, now: number, delayMs: number): void {
    const taken = new Set(v.pods.map((p) => p.name));
    this.addPod(v, newPodName(v.params.deployment, v.rsHash, v.names, taken), now, delayMs);
  }

  private addPod(v: VariantState, name: string, now: number, delayMs: number): void {
    const pod = new SimPod(
      name,
      this.namespace,
      this.modelID,
      v.params,
      now,
      now + delayMs,
      this.registry.epochSecondsAt(now),
    );
    v.pods.push(pod);
    this.registry.added(pod);
    this.readyCache = undefined;
  }

  /**
   * Sends n requests to the least-loaded ready replicas, or to the gateway when none is ready.
   * Under flow control only replicas that are not saturated take requests, and nothing overtakes
   * a request already held at the gateway.
   */
  private dispatch(arrivedAt: number, n: number, now: number): void {
    const ready = this.readyPods();
    if (ready.length === 0 || (this.flowControl && this.gateway.size > 0)) {
      this.gateway.push(arrivedAt, Number.NaN, n);
      return;
    }
    for (let k = 0; k < n; k++) {
      const best = this.leastLoaded(ready);
      if (!best) {
        this.gateway.push(arrivedAt, Number.NaN, n - k);
        return;
      }
      this.route(best, arrivedAt, now);
    }
  }

  /** Flow control: held requests go out oldest first while some replica is not saturated. */
  private releaseHeld(now: number): void {
    const ready = this.readyPods();
    while (this.gateway.size > 0) {
      const best = this.leastLoaded(ready);
      if (!best) return;
      const req = this.gateway.shift();
      if (!req) return;
      this.route(best, req.arrivedAt, now);
    }
  }

  private route(pod: SimPod, arrivedAt: number, now: number): void {
    pod.waiting.push(arrivedAt, now, 1);
    // Start immediately when a slot is free, so load stays accurate for the next request.
    if (pod.freeSlots > 0) this.startOne(pod, now);
  }

  /** Least-loaded ready replica (first in order on a tie); under flow control only unsaturated ones. */
  private leastLoaded(ready: readonly SimPod[]): SimPod | undefined {
    const fc = this.flowControl;
    let best: SimPod | undefined;
    let bestLoad = Infinity;
    for (const p of ready) {
      if (
        fc &&
        (p.waiting.size >= fc.queueDepthThreshold ||
          p.running.length * p.variant.kvPerRequest >= fc.kvCacheUtilThreshold - 1e-9)
      )
        continue;
      const load = p.load;
      if (load < bestLoad) {
        best = p;
        bestLoad = load;
      }
    }
    return best;
  }

  private startWaiting(now: number): void {
    for (const p of this.readyPods()) while (p.freeSlots > 0 && p.waiting.size > 0) this.startOne(p, now);
  }

  private startOne(p: SimPod, now: number): void {
    const req = p.waiting.shift();
    if (!req) return;
    const serviceMs = Math.max(1, this.servicePrng.erlang(p.variant.serviceTimeMs, SERVICE_SHAPE));
    const promptTokens = this.servicePrng.int(128, 1024);
    p.running.push({
      arrivedAt: req.arrivedAt,
      dispatchedAt: req.dispatchedAt,
      startAt: now,
      finishAt: now + serviceMs,
      promptTokens,
    });
    p.promptTokens += promptTokens;
    p.prefixQueries += promptTokens;
    p.prefixHits += Math.floor(promptTokens * PREFIX_HIT_SHARE);
    this.started++;
    const wait = now - req.arrivedAt;
    this.waits.record(wait);
    this.globalWaits.record(wait);
  }

  private complete(p: SimPod, now: number): void {
    let w = 0;
    for (const r of p.running) {
      if (r.finishAt > now) {
        p.running[w++] = r;
        continue;
      }
      const serviceS = (r.finishAt - r.startAt) / 1000;
      const queuedS = (r.startAt - r.dispatchedAt) / 1000;
      p.successStop++;
      p.generationTokens += Math.max(1, Math.round((serviceS * 1000 * (1 - PREFILL_SHARE)) / MS_PER_OUTPUT_TOKEN));
      p.e2e.observe(queuedS + serviceS);
      p.queueTime.observe(queuedS);
      p.inferenceTime.observe(serviceS);
      p.ttft.observe(queuedS + serviceS * PREFILL_SHARE);
      this.completed++;
    }
    p.running.length = w;
  }
}
