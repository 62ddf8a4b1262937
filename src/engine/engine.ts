/**
 * Engine: the I/O shell around the pure decision functions. Every `engineIntervalMs` and on demand
 * it decides every model (or the requested ones), stores decisions in the DecisionCache, publishes
 * DecisionTrigger events when a variant's desired count changes (so StreamIsActive sees every
 * transition to active at once), and keeps the wva_* gauges current.
 *
 * Runs never overlap: a run requested while one is under way joins a single follow-up run (the union
 * of what was asked), and every caller's promise resolves when the run that covered it ends.
 */
import type { Decision } from '../domain/decision.js';
import { DEFAULT_ENGINE_FEATURES } from '../domain/engine-features.js';
import { DEFAULT_LIMITER_CONFIG, type GpuInventory, type GpuInventorySource } from '../domain/gpu.js';
import { resolveModelSlo, resolvePriority } from '../config/saturation-config.js';
import { FRESH_MS, type ModelMetrics } from '../domain/metrics.js';
import { modelKey, type Variant } from '../domain/variant.js';
import type { DecisionCache } from '../cache/decision-cache.js';
import { decisionEventOf, type DecisionTrigger } from '../cache/decision-trigger.js';
import type { GlobalConfig, GlobalConfigSnapshot } from '../cache/global-config.js';
import type { RegistryChange, VariantRegistry } from '../cache/variant-registry.js';
import type { MetricsCollector, TrackedModel } from '../collector/collector.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { DecisionOutcome, DecisionSource } from './decision-source.js';
import type { ReplicaStatusSource } from './replica-status.js';
import type { VariantState } from './saturation-analyzer.js';
import {
  decideModel,
  isSteady,
  modelScaleToZero,
  placementModelOf,
  withPlacement,
  type DecisionConfig,
  type ModelOutcome,
} from './model-decision.js';
import { traceNote } from './notes.js';
import { placeModels, type RebalanceMemory } from './placement.js';
import { EMPTY_MODEL_STATE, type ModelState } from './model-state.js';
import type { ServiceModelState } from './slo/service-model.js';

export type CycleTrigger = 'interval' | 'on-demand' | 'demand' | 'manual';

export interface EngineDeps {
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly trigger: DecisionTrigger;
  readonly config: GlobalConfig;
  readonly collector: MetricsCollector;
  /** Deployment status in a cluster; without it current = ready = pods reporting metrics. */
  readonly replicaStatus?: ReplicaStatusSource | undefined;
  readonly metrics: ScalerMetrics;
  readonly logger: Logger;
  /** Epoch ms; injectable for tests and the simulator. */
  readonly clock?: (() => number) | undefined;
  /** How the engine fetches on demand (default: `collector.fetch`). */
  readonly fetchModels?: ((models: readonly TrackedModel[]) => Promise<void>) | undefined;
  /**
   * Fetch every model's metrics at the start of every cycle (for setups without the collector's
   * background fetcher, e.g. the demo). Default false: a cycle reads the collector's cache only,
   * and fetches only models asked for on demand that have no metrics yet.
   */
  readonly fetchEachCycle?: boolean | undefined;
  /**
   * The cluster's GPUs (Kubernetes only): with it every cycle ends with placement (placement.ts),
   * so no decision asks for replicas that cannot be placed. Without it decisions are as before.
   */
  readonly gpuInventory?: GpuInventorySource | undefined;
  /**
   * Where SLO mode's learned service models persist (the shared store, when Redis is there): read
   * once per variant when a model in SLO mode has none learned (start, new leader), written
   * (throttled by the store) when they move. Absent: learned in memory only.
   */
  readonly serviceModels?: ServiceModelPersistence | undefined;
}

/** The shared store of SLO mode's service models, as the engine uses it (cache/learned-state-store.ts). */
export interface ServiceModelPersistence {
  /** Stored models by variant key; undefined when the store cannot be reached now. Never throws. */
  load(variantKeys: readonly string[]): Promise<ReadonlyMap<string, ServiceModelState> | undefined>;
  /** Stores a model (throttled, fire and forget). Never throws. */
  save(variantKey: string, state: ServiceModelState, now: number): void;
}

