import { gatewayExposition, vllmExposition, vllmFamilies } from './exposition.js';
import { FleetHttpServer } from './http-server.js';
import { SimModel, type FlowControl, type PodRegistry } from './model.js';
import type { SimPod } from './pod.js';
import type { PromHistogram } from './prom-histogram.js';
import { FleetStats } from './stats.js';
import type {
  FleetModelSnapshot,
  FleetOptions,
  FleetRequestEvent,
  FleetSnapshot,
  FleetHistogram,
  FleetVariantSpec,
  FlowControlSpec,
  TokenRequest,
} from './types.js';
import {
  DEFAULT_REQUEST_TOKENS,
  nonEmpty,
  nonNegative,
  positive,
  resolveRequestTokens,
  resolveVariant,
} from './variant-spec.js';

/** The EPP saturation detector's defaults (gateway-api-inference-extension, pkg/epp/saturationdetector). */
const FLOW_CONTROL_DEFAULTS = { queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8 };
const DEFAULTS = {
  tickMs: 100,
  seed: 1,
  timeScale: 1,
};
/** Longest real-time gap a realtime timer catches up in one go (an event loop stall). */
const MAX_CATCH_UP_REAL_MS = 10_000;

/**
 * An emulated fleet of vLLM replicas behind an inference gateway, at token level. Requests (prompt
 * and output tokens) arrive per model as a seeded Poisson process or from a replayed trace
 * (`enqueueRequests`), go to the least-loaded ready replica of the model (over all its variants),
 * and run through each replica's vLLM v1 scheduler (token budget, chunked prefill, KV blocks,
 * recompute preemption; see pod.ts); with no ready replica they wait at the gateway (with
 * `flowControl`, also while every replica is saturated). The fleet serves vLLM-faithful /metrics
 * for Prometheus or a direct scraper, and the gateway's (EPP's) series.
 */
export class VllmFleet {
  readonly stats: FleetStats;
  private readonly models = new Map<string, SimModel>();
  private readonly deployments = new Map<string, SimModel>();
  private readonly pods = new Map<string, SimPod>();
  private readonly tickMs: number;
  private readonly timeScale: number;
  private readonly realtime: boolean;
  private readonly families;
  private readonly http: FleetHttpServer;
  private readonly seed: number;
  private readonly kvNoise: number;
  private readonly flowControl: FlowControl | undefined;
  private readonly registry: PodRegistry;
  private readonly onRequestEvent: ((e: FleetRequestEvent) => void) | undefined;
  private readonly epochStartMs = Date.now();
  private now = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastRealMs = 0;
  private carryMs = 0;

