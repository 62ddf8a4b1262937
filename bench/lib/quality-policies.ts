/**
 * The three scaling policies the quality bench compares (and its reference rows: the oracles, and
 * any policy with a cron trigger beside it). Each turns what it observes into the
 * metric value KEDA hands the HPA, and the AverageValue target the HPA divides it by:
 *  1. this engine: `decideModel` (the real pure decision function); value = desired replicas, target 1.
 *  2. WVA's original rule: the same saturation analysis, but +1 when it says scale up, -1 when
 *     removing one replica is safe, one step per cycle, nothing while any replica is pending;
 *     value = desired replicas, target 1 (WVA publishes its desired count for the HPA the same way).
 *  3. KEDA's `prometheus` trigger on `sum(vllm:num_requests_waiting)`, threshold 5: value = the sum,
 *     target 5.
 */
import type { Decision } from '../../src/domain/decision.js';
import type { ModelMetrics } from '../../src/domain/metrics.js';
import type { SaturationThresholds } from '../../src/domain/saturation.js';
import { resolveThresholds } from '../../src/config/saturation-config.js';
import { scaleUpCap } from '../../src/engine/capacity-targets.js';
import { decideModel, type DecisionConfig, type ModelOutcome } from '../../src/engine/model-decision.js';
import type { ModelState } from '../../src/engine/model-state.js';
import { modelReasons } from '../../src/engine/notes.js';
import { analyzeModel, type ModelAnalysis, type VariantState } from '../../src/engine/saturation-analyzer.js';
import type { HpaBehaviour } from './quality-hpa.js';
import type { CronWindow } from './quality-trace.js';
import type { TokenView } from './token-observer.js';

/** What a policy is given every cycle. */
export interface PolicyObservation {
  readonly now: number;
  readonly namespace: string;
  readonly modelID: string;
  /** Replica counts per variant as the Deployments report them. */
  readonly variants: readonly VariantState[];
  /** Per-pod metrics as the collector gives them (peak over 1 m). */
  readonly metrics: ModelMetrics;
  /** `sum(vllm:num_requests_waiting)` at the latest scrape. */
  readonly sumWaiting: number;
  /** The trace's arrival rate now: only the oracle references may look at it. */
  readonly offeredRps: number;
  /** The trace's highest arrival rate over [now, now + ms]: only the forecast oracle may look at it. */
  readonly peakOfferedRps: (ms: number) => number;
  /** On the token-level fleet: what token-aware policies read (KV capacity, tokens, the gateway's gauges). */
  readonly tokens?: TokenView;
}

/** The external metric per variant (by variant key) and its AverageValue target. */
export interface PolicyOutput {
  readonly values: ReadonlyMap<string, number>;
  readonly target: number;
  /** Short note for the trace log. */
  readonly note: string;
  /**
   * The ScaledObject's other triggers, each with its own values and AverageValue target: KEDA hands
   * the HPA one metric per trigger and the HPA follows the highest replica count any of them asks for.
   */
  readonly otherTriggers?: readonly { readonly values: ReadonlyMap<string, number>; readonly target: number }[];
}

/**
 * A latency objective as a vLLM operator states it (issue 22): p95 time to first token and mean inter-token latency,
 * in ms. The SLO mode and WVA's queueing model size for it; the bench judges p95 TTFT per minute against it.
 */
export interface SloObjective {
  readonly ttftMs: number;
  readonly itlMs: number;
}

/**
 * A policy's learned service model of one variant: iteration time (ms) = alpha + beta x tokens computed + gamma x KV
 * tokens read (the fleet's step model; notes/slo-contract.md). The bench measures its convergence to the fleet's truth.
 */
export interface LearnedServiceModel {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly confident: boolean;
}

export interface ScalingPolicy {
  readonly name: string;
  /** The HPA behaviour the policy's recipe ships with; undefined: the scenario's. */
  readonly behaviour?: HpaBehaviour;
  decide(obs: PolicyObservation): PolicyOutput;
  /** Policies that learn a service model per variant expose it here (by variant key), read after each decision. */
  learnedServiceModels?(): ReadonlyMap<string, LearnedServiceModel>;
}

/** Policy 1: this engine's decision function, keeping its previous decisions like the cache does. */
export class EnginePolicy implements ScalingPolicy {
  readonly name = 'this engine';
  private previous = new Map<string, Decision>();
  /** What the engine learned of the model (model-state.ts), passed back in as the Engine does. */
  private state: ModelState | undefined;

  /**
   * `onOutcome` sees every decision as made (the decision trace records them). `place`, when given, is the Engine
   * shell's placement stage run after `decideModel` (its result is what the engine stores and serves); without it the
   * decisions are as the Engine makes them when no GPU is visible.
   */
  constructor(
    private readonly config: DecisionConfig,
    private readonly onOutcome?: (now: number, outcome: ModelOutcome) => void,
    private readonly place?: (
      obs: PolicyObservation,
      outcome: ModelOutcome,
      previous: ReadonlyMap<string, Decision>,
    ) => ModelOutcome,
  ) {}