/** How long a blocked variant must show room before a replica moves back to it: at least 30 s and two cycles. */
export function returnHoldMs(engineIntervalMs: number): number {
  return Math.max(30_000, 2 * engineIntervalMs);
}

interface Computed {
  readonly mk: string;
  readonly variants: readonly Variant[];
  readonly states: readonly VariantState[];
  readonly previous: ReadonlyMap<string, Decision>;
  outcome: ModelOutcome;
}

export interface CycleReport {
  readonly trigger: CycleTrigger;
  readonly now: number;
  readonly models: number;
  readonly decisions: number;
  /** Variants whose desired count changed (events published). */
  readonly changed: number;
  /** Models with no decision, and why. */
  readonly unavailable: ReadonlyMap<string, string>;
  readonly durationMs: number;
}

interface RunRequest {
  all: boolean;
  models: Set<string>;
  fetchMissing: Set<string>;
  now: number | undefined;
  trigger: CycleTrigger;
}

interface QueuedRun extends RunRequest {
  readonly promise: Promise<CycleReport>;
  resolve(r: CycleReport): void;
  reject(e: unknown): void;
}

type GaugeChild = { set(v: number): void };
interface VariantGauges {
  readonly labels: Record<string, string>;
  readonly desired: GaugeChild;
  readonly current: GaugeChild;
  readonly ratio: GaugeChild;
  /** Last values set: prom-client hashes labels on every set, so unchanged values are skipped. */
  lastDesired: number;
  lastCurrent: number;
}

export class Engine implements DecisionSource {
  private readonly clock: () => number;
  private readonly fetchModels: (models: readonly TrackedModel[]) => Promise<void>;
  private running: Promise<CycleReport> | undefined;
  private queued: QueuedRun | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** Listeners added by start(), removed by stop(). The registry listener lives as long as the engine. */
  private readonly unsubscribe: (() => void)[] = [];
  /** Why a model has no decision (for requestDecision answers). */
  private readonly unavailable = new Map<string, string>();
  /** Last "matches no series" reason per model, to log once per change. */
  private readonly noSeries = new Map<string, string>();
  /** Last invalid-thresholds reason per model, to log once per change. */
  private readonly badThresholds = new Map<string, string>();
  private readonly gauges = new Map<string, VariantGauges>();
  /** Without a ReplicaStatusSource: the most pods seen reporting per variant, and when (statesOf). */
  private readonly reportingSeen = new Map<string, { count: number; at: number }>();
  /** Placement's memory: when each variant last wanted GPUs and had none, and each model's last move back. */
  private readonly lastBlockedAt = new Map<string, number>();
  private readonly lastRebalance = new Map<string, RebalanceMemory>();
  /** Last GPU shortfall per model, to log once per change. */
  private readonly shortfalls = new Map<string, number>();
  /** What each model's decisions learned so far (model-state.ts), passed into the next one. */
  private readonly modelStates = new Map<string, ModelState>();
  /** Variants whose stored service model was asked for (loadServiceModels). */
  private readonly serviceAsked = new Set<string>();
  /** registry.byModel(), rebuilt only after a registry change. */
  private models: Map<string, Variant[]> | undefined;
  readonly stats = { cycles: 0, coalesced: 0, maxConcurrent: 0, active: 0 };

  constructor(private readonly deps: EngineDeps) {
    this.clock = deps.clock ?? Date.now;
    this.fetchModels = deps.fetchModels ?? ((models) => deps.collector.fetch(models));
    deps.registry.onChange((c) => this.onRegistryChange(c));
  }

  /** Starts the interval loop (the first run happens at once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe.push(
      // A new saturation config or interval applies at once: run now, then on the new interval.
      this.deps.config.onChange(() => {
        if (this.started && this.timer) this.schedule(0);
      }),
    );
    this.schedule(0);
  }

  /** Stops the loop and waits for a run under way. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
    await this.idle();
  }

  /** Resolves when no run is under way or queued. */
  async idle(): Promise<void> {
    while (this.running || this.queued) {
      await (this.queued?.promise ?? this.running)?.catch(() => undefined);
    }
  }

