/**
 * One served model: its variants' replicas, the gateway in front of them, its arrivals (seeded
 * Poisson and replayed traces) and statistics. Each arrival is dispatched at its own time to the
 * least-loaded ready replica (running + waiting, ties to the first variant then the oldest pod),
 * after every ready replica has been run up to that time.
 */
import { newPodName, replicaSetHash } from './pod-names.js';
import { SimPod, type PodListener, type SimRequest, type VariantParams } from './pod.js';
import { Prng, streamSeed } from './prng.js';
import type { FleetRequestEvent, FlowControlSpec, TokenRequest } from './types.js';
import type { RequestTokenMeans } from './variant-spec.js';
import { WaitHistogram } from './wait-histogram.js';

/** Erlang shape of generated request lengths: CV 0.5 around the mean. */
const LENGTH_SHAPE = 4;

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

/** FIFO of requests with an O(1) shift. */
class RequestQueue {
  private items: SimRequest[] = [];
  private head = 0;
  private tokenSum = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(r: SimRequest): void {
    this.items.push(r);
    this.tokenSum += r.promptTokens + r.outputTokens;
  }

  shift(): SimRequest | undefined {
    const r = this.items[this.head];
    if (!r) return undefined;
    this.head++;
    this.tokenSum -= r.promptTokens + r.outputTokens;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  drain(): SimRequest[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.tokenSum = 0;
    return out;
  }

  /** Prompt + output tokens of the queued requests. */
  tokens(): number {
    return this.tokenSum;
  }
}

/** Everything about one served model: its variants' pods, gateway queue and statistics. */
export class SimModel implements PodListener {
  readonly variants = new Map<string, VariantState>();
  readonly gateway = new RequestQueue();
  readonly waits = new WaitHistogram();
  /** Requests that arrived since start or the last stats reset. */
  arrivals = 0;
  /**
   * Requests that arrived since start, never reset: the gateway's request counter
   * (`inference_objective_request_total`) must only grow, whatever the bench does to its statistics.
   */
  arrivalsTotal = 0;
  started = 0;
  completed = 0;
  requeued = 0;
  maxGatewayQueue = 0;
  maxQueue = 0;
  private readonly arrivalsPrng: Prng;
  private readonly lengthsPrng: Prng;
  private readonly noisePrng: Prng;
  private readyCache: SimPod[] | undefined;
  /** Replayed requests not yet arrived, by arrival time. */
  private trace: TokenRequest[] = [];
  private traceHead = 0;

  constructor(
    readonly namespace: string,
    readonly modelID: string,
    public arrivalRate: number,
    readonly requestTokens: RequestTokenMeans,
    seed: number,
    private readonly registry: PodRegistry,
    private readonly globalWaits: WaitHistogram,
    private readonly kvNoise: number,
    private readonly flowControl: FlowControl | undefined,
    private readonly onEvent: ((e: FleetRequestEvent) => void) | undefined,
  ) {
    this.arrivalsPrng = new Prng(streamSeed(seed, 'arrivals', namespace, modelID));
    this.lengthsPrng = new Prng(streamSeed(seed, 'lengths', namespace, modelID));
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
   * from scratch with their original arrival time, like a gateway retry), never lost.
   */
  setReplicas(deployment: string, n: number, now: number): void {
    const v = this.variants.get(deployment);
    if (!v) throw new Error(`unknown deployment "${deployment}" for model ${this.namespace}/${this.modelID}`);
    while (v.pods.length < n) this.createPod(v, now, v.params.startupDelayMs);
    const orphans: SimRequest[] = [];
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
      this.evict(pod, orphans, now);
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
    const orphans: SimRequest[] = [];
    for (let i = v.pods.length - 1; i >= 0; i--) {
      const pod = v.pods[i];
      if (!pod || wanted.has(pod.name)) continue;
      v.pods.splice(i, 1);
      this.evict(pod, orphans, now);
    }
    const have = new Set(v.pods.map((p) => p.name));
    for (const name of names) if (!have.has(name)) this.addPod(v, name, now, 0);
    this.requeue(orphans, now);
  }