  /** What the engine learned of the model so far (undefined before its first decision). */
  get modelState(): ModelState | undefined {
    return this.state;
  }

  decide(obs: PolicyObservation): PolicyOutput {
    const decided = decideModel({
      namespace: obs.namespace,
      modelID: obs.modelID,
      variants: obs.variants,
      metrics: obs.metrics,
      config: this.config,
      previous: this.previous,
      now: obs.now,
      replicaDetail: false,
      state: this.state,
    });
    const outcome = this.place ? this.place(obs, decided, this.previous) : decided;
    this.state = outcome.state;
    this.onOutcome?.(obs.now, outcome);
    const values = new Map<string, number>();
    if (outcome.decisions.length > 0) this.previous = new Map(outcome.decisions.map((d) => [d.variantKey, d]));
    // No decision (never happens with fresh metrics): KEDA would hold, modelled as "current".
    for (const s of obs.variants)
      values.set(s.variant.key, this.previous.get(s.variant.key)?.desiredReplicas ?? s.current);
    return { values, target: 1, note: `${outcome.targets.action}: ${outcome.targets.reasons.at(-1) ?? ''}` };
  }
}

export type WvaStep = 'up' | 'down' | 'hold';

/**
 * WVA's original saturation rule on an analysis: hold while any replica is pending or data is
 * missing/incomplete; +1 when the analysis says scale up; -1 when it is safe (at least 2
 * non-saturated replicas and, with one fewer, the average spare still meets both triggers).
 */
export function wvaRule(a: ModelAnalysis): { step: WvaStep; why: string } {
  if (a.pendingTotal > 0) return { step: 'hold', why: `${a.pendingTotal} pending` };
  if (a.dataQuality === 'none' || a.freshness !== 'fresh')
    return { step: 'hold', why: a.missingReason ?? 'no fresh metrics' };
  if (a.scaleUpNeeded) return { step: 'up', why: modelReasons(a.notes).join('; ') };
  if (a.dataQuality !== 'complete') return { step: 'hold', why: a.missingReason ?? 'metrics incomplete' };
  if (a.nonSaturatedCount < 2) return { step: 'hold', why: `only ${a.nonSaturatedCount} non-saturated` };
  const t = a.thresholds;
  const n = a.nonSaturatedCount - 1;
  const kvSpare = t.kvCacheThreshold - a.nonSaturatedKv / n;
  const queueSpare = t.queueLengthThreshold - a.nonSaturatedQueue / n;
  if (kvSpare < t.kvSpareTrigger || queueSpare < t.queueSpareTrigger)
    return { step: 'hold', why: 'scale-down not safe' };
  return { step: 'down', why: 'scale-down safe' };
}

/** Applies a WVA step to variants: +1 to the cheapest below max, -1 from the most expensive above min. */
export function applyWvaStep(step: WvaStep, variants: readonly VariantState[]): Map<string, number> {
  const out = new Map(variants.map((s) => [s.variant.key, s.current]));
  const byCost = [...variants].sort(
    (a, b) => a.variant.cost - b.variant.cost || (a.variant.key < b.variant.key ? -1 : 1),
  );
  if (step === 'up') {
    const v = byCost.find((s) => s.current < s.variant.maxReplicas);
    if (v) out.set(v.variant.key, v.current + 1);
  } else if (step === 'down') {
    const total = variants.reduce((n, s) => n + s.current, 0);
    const v = byCost.reverse().find((s) => s.current > s.variant.minReplicas);
    // The model keeps at least one replica (no scale to zero in this comparison).
    if (v && total > 1) out.set(v.variant.key, v.current - 1);
  }
  return out;
}

/** Policy 2: WVA's original +1/-1 rule. */
export class WvaRulePolicy implements ScalingPolicy {
  readonly name = "WVA's +1/-1 rule";

  constructor(private readonly thresholds: (namespace: string, modelID: string) => SaturationThresholds) {}

  decide(obs: PolicyObservation): PolicyOutput {
    const t = this.thresholds(obs.namespace, obs.modelID);
    const analysis = analyzeModel({
      namespace: obs.namespace,
      modelID: obs.modelID,
      variants: obs.variants,
      metrics: obs.metrics,
      thresholdsByVariant: new Map(obs.variants.map((s) => [s.variant.key, t])),
      modelThresholds: t,
      now: obs.now,
      replicaDetail: false,
    });
    const { step, why } = wvaRule(analysis);
    return { values: applyWvaStep(step, obs.variants), target: 1, note: `${step}: ${why}` };
  }
}

/** Policy 3: KEDA `prometheus` trigger, query sum(vllm:num_requests_waiting), threshold 5 (single variant). */
export class KedaWaitingPolicy implements ScalingPolicy {
  readonly name = 'KEDA prometheus (waiting, 5)';

