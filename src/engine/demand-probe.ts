/**
 * DemandProbe: scale from zero within a second. A sub-second loop (WVA_DEMAND_PROBE_INTERVAL,
 * default 250 ms) that, only while some model is at zero, reads demand from a fast source (the
 * gateway's /metrics) and on demand > 0 immediately wakes the model as the engine's step 7 does
 * (its cheapest variant that may run gets 1, within its min/max) in the DecisionCache, publishes
 * it on the DecisionTrigger (StreamIsActive pushes `true`), then asks the engine for a run of that
 * model. The engine holds a waking model at its previous decision
 * until its replicas start, so the probe's wake is not undone by a metrics cache that is behind.
 */
import { makeDecision, type Decision } from '../domain/decision.js';
import { gatewayQueueFromText, type GatewayModel } from '../collector/gateway-queue.js';
import { applyBounds, cheapestFirst } from './capacity-targets.js';
import { modelReasons, traceLines, variantReasons } from './notes.js';
import { wakeCheapest } from './zero-stages.js';
import type { Variant } from '../domain/variant.js';
import type { DecisionCache } from '../cache/decision-cache.js';
import type { DecisionTrigger } from '../cache/decision-trigger.js';
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { Logger } from '../observability/logger.js';

/**
 * A fast demand source: requests waiting per model key (`namespace/modelID`) of the given models;
 * undefined when unknown.
 */
export interface DemandReader {
  readDemand(models: readonly GatewayModel[]): Promise<Map<string, number | undefined>>;
}

export interface DemandProbeDeps {
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly trigger: DecisionTrigger;
  readonly reader: DemandReader;
  /** Asks the engine to decide this model soon (coalesced), e.g. `(k) => engine.runModel(k, 'demand')`. */
  readonly requestRun: (modelKey: string) => unknown;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly clock?: (() => number) | undefined;
}

export class DemandProbe {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly clock: () => number;
  readonly stats = { probes: 0, reads: 0, wakes: 0, errors: 0 };

  constructor(private readonly deps: DemandProbeDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // Never overlap: a slow gateway skips ticks instead of piling up reads.
      if (this.probing) return;
      void this.probeOnce();
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Model keys whose variants all have a decision of 0 (or none): the ones the probe watches. */
  modelsAtZero(): Map<string, Variant[]> {
    const out = new Map<string, Variant[]>();
    for (const [mk, variants] of this.deps.registry.byModel()) {
      let sum = 0;
      let decided = false;
      for (const v of variants) {
        const d = this.deps.decisions.get(v.key);
        if (d) {
          decided = true;
          sum += d.desiredReplicas;
        }
      }
      if (decided && sum === 0) out.set(mk, variants);
    }
    return out;
  }

  /** One probe; returns the model keys it woke. */
  async probeOnce(): Promise<string[]> {
    this.probing = true;
    this.stats.probes++;
    try {
      const atZero = this.modelsAtZero();
      if (atZero.size === 0) return [];
      let demand: Map<string, number | undefined>;
      try {
        this.stats.reads++;
        demand = await this.deps.reader.readDemand(modelsOf(atZero));
      } catch (err) {
        this.stats.errors++;
        this.deps.logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'demand probe read failed');
        return [];
      }
      const woke: string[] = [];
      const now = this.clock();
      for (const [mk, waiting] of demand) {
        if (waiting === undefined || !(waiting > 0)) continue;
        const variants = atZero.get(mk);
        if (!variants) continue;
        // Re-check: the engine may have decided this model while the read was in flight.
        if (variants.some((v) => (this.deps.decisions.get(v.key)?.desiredReplicas ?? 0) > 0)) continue;
        const decision = this.wakeDecision(variants, waiting, now);
        if (!decision) continue;
        this.deps.decisions.set(decision);
        this.deps.trigger.publish({
          variantKey: decision.variantKey,
          desiredReplicas: decision.desiredReplicas,
          active: true,
          decidedAt: now,
        });
        this.stats.wakes++;
        woke.push(mk);
        this.deps.logger.info({ variant: decision.variantKey, waiting }, 'demand probe: scale from zero');
        const run: unknown = this.deps.requestRun(mk);
        // A failed engine run must not become an unhandled rejection here; the engine logs its own.
        if (run instanceof Promise)
          run.catch((err: unknown) =>
            this.deps.logger.warn(
              { err: err instanceof Error ? err.message : String(err), model: mk },
              'engine run after wake failed',
            ),
          );
      }
      return woke;
    } finally {
      this.probing = false;
    }
  }

  /** Step 7's wake, as the engine takes it: the decision of the variant that wakes, if any may run. */
  private wakeDecision(variants: readonly Variant[], waiting: number, now: number): Decision | undefined {
    const states = variants.map((variant) => {
      const current = this.deps.decisions.get(variant.key)?.currentReplicas ?? 0;
      return { variant, current, ready: current };
    });
    const woken = applyBounds(
      states,
      wakeCheapest(
        states.sort(cheapestFirst),
        `scale from zero: ${waiting} request(s) queued at the gateway (demand probe)`,
      ),
    );
    const key = woken.notes.find((n) => n.code === 'wake-variant')?.variantKey;
    const v = variants.find((x) => x.key === key);
    if (!v) return undefined;
    return makeDecision(v, {
      desiredReplicas: woken.desired.get(v.key) ?? 1,
      currentReplicas: this.deps.decisions.get(v.key)?.currentReplicas ?? 0,
      reasons: [...modelReasons(woken.notes), ...variantReasons(woken.notes, v.key)],
      steps: traceLines(woken.notes),
      clamp: woken.clamps.get(v.key),
      metricsAgeMs: 0,
      freshness: 'fresh',
      decidedAt: now,
    });
  }
}

/** The (namespace, modelID) of each model, from its variants. */
function modelsOf(byModel: ReadonlyMap<string, readonly Variant[]>): GatewayModel[] {
  const out: GatewayModel[] = [];
  for (const [first] of byModel.values()) if (first) out.push({ namespace: first.namespace, modelID: first.modelID });
  return out;
}

/** Reads the gateway's /metrics for the demand of models at zero (the rule: collector/gateway-queue.ts). */
export interface GatewayDemandReaderOptions {
  /** The gateway's /metrics URL (WVA_GATEWAY_SCRAPE_TARGET). */
  readonly url: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export class GatewayDemandReader implements DemandReader {
  constructor(private readonly opts: GatewayDemandReaderOptions) {}

  async readDemand(models: readonly GatewayModel[]): Promise<Map<string, number | undefined>> {
    const f = this.opts.fetch ?? fetch;
    const res = await f(this.opts.url, {
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 1000),
      headers: { accept: 'text/plain' },
    });
    if (!res.ok) throw new Error(`gateway ${this.opts.url} answered HTTP ${res.status}`);
    return gatewayQueueFromText(await res.text(), this.opts.url, models);
  }
}