  constructor(opts: FleetOptions) {
    if (!opts || !Array.isArray(opts.models))
      throw new Error('fleet options: "models" must be an array of model specs');
    this.tickMs = positive(opts.tickMs ?? DEFAULTS.tickMs, 'tickMs', 'a number of ms > 0');
    this.timeScale = positive(opts.timeScale ?? DEFAULTS.timeScale, 'timeScale', 'sim ms per real ms, > 0');
    this.realtime = opts.realtime ?? true;
    const seed = opts.seed ?? DEFAULTS.seed;
    if (!Number.isInteger(seed)) throw new Error(`fleet options: seed ${String(seed)} must be an integer`);
    const kvNoise = opts.kvNoise ?? 0;
    if (!(kvNoise >= 0 && kvNoise <= 1)) throw new Error(`fleet options: kvNoise ${String(kvNoise)} must be in [0, 1]`);
    const flowControl = resolveFlowControl(opts.flowControl);
    if (opts.onRequestEvent !== undefined && typeof opts.onRequestEvent !== 'function')
      throw new Error('fleet options: onRequestEvent must be a function');
    this.onRequestEvent = opts.onRequestEvent;
    this.seed = seed;
    this.kvNoise = kvNoise;
    this.flowControl = flowControl;
    this.families = vllmFamilies({
      legacyKvMetricName: opts.legacyKvMetricName ?? false,
      histograms: opts.histograms ?? true,
    });
    this.stats = new FleetStats(() => this.models.values());
    const registry: PodRegistry = {
      added: (pod) => this.pods.set(`${pod.namespace}/${pod.name}`, pod),
      removed: (pod) => this.pods.delete(`${pod.namespace}/${pod.name}`),
      epochSecondsAt: (simMs) => (this.epochStartMs + simMs) / 1000,
    };
    this.registry = registry;
    for (const [i, spec] of opts.models.entries()) {
      const where = `models[${i}]`;
      nonEmpty(spec?.namespace, `${where}.namespace`);
      nonEmpty(spec.modelID, `${where}.modelID`);
      const key = `${spec.namespace}/${spec.modelID}`;
      if (this.models.has(key)) throw new Error(`${where}: model ${key} is listed twice`);
      const rate = nonNegative(spec.arrivalRate, `${where}.arrivalRate`, 'requests per second ≥ 0');
      if (!Array.isArray(spec.variants)) throw new Error(`${where}.variants must be an array`);
      const tokens = resolveRequestTokens(spec.requestTokens, `${where}.requestTokens`);
      const model = new SimModel(
        spec.namespace,
        spec.modelID,
        rate,
        tokens,
        seed,
        registry,
        this.stats.waits,
        kvNoise,
        flowControl,
        this.onRequestEvent,
      );
      for (const [j, v] of spec.variants.entries()) {
        const params = resolveVariant(v, `${where}.variants[${j}]`, tokens);
        const depKey = `${spec.namespace}/${params.deployment}`;
        if (this.deployments.has(depKey))
          throw new Error(`${where}.variants[${j}]: deployment ${depKey} is used twice`);
        const replicas = count(v.replicas, `${where}.variants[${j}].replicas`);
        model.addVariant(params, seed, replicas, this.now);
        this.deployments.set(depKey, model);
      }
      this.models.set(key, model);
    }
    this.http = new FleetHttpServer(
      {
        allPodsExposition: () => vllmExposition(this.readyPods(), this.families),
        podExposition: (ns, pod) => {
          const p = this.pods.get(`${ns}/${pod}`);
          if (!p) return undefined;
          return p.ready ? vllmExposition([p], this.families) : 'not-ready';
        },
        gatewayExposition: () => gatewayExposition(this.models.values()),
        targets: (hostPort) =>
          this.readyPods().map((p) => ({
            targets: [hostPort],
            labels: { __metrics_path__: podPath(p), namespace: p.namespace, pod: p.name },
          })),
      },
      opts.host ?? '127.0.0.1',
      opts.port ?? 0,
    );
  }