  constructor(readonly threshold = 5) {}

  decide(obs: PolicyObservation): PolicyOutput {
    const values = new Map(obs.variants.map((s) => [s.variant.key, obs.sumWaiting]));
    return { values, target: this.threshold, note: `sum waiting ${obs.sumWaiting}` };
  }
}

/** WVA's thresholds for a model: the same resolution the engine uses (config defaults here). */
export function thresholdsFrom(config: DecisionConfig): (namespace: string, modelID: string) => SaturationThresholds {
  return (namespace, modelID) => resolveThresholds(config.saturation, namespace, modelID);
}

/**
 * Reference, not a baseline: a policy with perfect information. It knows the offered rate the
 * moment it changes, the gateway's backlog, what a replica serves and the pod start-up, and asks
 * for the arrivals plus the backlog as it will be when pods asked for now are ready (growing by
 * what ready replicas fall short, less what pending ones take, on average half-way through their
 * start-up), drained within `drainS`; at most DESIGN's cap (maxScaleUpRate x current, pending
 * included), through the same HPA. With `lookaheadS` 0 it cannot see the future: its over-budget
 * minutes show what reacting with perfect information gives (one heuristic, not a proven bound).
 * With `lookaheadS` > 0 it also sizes for the highest rate over the next `lookaheadS` seconds (a
 * perfect forecast): what prediction could give at best.
 */
export class OraclePolicy implements ScalingPolicy {
  readonly name: string;

  constructor(
    /** What one replica serves; a function of time where the fleet's speed changes mid-run (it knows that too). */
    private readonly rpsPerReplica: number | ((now: number) => number),
    private readonly startupS: number,
    private readonly drainS: number,
    private readonly maxScaleUpRate: number,
    private readonly lookaheadS = 0,
  ) {
    this.name = lookaheadS > 0 ? `forecast oracle, ${lookaheadS} s ahead (reference)` : 'reactive oracle (reference)';
  }

  decide(obs: PolicyObservation): PolicyOutput {
    const current = obs.variants.reduce((n, s) => n + s.current, 0);
    const ready = obs.variants.reduce((n, s) => n + Math.min(s.ready, s.current), 0);
    const pending = current - ready;
    const gateway = obs.metrics.gatewayQueue ?? 0;
    // The backlog grows at today's rate until new pods serve; the forecast only sizes what comes.
    const perReplica = typeof this.rpsPerReplica === 'number' ? this.rpsPerReplica : this.rpsPerReplica(obs.now);
    const shortfall = Math.max(0, obs.offeredRps - ready * perReplica - (pending * perReplica) / 2);
    const backlog = gateway + (gateway > 0 ? shortfall * this.startupS : 0);
    const rate =
      this.lookaheadS > 0 ? Math.max(obs.offeredRps, obs.peakOfferedRps(this.lookaheadS * 1000)) : obs.offeredRps;
    const need = Math.max(1, Math.ceil((rate + backlog / this.drainS) / perReplica - 1e-9));
    const n = Math.min(need, scaleUpCap(current, this.maxScaleUpRate));
    return {
      values: new Map(obs.variants.map((s) => [s.variant.key, n])),
      target: 1,
      note: `rate ${rate} backlog ${backlog.toFixed(0)} -> ${n}`,
    };
  }
}

/**
 * Reference, not a baseline: a policy plus KEDA's `cron` trigger in the same ScaledObject, the way
 * an operator covers peaks known from history. KEDA's cron scaler reports `desiredReplicas` inside
 * a window and 1 outside it, with AverageValue target 1; the HPA takes the higher of the two
 * triggers' counts, so the policy still scales above the schedule and alone outside it.
 */
export class WithCronTrigger implements ScalingPolicy {
  readonly name: string;

  constructor(
    private readonly inner: ScalingPolicy,
    private readonly windows: readonly CronWindow[],
  ) {
    for (const w of windows) {
      if (!(w.toMs > w.fromMs) || !Number.isInteger(w.desiredReplicas) || w.desiredReplicas < 1) {
        throw new Error(`cron window ${JSON.stringify(w)}: expected toMs > fromMs and an integer desiredReplicas >= 1`);
      }
    }
    this.name = `${inner.name} + cron`;
  }

  decide(obs: PolicyObservation): PolicyOutput {
    const out = this.inner.decide(obs);
    const w = this.windows.find((x) => obs.now >= x.fromMs && obs.now < x.toMs);
    const cron = w?.desiredReplicas ?? 1;
    return {
      ...out,
      otherTriggers: [
        ...(out.otherTriggers ?? []),
        { values: new Map(obs.variants.map((s) => [s.variant.key, cron])), target: 1 },
      ],
      note: w ? `cron ${cron}; ${out.note}` : out.note,
    };
  }
}