  private evict(pod: SimPod, orphans: SimRequest[], now: number): void {
    pod.advance(now, this);
    orphans.push(...pod.evictAll());
    this.registry.removed(pod);
    this.readyCache = undefined;
  }

  private requeue(orphans: SimRequest[], now: number): void {
    orphans.sort((a, b) => a.arrivedAt - b.arrivedAt);
    this.advanceReady(now);
    for (const r of orphans) {
      this.requeued++;
      this.dispatch(r, now);
    }
  }

  /** n requests of the model's mean lengths join the gateway queue now. */
  enqueueAtGateway(n: number, now: number): void {
    for (let i = 0; i < n; i++) {
      this.arrivals++;
      this.arrivalsTotal++;
      this.gateway.push(this.newRequest(now, this.drawPrompt(), this.drawOutput()));
    }
    this.observeQueues();
  }

  /** Requests that arrive at their `atMs` (sorted in; earlier than the clock means at the next tick). */
  enqueueRequests(requests: readonly TokenRequest[]): void {
    const pending = this.trace.slice(this.traceHead);
    const last = pending.at(-1);
    let sorted = true;
    for (let i = 1; i < requests.length; i++)
      if ((requests[i]?.atMs ?? 0) < (requests[i - 1]?.atMs ?? 0)) {
        sorted = false;
        break;
      }
    const first = requests[0];
    if (sorted && (!last || !first || first.atMs >= last.atMs)) this.trace = pending.concat(requests);
    else this.trace = pending.concat(requests).sort((a, b) => a.atMs - b.atMs);
    this.traceHead = 0;
  }

  /** Advances this model by one tick ending at `now` (dt ms long). */
  tick(now: number, dtMs: number): void {
    const start = now - dtMs;
    // 1. Arrivals inside the tick, in time order: replayed requests and the Poisson stream.
    const poisson = this.poissonArrivals(start, dtMs);
    let pi = 0;
    for (;;) {
      const t = this.trace[this.traceHead];
      const p = poisson[pi];
      const traceAt = t && t.atMs <= now ? Math.max(t.atMs, start) : Infinity;
      const poissonAt = p ? p.arrivedAt : Infinity;
      if (traceAt === Infinity && poissonAt === Infinity) break;
      let r: SimRequest;
      if (traceAt <= poissonAt && t) {
        this.traceHead++;
        r = this.newRequest(traceAt, t.promptTokens, t.outputTokens);
      } else if (p) {
        pi++;
        r = p;
      } else break;
      this.arrivals++;
      this.arrivalsTotal++;
      this.advanceReady(r.arrivedAt);
      this.dispatch(r, r.arrivedAt);
    }
    if (this.traceHead > 4096 && this.traceHead * 2 > this.trace.length) {
      this.trace = this.trace.slice(this.traceHead);
      this.traceHead = 0;
    }
    // 2. Pending pods whose startup delay elapsed become ready at the tick's end.
    for (const v of this.variants.values()) {
      for (const p of v.pods) {
        if (!p.ready && p.readyAt <= now) {
          p.becomeReady(now);
          this.readyCache = undefined;
        }
      }
    }
    // 3. Replicas run to the tick's end; the gateway releases what it held once a replica can take it.
    this.advanceReady(now);
    if (this.gateway.size > 0 && this.readyPods().length > 0) this.releaseHeld(now);
    // 4. Reported KV usage follows the blocks in use.
    for (const p of this.readyPods()) {
      let kv = p.blockUsage;
      if (this.kvNoise > 0 && p.running.length > 0) kv += (this.noisePrng.next() * 2 - 1) * this.kvNoise;
      // Rounded to 1e-6 so float noise (0.35000000000000003) never reaches the exposition.
      p.kvUsage = Math.round(Math.min(1, Math.max(0, kv)) * 1e6) / 1e6;
    }
    this.observeQueues();
  }