  /** Starts the HTTP server and, in realtime mode, the clock. */
  async start(): Promise<void> {
    await this.http.start();
    if (this.realtime && !this.timer) {
      this.lastRealMs = performance.now();
      this.timer = setInterval(() => this.advanceRealtime(), this.tickMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.http.stop();
  }

  get baseUrl(): string {
    return `http://${this.http.address}`;
  }

  /** All ready pods' series in one exposition (one Prometheus target or the scrape collector). */
  metricsUrl(): string {
    return `${this.baseUrl}/metrics`;
  }

  /** One URL per ready pod. */
  podUrls(): string[] {
    return this.readyPods().map((p) => `${this.baseUrl}${podPath(p)}`);
  }

  gatewayUrl(): string {
    return `${this.baseUrl}/gateway/metrics`;
  }

  /** Prometheus `http_sd_configs` URL: one target per ready pod (`__metrics_path__` per pod). */
  targetsUrl(): string {
    return `${this.baseUrl}/targets`;
  }

  /** Sim time in ms since start. */
  get nowMs(): number {
    return this.now;
  }

  /**
   * Scale a deployment. New pods are pending for startupDelayMs (serve no metrics), then ready.
   * Scale-down removes not-ready pods first, then the newest; their running and waiting
   * requests are requeued with their original arrival time (never lost).
   */
  setReplicas(namespace: string, deployment: string, n: number): void {
    const model = this.deployments.get(`${namespace}/${deployment}`);
    if (!model)
      throw new Error(
        `setReplicas: unknown deployment ${namespace}/${deployment}; known: ${[...this.deployments.keys()].join(', ')}`,
      );
    model.setReplicas(deployment, count(n, `setReplicas(${namespace}/${deployment}) replicas`), this.now);
  }

  /**
   * Makes one Deployment's replicas exactly the named pods (those Kubernetes reports Running and
   * Ready), creating its model (arrival rate 0) and variant on first use. New names are ready at
   * once; pods no longer named go away with their requests requeued.
   */
  adoptPods(namespace: string, modelID: string, variant: FleetVariantSpec, podNames: readonly string[]): void {
    const depKey = `${namespace}/${variant.deployment}`;
    const key = `${namespace}/${modelID}`;
    let model = this.models.get(key);
    const owner = this.deployments.get(depKey);
    if (owner && owner !== model)
      throw new Error(`adoptPods: deployment ${depKey} already serves model ${owner.modelID}, not ${modelID}`);
    if (!model) {
      model = new SimModel(
        namespace,
        modelID,
        0,
        DEFAULT_REQUEST_TOKENS,
        this.seed,
        this.registry,
        this.stats.waits,
        this.kvNoise,
        this.flowControl,
        this.onRequestEvent,
      );
      this.models.set(key, model);
    }
    if (!owner) {
      model.addVariant(resolveVariant(variant, `adoptPods(${depKey})`, model.requestTokens), this.seed, 0, this.now);
      this.deployments.set(depKey, model);
    }
    model.adoptPods(variant.deployment, podNames, this.now);
  }

  /** The model a Deployment serves, if the fleet knows it. */
  modelOf(namespace: string, deployment: string): string | undefined {
    return this.deployments.get(`${namespace}/${deployment}`)?.modelID;
  }

  setArrivalRate(namespace: string, modelID: string, rps: number): void {
    this.model(namespace, modelID, 'setArrivalRate').arrivalRate = nonNegative(
      rps,
      `setArrivalRate(${namespace}/${modelID}) rps`,
      'requests per second ≥ 0',
    );
  }

  /**
   * Replays requests: each arrives at the gateway at its `atMs` on the sim clock (one already past
   * arrives at the next tick) and is dispatched then. Calls may add more later; order is by atMs.
   */
  enqueueRequests(namespace: string, modelID: string, requests: readonly TokenRequest[]): void {
    const where = `enqueueRequests(${namespace}/${modelID})`;
    const list: unknown = requests;
    if (!Array.isArray(list)) throw new Error(`${where}: requests must be an array`);
    for (const [i, r] of requests.entries()) {
      nonNegative(r?.atMs, `${where}[${i}].atMs`, 'a time in sim ms ≥ 0');
      positive(r.promptTokens, `${where}[${i}].promptTokens`, 'a number of tokens ≥ 1', 1);
      positive(r.outputTokens, `${where}[${i}].outputTokens`, 'a number of tokens ≥ 1', 1);
    }
    this.model(namespace, modelID, 'enqueueRequests').enqueueRequests(requests);
  }

  /**
   * Injects n requests (default 1) of the model's mean lengths into its gateway queue; released to ready replicas at
   * the next tick.
   */
  enqueueAtGateway(namespace: string, modelID: string, n = 1): void {
    this.model(namespace, modelID, 'enqueueAtGateway').enqueueAtGateway(
      count(n, `enqueueAtGateway(${namespace}/${modelID}) n`),
      this.now,
    );
  }

  /** Advances the simulation by ms (whole ticks, then one partial tick for any remainder). */
  step(ms: number): void {
    let left = nonNegative(ms, 'step(ms)', 'a number of ms ≥ 0');
    while (left > 0) {
      const dt = Math.min(this.tickMs, left);
      this.now += dt;
      for (const m of this.models.values()) m.tick(this.now, dt);
      left -= dt;
    }
  }

  deploymentStatus(namespace: string, deployment: string): { current: number; ready: number } | undefined {
    const model = this.deployments.get(`${namespace}/${deployment}`);
    const v = model?.variants.get(deployment);
    if (!v) return undefined;
    return { current: v.pods.length, ready: v.pods.filter((p) => p.ready).length };
  }

  snapshot(): FleetSnapshot {
    const models: FleetModelSnapshot[] = [];
    const totals = { arrivals: 0, completed: 0, gatewayQueue: 0, running: 0, waiting: 0, pods: 0, readyPods: 0 };
    for (const m of this.models.values()) {
      const pods = m.allPods().map((p) => ({
        pod: p.name,
        deployment: p.variant.deployment,
        ready: p.ready,
        running: p.running.length,
        waiting: p.waiting,
        kvUsage: p.kvUsage,
        completed: p.successStop,
        inferenceSeconds: p.inferenceTime.sum,
        accelerator: p.variant.accelerator,
        kvBlocksUsed: p.usedBlocks,
        numGpuBlocks: p.variant.numGpuBlocks,
        blockSize: p.variant.blockSize,
        waitingPromptTokens: p.waitingPromptTokens(),
        runningTokens: p.runningTokens(),
        preemptions: p.preemptions,
        promptTokensTotal: p.promptTokens,
        generationTokensTotal: p.generationTokens,
        latency: { ttft: histogramOf(p.ttft), itl: histogramOf(p.itl), queueTime: histogramOf(p.queueTime) },
      }));
      const running = pods.reduce((s, p) => s + p.running, 0);
      const waiting = pods.reduce((s, p) => s + p.waiting, 0);
      models.push({
        namespace: m.namespace,
        modelID: m.modelID,
        arrivalRate: m.arrivalRate,
        arrivals: m.arrivals,
        arrivalsTotal: m.arrivalsTotal,
        started: m.started,
        completed: m.completed,
        requeued: m.requeued,
        gatewayQueue: m.gateway.size,
        running,
        waiting,
        waitP95Ms: m.waits.quantile(0.95),
        waitMaxMs: m.waits.max,
        maxGatewayQueue: m.maxGatewayQueue,
        maxQueue: m.maxQueue,
        inflightTokens: m.inflightTokens(),
        runningRequests: running + waiting,
        gatewayQueuedTokens: m.gateway.tokens(),
        pods,
      });
      totals.arrivals += m.arrivals;
      totals.completed += m.completed;
      totals.gatewayQueue += m.gateway.size;
      totals.running += running;
      totals.waiting += waiting;
      totals.pods += pods.length;
      totals.readyPods += pods.filter((p) => p.ready).length;
    }
    return { nowMs: this.now, models, totals };
  }

  /** Clears counters and wait statistics (e.g. after a bench warm-up); queues and pods stay. */
  resetStats(): void {
    for (const m of this.models.values()) m.resetStats();
    this.stats.waits.reset();
  }

  private model(namespace: string, modelID: string, op: string): SimModel {
    const m = this.models.get(`${namespace}/${modelID}`);
    if (!m)
      throw new Error(`${op}: unknown model ${namespace}/${modelID}; known: ${[...this.models.keys()].join(', ')}`);
    return m;
  }

  private readyPods(): SimPod[] {
    const out: SimPod[] = [];
    for (const m of this.models.values()) out.push(...m.readyPods());
    return out;
  }

  private advanceRealtime(): void {
    const nowReal = performance.now();
    const elapsed = Math.min(MAX_CATCH_UP_REAL_MS, nowReal - this.lastRealMs);
    this.lastRealMs = nowReal;
    const simMs = elapsed * this.timeScale + this.carryMs;
    const whole = Math.floor(simMs / this.tickMs) * this.tickMs;
    this.carryMs = simMs - whole;
    if (whole > 0) this.step(whole);
  }
}

function podPath(p: SimPod): string {
  return `/pods/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.name)}/metrics`;
}

function resolveFlowControl(spec: FlowControlSpec | undefined): FlowControl | undefined {
  if (spec === undefined) return undefined;
  if (!spec || typeof spec !== 'object')
    throw new Error('fleet options: flowControl must be an object ({ queueDepthThreshold?, kvCacheUtilThreshold? })');
  const queueDepthThreshold = spec.queueDepthThreshold ?? FLOW_CONTROL_DEFAULTS.queueDepthThreshold;
  if (!Number.isInteger(queueDepthThreshold) || queueDepthThreshold < 1) {
    throw new Error(
      `fleet options: flowControl.queueDepthThreshold ${String(queueDepthThreshold)} must be an integer ≥ 1`,
    );
  }
  const kvCacheUtilThreshold = spec.kvCacheUtilThreshold ?? FLOW_CONTROL_DEFAULTS.kvCacheUtilThreshold;
  if (!(typeof kvCacheUtilThreshold === 'number' && kvCacheUtilThreshold > 0 && kvCacheUtilThreshold <= 1)) {
    throw new Error(
      `fleet options: flowControl.kvCacheUtilThreshold ${String(kvCacheUtilThreshold)} must be in (0, 1]`,
    );
  }
  return { queueDepthThreshold, kvCacheUtilThreshold };
}

function count(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${what} ${String(value)} must be an integer ≥ 0`);
  return value;
}

/** A copy of a histogram's state (the pod keeps observing into its own). */
function histogramOf(h: PromHistogram): FleetHistogram {
  return { bounds: h.bounds, counts: Array.from(h.counts), sum: h.sum, count: h.count };
}