  /** One cycle over every model (coalesced with a run under way). `now` overrides the clock. */
  runOnce(now?: number, trigger: CycleTrigger = 'manual'): Promise<CycleReport> {
    return this.request({ all: true, models: new Set(), fetchMissing: new Set(), now, trigger });
  }

  /** Runs one model soon (coalesced); used by the demand probe and requestDecision. */
  runModel(key: string, trigger: CycleTrigger = 'on-demand', fetchIfMissing = false): Promise<CycleReport> {
    return this.request({
      all: false,
      models: new Set([key]),
      fetchMissing: new Set(fetchIfMissing ? [key] : []),
      now: undefined,
      trigger,
    });
  }

  async requestDecision(variantKey: string, signal: AbortSignal): Promise<DecisionOutcome> {
    const v = this.deps.registry.get(variantKey);
    if (!v || v.deleting) return { ok: false, reason: `variant ${variantKey} not registered` };
    const mk = modelKey(v.namespace, v.modelID);
    try {
      await abortable(this.runModel(mk, 'on-demand', true), signal);
    } catch (err) {
      if (signal.aborted)
        return { ok: false, reason: `no decision for ${variantKey} before the deadline (${describe(signal.reason)})` };
      return { ok: false, reason: `engine run for model ${v.modelID} in ns ${v.namespace} failed: ${describe(err)}` };
    }
    const d = this.deps.decisions.get(variantKey);
    if (d) return { ok: true, decision: d };
    return { ok: false, reason: this.unavailable.get(mk) ?? `no decision for ${variantKey} yet` };
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce(undefined, 'interval')
        .catch((err: unknown) => this.deps.logger.error({ err }, 'engine cycle failed'))
        .finally(() => {
          if (this.started && !this.timer) this.schedule(this.deps.config.get().engineIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private request(req: RunRequest): Promise<CycleReport> {
    if (!this.running) return this.launch(req);
    this.stats.coalesced++;
    if (!this.queued) {
      let resolve!: (r: CycleReport) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<CycleReport>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.queued = {
        ...req,
        models: new Set(req.models),
        fetchMissing: new Set(req.fetchMissing),
        promise,
        resolve,
        reject,
      };
      return promise;
    }
    const q = this.queued;
    q.all ||= req.all;
    for (const m of req.models) q.models.add(m);
    for (const m of req.fetchMissing) q.fetchMissing.add(m);
    if (req.now !== undefined) q.now = req.now;
    if (q.trigger === 'manual' || req.trigger === 'interval') q.trigger = req.trigger;
    return q.promise;
  }

  private launch(req: RunRequest): Promise<CycleReport> {
    const p = this.cycle(req);
    this.running = p;
    const after = (): void => {
      this.running = undefined;
      const q = this.queued;
      this.queued = undefined;
      if (q)
        this.launch(q).then(
          (v) => q.resolve(v),
          (e: unknown) => q.reject(e),
        );
    };
    p.then(after, after);
    return p;
  }

  private async cycle(req: RunRequest): Promise<CycleReport> {
    this.stats.active++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.stats.active);
    const t0 = performance.now();
    try {
      await this.fetchFor(req);
      const snapshot = this.deps.config.get();
      const config = decisionConfigOf(snapshot);
      const now = req.now ?? this.clock();
      const byModel = this.modelsNow();
      const keys = req.all ? [...byModel.keys()] : [...req.models].filter((k) => byModel.has(k));
      await this.loadServiceModels(keys, byModel, config);
      let decisions = 0;
      let changed = 0;
      const unavailable = new Map<string, string>();
      const computed: Computed[] = [];
      for (const mk of keys) {
        const variants = byModel.get(mk);
        if (!variants || variants.length === 0) continue;
        computed.push(this.compute(mk, variants, config, now));
      }
      const inventory = this.deps.gpuInventory?.snapshot(now);
      if (inventory) this.place(computed, inventory, config, now, snapshot.engineIntervalMs);
      for (const c of computed) {
        const r = this.store(c.mk, c.variants, c.outcome);
        decisions += r.decisions;
        changed += r.changed;
        if (r.unavailable !== undefined) unavailable.set(c.mk, r.unavailable);
      }
      const durationMs = performance.now() - t0;
      this.stats.cycles++;
      this.deps.metrics.engineCycleSeconds.observe(durationMs / 1000);
      this.deps.metrics.engineCycles.inc({ trigger: req.trigger });
      return { trigger: req.trigger, now, models: keys.length, decisions, changed, unavailable, durationMs };
    } finally {
      this.stats.active--;
    }
  }

  private async fetchFor(req: RunRequest): Promise<void> {
    if (!this.deps.fetchEachCycle && req.fetchMissing.size === 0) return;
    const byModel = this.modelsNow();
    let keys: string[];
    if (this.deps.fetchEachCycle) keys = req.all ? [...byModel.keys()] : [...req.models];
    else
      keys = [...req.fetchMissing].filter((mk) => {
        const v = byModel.get(mk)?.[0];
        return v !== undefined && this.deps.collector.getModelMetrics(v.namespace, v.modelID) === undefined;
      });
    const tracked: TrackedModel[] = [];
    const config = this.deps.config.get();
    for (const mk of keys) {
      const variants = byModel.get(mk);
      if (variants && variants.length > 0) tracked.push(trackedModelOf(variants, config));
    }
    if (tracked.length === 0) return;
    try {
      await this.fetchModels(tracked);
    } catch (err) {
      // The collector should not throw; if it does, decide from what the cache holds.
      this.deps.logger.warn({ err: describe(err), models: tracked.length }, 'metrics fetch for engine run failed');
    }
  }

  /** One model's outcome as if GPUs were endless (steps 1-7). */
  private compute(mk: string, variants: readonly Variant[], config: DecisionConfig, now: number): Computed {
    const first = variants[0] as Variant;
    const { namespace, modelID } = first;
    const metrics = this.deps.collector.getModelMetrics(namespace, modelID);
    const states = this.statesOf(variants, metrics, now);
    const previous = new Map<string, Decision>();
    for (const v of variants) {
      const d = this.deps.decisions.get(v.key);
      if (d) previous.set(v.key, d);
    }
    const outcome = decideModel({
      namespace,
      modelID,
      variants: states,
      metrics,
      config,
      previous,
      now,
      replicaDetail: false,
      state: this.modelStates.get(mk),
    });
    return { mk, variants, states, previous, outcome };
  }

  /**
   * Placement over every model of this run at once (priorities need them together), against one
   * inventory snapshot. No GPU visible, or `enableLimiter: false`: decisions as computed, said in a step.
   */
  private place(
    computed: readonly Computed[],
    inventory: GpuInventory,
    config: DecisionConfig,
    now: number,
    engineIntervalMs: number,
  ): void {
    const limits = config.saturation.limiter ?? DEFAULT_LIMITER_CONFIG;
    const off =
      inventory.types.size === 0 && inventory.namespaceQuotas.size === 0
        ? 'no GPU node visible in the cluster: placement off, decisions as without Kubernetes'
        : !limits.enabled
          ? 'enableLimiter: false in the saturation config: placement off, GPUs not counted'
          : undefined;
    if (off !== undefined) {
      const note = traceNote(3, 'placement-off', off);
      for (const c of computed) {
        const desired = new Map(c.outcome.decisions.map((d) => [d.variantKey, d.desiredReplicas]));
        c.outcome = withPlacement(c.outcome, { desired, notes: [note], shortfall: 0 });
      }
      return;
    }
    const models = computed
      .filter((c) => c.outcome.decisions.length > 0)
      .map((c) => {
        const { namespace, modelID } = c.variants[0] as Variant;
        return placementModelOf(
          c.mk,
          namespace,
          resolvePriority(config.saturation, namespace, modelID),
          c.states,
          c.outcome,
          isSteady(c.outcome, c.previous),
        );
      });
    const result = placeModels({
      models,
      inventory,
      limits,
      now,
      lastBlockedAt: this.lastBlockedAt,
      lastRebalance: this.lastRebalance,
      returnHoldMs: returnHoldMs(engineIntervalMs),
    });
    for (const key of result.blocked) this.lastBlockedAt.set(key, now);
    for (const c of computed) {
      const p = result.models.get(c.mk);
      if (!p) continue;
      c.outcome = withPlacement(c.outcome, p);
      if (p.rebalance) this.lastRebalance.set(c.mk, p.rebalance);
      const { namespace, modelID } = c.variants[0] as Variant;
      this.noteShortfall(c.mk, namespace, modelID, p.shortfall, p.notes);
    }
  }

  private noteShortfall(
    mk: string,
    namespace: string,
    modelID: string,
    shortfall: number,
    notes: readonly { code: string; text: string }[],
  ): void {
    const last = this.shortfalls.get(mk);
    if (last === shortfall) return;
    this.shortfalls.set(mk, shortfall);
    this.deps.metrics.gpuShortfall.set({ namespace, model_id: modelID }, shortfall);
    const why = notes.find((n) => n.code === 'gpu-shortfall')?.text;
    if (shortfall > 0) this.deps.logger.warn({ model: modelID, namespace, shortfall, reason: why }, 'GPU shortfall');
    else if (last !== undefined) this.deps.logger.info({ model: modelID, namespace }, 'GPU shortfall over');
  }

  /**
   * Models in SLO mode with variants that have no learned service model and were not asked for
   * yet: their stored models (another replica's, or this one's before a restart), merged into the
   * model state. A variant is asked once per process, again only when the store was unreachable.
   */
  private async loadServiceModels(
    keys: readonly string[],
    byModel: ReadonlyMap<string, readonly Variant[]>,
    config: DecisionConfig,
  ): Promise<void> {
    const store = this.deps.serviceModels;
    if (!store) return;
    const wanted: { mk: string; key: string }[] = [];
    for (const mk of keys) {
      const variants = byModel.get(mk) ?? [];
      const first = variants[0];
      if (!first) continue;
      if (!resolveModelSlo(config.saturation, variants)) continue;
      const have = this.modelStates.get(mk)?.service;
      for (const v of variants) if (!this.serviceAsked.has(v.key) && !have?.has(v.key)) wanted.push({ mk, key: v.key });
    }
    if (wanted.length === 0) return;
    const loaded = await store.load(wanted.map((w) => w.key));
    if (!loaded) return; // unreachable: ask again next cycle
    for (const { mk, key } of wanted) {
      this.serviceAsked.add(key);
      const m = loaded.get(key);
      if (!m) continue;
      const prev = this.modelStates.get(mk) ?? EMPTY_MODEL_STATE;
      // Learned meanwhile here: ours is newer than the store's.
      if (prev.service.has(key)) continue;
      this.modelStates.set(mk, { ...prev, service: new Map(prev.service).set(key, m) });
    }
  }

  private store(
    mk: string,
    variants: readonly Variant[],
    outcome: ModelOutcome,
  ): { decisions: number; changed: number; unavailable: string | undefined } {
    const { namespace, modelID } = variants[0] as Variant;
    const before = this.modelStates.get(mk)?.service;
    this.modelStates.set(mk, outcome.state);
    if (this.deps.serviceModels && outcome.state.service !== before)
      for (const [key, m] of outcome.state.service)
        if (before?.get(key) !== m) this.deps.serviceModels.save(key, m, this.clock());
    this.noteNoSeries(mk, namespace, modelID, outcome.analysis.noSeriesReason);
    this.noteThresholdProblem(mk, namespace, modelID, outcome.analysis.thresholdProblem);

    const why = outcome.targets.unavailableReason;
    if (why !== undefined) {
      if (this.unavailable.get(mk) !== why)
        this.deps.logger.info({ model: modelID, namespace, reason: why }, 'model has no decision yet');
      this.unavailable.set(mk, why);
      return { decisions: 0, changed: 0, unavailable: why };
    }
    this.unavailable.delete(mk);

    let changed = 0;
    for (const d of outcome.decisions) {
      const { current, previous: before } = this.deps.decisions.set(d);
      this.updateGauges(current);
      if (before && before.desiredReplicas === current.desiredReplicas) continue;
      changed++;
      this.deps.trigger.publish(decisionEventOf(current));
      const from = before?.desiredReplicas ?? current.currentReplicas;
      if (from !== current.desiredReplicas) {
        const v = variants.find((x) => x.key === current.variantKey);
        if (v) {
          this.deps.metrics.replicaScaling.inc({
            ...this.labelsOf(v),
            direction: current.desiredReplicas > from ? 'up' : 'down',
            reason: outcome.targets.action,
          });
        }
      }
      if (this.deps.logger.isLevelEnabled('info'))
        this.deps.logger.info(
          {
            variant: current.variantKey,
            from,
            to: current.desiredReplicas,
            current: current.currentReplicas,
            reasons: current.reasons,
            clamp: current.clamp,
          },
          'decision changed',
        );
    }
    return { decisions: outcome.decisions.length, changed, unavailable: undefined };
  }

  /**
   * Current/ready per variant: ReplicaStatusSource, else the pods reporting metrics, under any
   * model_name (all ready).
   *
   * Without a ReplicaStatusSource, fewer pods reporting than before is not proof of fewer replicas:
   * after a Prometheus restart (or a scrape gap) the first fetches hold only the pods scraped so
   * far. For up to FRESH_MS after the higher count was last seen, pods that vanished without this
   * engine asking for fewer count as current but not ready (pending), so nothing scales down on
   * their absence (DESIGN step 5: missing data never scales down); pods that really went away
   * stop counting once the window passes.
   */
  private statesOf(variants: readonly Variant[], metrics: ModelMetrics | undefined, now: number): VariantState[] {
    let reporting: Map<string, number> | undefined;
    const states: VariantState[] = [];
    for (const v of variants) {
      const status = this.deps.replicaStatus?.get(v);
      if (status) {
        states.push({ variant: v, current: status.current, ready: status.ready });
        continue;
      }
      if (!reporting) {
        reporting = new Map();
        for (const r of metrics?.replicas ?? []) {
          if (r.variantKey !== undefined) reporting.set(r.variantKey, (reporting.get(r.variantKey) ?? 0) + 1);
        }
        // Pods of the variant serving under another model_name run too: counted, the analysis says
        // the modelID matches no series instead of waiting for them to start.
        for (const p of metrics?.misnamedPods ?? [])
          reporting.set(p.variantKey, (reporting.get(p.variantKey) ?? 0) + 1);
      }
      const n = reporting.get(v.key) ?? 0;
      const seen = this.reportingSeen.get(v.key);
      let current = n;
      if (seen !== undefined && n < seen.count && now - seen.at < FRESH_MS) {
        const asked = this.deps.decisions.get(v.key)?.desiredReplicas ?? seen.count;
        current = Math.max(n, Math.min(seen.count, asked));
      } else {
        this.reportingSeen.set(v.key, { count: n, at: now });
      }
      if (seen !== undefined && n >= seen.count) this.reportingSeen.set(v.key, { count: n, at: now });
      states.push({ variant: v, current, ready: n });
    }
    return states;
  }

  private noteNoSeries(mk: string, namespace: string, modelID: string, reason: string | undefined): void {
    const last = this.noSeries.get(mk);
    if (reason === last) return;
    if (reason !== undefined) {
      this.noSeries.set(mk, reason);
      this.deps.metrics.modelMetricsMissing.set({ namespace, model_id: modelID }, 1);
      this.deps.logger.warn({ model: modelID, namespace, reason }, 'modelID matches no series');
    } else {
      this.noSeries.delete(mk);
      this.deps.metrics.modelMetricsMissing.set({ namespace, model_id: modelID }, 0);
      this.deps.logger.info({ model: modelID, namespace }, 'modelID matches series again');
    }
  }

  /** Thresholds that would scale up forever make the model hold: an error, once per change. */
  private noteThresholdProblem(mk: string, namespace: string, modelID: string, problem: string | undefined): void {
    if (problem === this.badThresholds.get(mk)) return;
    if (problem !== undefined) {
      this.badThresholds.set(mk, problem);
      this.deps.logger.error(
        { model: modelID, namespace, reason: problem },
        'saturation thresholds unusable; holding the model until they are fixed',
      );
    } else {
      this.badThresholds.delete(mk);
      this.deps.logger.info({ model: modelID, namespace }, 'saturation thresholds usable again');
    }
  }

  private labelsOf(v: Variant): Record<string, string> {
    return { variant_name: v.name, namespace: v.namespace, accelerator_type: v.accelerator ?? '', model_id: v.modelID };
  }

  private updateGauges(d: Decision): void {
    let g = this.gauges.get(d.variantKey);
    if (!g) {
      const v = this.deps.registry.get(d.variantKey);
      if (!v) return;
      const labels = this.labelsOf(v);
      const m = this.deps.metrics;
      g = {
        labels,
        desired: m.desiredReplicas.labels(labels),
        current: m.currentReplicas.labels(labels),
        ratio: m.desiredRatio.labels(labels),
        lastDesired: NaN,
        lastCurrent: NaN,
      };
      this.gauges.set(d.variantKey, g);
    }
    if (g.lastDesired === d.desiredReplicas && g.lastCurrent === d.currentReplicas) return;
    if (g.lastDesired !== d.desiredReplicas) g.desired.set(d.desiredReplicas);
    if (g.lastCurrent !== d.currentReplicas) g.current.set(d.currentReplicas);
    g.ratio.set(d.currentReplicas > 0 ? d.desiredReplicas / d.currentReplicas : d.desiredReplicas);
    g.lastDesired = d.desiredReplicas;
    g.lastCurrent = d.currentReplicas;
  }

  private dropGauges(key: string): void {
    const g = this.gauges.get(key);
    if (!g) return;
    this.gauges.delete(key);
    const m = this.deps.metrics;
    m.desiredReplicas.remove(g.labels);
    m.currentReplicas.remove(g.labels);
    m.desiredRatio.remove(g.labels);
  }

  private modelsNow(): Map<string, Variant[]> {
    this.models ??= this.deps.registry.byModel();
    return this.models;
  }

  private onRegistryChange(change: RegistryChange): void {
    this.models = undefined;
    if (change.type === 'removed') {
      this.deps.decisions.delete(change.variant.key);
      this.reportingSeen.delete(change.variant.key);
      this.dropGauges(change.variant.key);
      const mk = modelKey(change.variant.namespace, change.variant.modelID);
      this.lastBlockedAt.delete(change.variant.key);
      this.serviceAsked.delete(change.variant.key);
      if (this.deps.registry.variantsOfModel(change.variant.namespace, change.variant.modelID).length === 0) {
        this.unavailable.delete(mk);
        this.lastRebalance.delete(mk);
        if (this.shortfalls.delete(mk))
          this.deps.metrics.gpuShortfall.remove({
            namespace: change.variant.namespace,
            model_id: change.variant.modelID,
          });
        this.badThresholds.delete(mk);
        this.modelStates.delete(mk);
        if (this.noSeries.delete(mk))
          this.deps.metrics.modelMetricsMissing.remove({
            namespace: change.variant.namespace,
            model_id: change.variant.modelID,
          });
      }
    } else if (change.type === 'updated') {
      // Labels (accelerator) may have changed; a variant being deleted keeps no decision.
      this.dropGauges(change.variant.key);
      if (change.variant.deleting) this.deps.decisions.delete(change.variant.key);
    }
  }
}

/** The collector's view of a model: its deployments (pod -> variant mapping) and retention. */
/** What a decision reads of the process-wide config (one derivation for the engine and the fetcher). */
export function decisionConfigOf(g: GlobalConfigSnapshot): DecisionConfig {
  return {
    saturation: g.saturation,
    scaleToZero: g.scaleToZero,
    maxScaleUpRate: g.maxScaleUpRate,
    features: g.features,
  };
}

export function trackedModelOf(variants: readonly Variant[], config: DecisionConfig): TrackedModel {
  const first = variants[0] as Variant;
  const stz = modelScaleToZero({
    namespace: first.namespace,
    modelID: first.modelID,
    variants: variants.map((v) => ({ variant: v, current: 0, ready: 0 })),
    config,
  });
  return {
    namespace: first.namespace,
    modelID: first.modelID,
    deployments: variants.map((v) => ({ variantKey: v.key, deployment: v.deployment })),
    retentionMs: stz.retentionMs,
    // SLO mode learns from them, and so does step 4's service-model bound (token capacity).
    latency:
      resolveModelSlo(config.saturation, variants) !== undefined ||
      (config.features ?? DEFAULT_ENGINE_FEATURES).tokenCapacity,
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = (): unknown => signal.reason;
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