  /** Requests waiting in replica queues now. */
  podWaiting(): number {
    let w = 0;
    for (const v of this.variants.values()) for (const p of v.pods) w += p.waiting;
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

  // PodListener: what replicas report as requests progress.
  onStarted(_pod: SimPod, r: SimRequest, atMs: number): void {
    this.started++;
    const wait = atMs - r.arrivedAt;
    this.waits.record(wait);
    this.globalWaits.record(wait);
  }

  onFirstToken(pod: SimPod, r: SimRequest, atMs: number): void {
    if (r.firstTokenReported) return;
    r.firstTokenReported = true;
    this.emit('first-token', pod, r, atMs);
  }

  onFinished(pod: SimPod, r: SimRequest, atMs: number): void {
    this.completed++;
    this.emit('finished', pod, r, atMs);
  }

  private emit(kind: FleetRequestEvent['kind'], pod: SimPod, r: SimRequest, atMs: number): void {
    this.onEvent?.({
      namespace: this.namespace,
      modelID: this.modelID,
      kind,
      arrivedAtMs: r.arrivedAt,
      atMs,
      promptTokens: r.promptTokens,
      outputTokens: r.outputTokens,
      deployment: pod.variant.deployment,
    });
  }

  private poissonArrivals(start: number, dtMs: number): SimRequest[] {
    const n = this.arrivalsPrng.poisson((this.arrivalRate * dtMs) / 1000);
    if (n === 0) return [];
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(start + this.arrivalsPrng.next() * dtMs);
    times.sort((a, b) => a - b);
    return times.map((t) => this.newRequest(t, this.drawPrompt(), this.drawOutput()));
  }

  private drawPrompt(): number {
    return Math.max(1, Math.round(this.lengthsPrng.erlang(this.requestTokens.promptMean, LENGTH_SHAPE)));
  }

  private drawOutput(): number {
    return Math.max(1, Math.round(this.lengthsPrng.erlang(this.requestTokens.outputMean, LENGTH_SHAPE)));
  }

  private newRequest(arrivedAt: number, promptTokens: number, outputTokens: number): SimRequest {
    return {
      arrivedAt,
      promptTokens: Math.max(1, Math.round(promptTokens)),
      outputTokens: Math.max(1, Math.round(outputTokens)),
      dispatchedAt: Number.NaN,
      computed: 0,
      generated: 0,
      blocks: 0,
      scheduledAt: Number.NaN,
      lastTokenAt: Number.NaN,
      firstTokenReported: false,
    };
  }

  private advanceReady(t: number): void {
    for (const p of this.readyPods()) p.advance(t, this);
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
   * Sends a request to the least-loaded ready replica, or holds it at the gateway when none is
   * ready. Under flow control only replicas that are not saturated take requests, and nothing
   * overtakes a request already held at the gateway.
   */
  private dispatch(r: SimRequest, now: number): void {
    const ready = this.readyPods();
    if (ready.length === 0 || (this.flowControl && this.gateway.size > 0)) {
      this.gateway.push(r);
      return;
    }
    const best = this.leastLoaded(ready);
    if (!best) this.gateway.push(r);
    else best.enqueue(r, now);
  }

  /** Held requests go out oldest first while some replica takes them (under flow control: one not saturated). */
  private releaseHeld(now: number): void {
    const ready = this.readyPods();
    while (this.gateway.size > 0) {
      const best = this.leastLoaded(ready);
      if (!best) return;
      const r = this.gateway.shift();
      if (!r) return;
      best.enqueue(r, now);
    }
  }

  /** Least-loaded ready replica (first in order on a tie); under flow control only unsaturated ones. */
  private leastLoaded(ready: readonly SimPod[]): SimPod | undefined {
    const fc = this.flowControl;
    let best: SimPod | undefined;
    let bestLoad = Infinity;
    for (const p of ready) {
      if (fc && (p.waiting >= fc.queueDepthThreshold || p.blockUsage >= fc.kvCacheUtilThreshold - 1e-9)) continue;
      const load = p.load;
      if (load < bestLoad) {
        best = p;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Uncached prompt tokens dispatched to replicas and not yet prefilled (the EPP's prefill backlog). */
  inflightTokens(): number {
    let s = 0;
    for (const v of this.variants.values()) for (const p of v.pods) s += p.prefillBacklogTokens();
    return s;
  }
}
