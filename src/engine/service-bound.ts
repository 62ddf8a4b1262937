/**
 * Step 4's bound by the learned service model (pure): a scale-down keeps enough replicas that each
 * runs at most COMPUTE_TARGET of what one replica of its variant serves flat out at today's token
 * mix, by the variant's learned service model (slo/service-model.ts, learned for every model with
 * token capacity on, not only in SLO mode; slo/latency-model.ts `flatOutRate`).
 *
 * Why beside the learned per-replica rate (throughput-learning.ts): that rate is what a replica
 * completed flat out when it was learned, at that time's mix of prompt and output tokens, and it
 * stands until replicas run flat out again. A mix that grows heavier after it was learned leaves it
 * too high, and step 4 keeps too few replicas: the next minutes' queues undo the scale-down. The
 * service model carries the mix: its per-token costs times this minute's prompt and output tokens.
 *
 * Contract:
 *  - `serviceBoundInputsOf(variantKeys, replicas, workloads?)`: each variant's workload (slo-inputs.ts
 *    `workloadsOf`, or SLO mode's, already computed from the same replicas) and the highest
 *    completion rate any of its replicas reported this cycle.
 *  - `serviceCapacity(ctx)`: undefined (no bound) when the inputs are absent (token capacity off),
 *    the model's arrivals are not measured, its token mix is unknown this cycle, a variant with
 *    replicas has no confident model, or one of its replicas completes more per second than its
 *    model says one replica serves flat out: measurement contradicts the model, which must not hold
 *    replicas on a wrong belief. Else each variant's rate at COMPUTE_TARGET, the demand (arrivals
 *    as step 3 measures them) and a text for the reasons.
 *  - `servedBy(desired, capacity)`: what those replicas serve at those rates (req/s).
 *  - A bound can only keep replicas, never remove or add any: it never moves a decision against the
 *    load, and a model it does not know leaves step 4 as it was.
 */
import type { ReplicaMetrics } from '../domain/metrics.js';
import type { ModelContext } from './model-context.js';
import { fmt } from './saturation-analyzer.js';
import { measuredArrivals, waitingLoad } from './sizing.js';
import { flatOutRate, type Workload } from './slo/latency-model.js';
import { workloadsOf } from './slo/slo-inputs.js';

/**
 * The share of a replica's flat-out rate a scale-down may leave it: WVA V2 sizes its required
 * capacity as demand / 0.85 (llm-d WVA docs/developer-guide/saturation-scaling-config.md); the same
 * share of compute here. Past it vLLM's batch, and its latency with it, climb steeply (ρ → 1).
 */
export const COMPUTE_TARGET = 0.85;

export interface ServiceBoundInputs {
  /** By variant key; undefined when the model's token counts are not known this cycle. */
  readonly workloads: ReadonlyMap<string, Workload> | undefined;
  /** The highest completion rate (req/s) any replica of the variant reported this cycle, by variant key. */
  readonly servedRates: ReadonlyMap<string, number>;
}

export function serviceBoundInputsOf(
  variantKeys: readonly string[],
  replicas: readonly ReplicaMetrics[],
  workloads: ReadonlyMap<string, Workload> | undefined = workloadsOf(variantKeys, replicas),
): ServiceBoundInputs {
  const servedRates = new Map<string, number>();
  for (const r of replicas) {
    const rate = r.requestRate;
    if (r.variantKey === undefined || rate === undefined || !(rate >= 0)) continue;
    servedRates.set(r.variantKey, Math.max(servedRates.get(r.variantKey) ?? 0, rate));
  }
  return { workloads, servedRates };
}

export interface ServiceCapacity {
  /** req/s one replica of each variant takes at COMPUTE_TARGET, by variant key (variants with replicas). */
  readonly rates: ReadonlyMap<string, number>;
  /** The model's arrivals (req/s). */
  readonly demand: number;
  /**
   * "arrivals 41.70/s at 0.85 of what the learned service model says a replica serves flat out at 1260
   * prompt / 240 output tokens (ns/h100 13.80/s per replica)".
   */
  readonly text: string;
}

export function serviceCapacity(ctx: ModelContext): ServiceCapacity | undefined {
  const inputs = ctx.serviceBound;
  const workloads = inputs?.workloads;
  if (!inputs || !workloads) return undefined;
  const a = ctx.analysis;
  const m = measuredArrivals(a, waitingLoad(a), ctx.previousLoad);
  if (!m) return undefined;
  const rates = new Map<string, number>();
  const parts: string[] = [];
  for (const s of ctx.states) {
    if (s.current === 0) continue;
    const key = s.variant.key;
    const model = ctx.state.service.get(key);
    const w = workloads.get(key);
    if (!model?.confident || !w) return undefined;
    const flat = flatOutRate(model, w);
    if ((inputs.servedRates.get(key) ?? 0) > flat) return undefined;
    const rate = COMPUTE_TARGET * flat;
    rates.set(key, rate);
    parts.push(`${key} ${fmt(rate)}/s per replica`);
  }
  // Every variant's workload carries the model's token mix (workloadsOf): any one says it.
  const w = workloads.values().next().value;
  if (rates.size === 0 || !w) return undefined;
  const mix = `${Math.round(w.promptTokens)} prompt / ${Math.round(w.outputTokens)} output tokens`;
  const text = `arrivals ${fmt(m.arrivals)}/s at ${COMPUTE_TARGET} of what the learned service model says a replica serves flat out at ${mix} (${parts.join(', ')})`;
  return { rates, demand: m.arrivals, text };
}

export function servedBy(desired: ReadonlyMap<string, number>, capacity: ServiceCapacity): number {
  let served = 0;
  for (const [key, n] of desired) served += n * (capacity.rates.get(key) ?? 0);
  return served;
}
