/**
 * Whether what a variant's replicas measure contradicts its learned model (pure), and the learner
 * re-opened where it does. A confident model that predicts a replica meets the objective while that
 * replica measures it missed is wrong (a slower GPU behind the same variant, a driver update): it
 * must not size replicas, whatever its covariance says, and it must re-learn.
 *
 * Contract:
 *  - `contradictionOf(model, workload, replicas, target)`: the first replica (in the given order)
 *    that finished requests over the last minute and measured p95 TTFT above the TTFT target, or
 *    mean ITL above the ITL target, while the model predicts one replica at that replica's own
 *    completion rate meets that target; undefined when none does. A value not measured is no
 *    evidence (never read as 0).
 *  - The load is the replica's completion rate, not the model's arrivals: an overloaded replica
 *    completes what it can serve, and a right model predicts a replica flat out misses the
 *    objective (ρ → 1, or every batch slot taken), so overload alone is never a contradiction;
 *    a model that believes the replica idles at that rate is.
 *  - `checkServiceModels(service, inputs, replicas, now)`: each confident model checked against its
 *    variant's replicas; a contradicted one is re-opened (service-model.ts `reopenServiceModel`:
 *    not confident until fresh observations of both kinds make it so) and reported by variant key.
 *    Models that are not confident are not checked (they do not size, and re-opening them every
 *    cycle would keep them from settling). Unchanged input maps are returned as they are.
 */
import type { ReplicaMetrics } from '../../domain/metrics.js';
import type { SloTarget } from '../../domain/slo.js';
import { predictLatency, type Workload } from './latency-model.js';
import { reopenServiceModel, type ServiceModelState } from './service-model.js';
import type { SloInputs } from './slo-inputs.js';

export interface Contradiction {
  readonly pod: string;
  readonly kind: 'ttft' | 'itl';
  /** What the replica measured: p95 TTFT or mean ITL, ms. */
  readonly measuredMs: number;
  /** What the model predicts for one replica at `rate`, ms. */
  readonly predictedMs: number;
  /** The replica's completions per second over the last minute. */
  readonly rate: number;
}

export function contradictionOf(
  model: Pick<ServiceModelState, 'alpha' | 'beta' | 'gamma'>,
  workload: Workload,
  replicas: readonly ReplicaMetrics[],
  target: SloTarget,
): Contradiction | undefined {
  for (const r of replicas) {
    const rate = r.requestRate;
    if (rate === undefined || !(rate > 0)) continue;
    const ttft = r.ttftP95Ms;
    const itl = r.itlMeanMs;
    const ttftOver = ttft !== undefined && ttft > target.ttftMs;
    const itlOver = itl !== undefined && itl > target.itlMs;
    if (!ttftOver && !itlOver) continue;
    const pred = predictLatency(model, workload, rate);
    if (ttftOver && pred.ttftP95Ms <= target.ttftMs)
      return { pod: r.pod, kind: 'ttft', measuredMs: ttft, predictedMs: pred.ttftP95Ms, rate };
    if (itlOver && pred.itlMs <= target.itlMs)
      return { pod: r.pod, kind: 'itl', measuredMs: itl, predictedMs: pred.itlMs, rate };
  }
  return undefined;
}

export interface CheckedModels {
  readonly service: ReadonlyMap<string, ServiceModelState>;
  /** By variant key: the measurement that contradicted its model this cycle. */
  readonly contradictions: ReadonlyMap<string, Contradiction>;
}

export function checkServiceModels(
  service: ReadonlyMap<string, ServiceModelState>,
  inputs: SloInputs,
  replicas: readonly ReplicaMetrics[],
  now: number,
): CheckedModels {
  const contradictions = new Map<string, Contradiction>();
  let out: Map<string, ServiceModelState> | undefined;
  for (const [key, model] of service) {
    const workload = inputs.workloads?.get(key);
    if (!model.confident || !workload) continue;
    const c = contradictionOf(
      model,
      workload,
      replicas.filter((r) => r.variantKey === key),
      inputs.target,
    );
    if (!c) continue;
    contradictions.set(key, c);
    (out ??= new Map(service)).set(key, reopenServiceModel(model, now));
  }
  return { service: out ?? service, contradictions };
}
