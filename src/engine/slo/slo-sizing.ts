/**
 * SLO sizing (pure): how many replicas of each variant keep the predicted p95 TTFT and ITL within
 * target at a demand (req/s), each variant with its own learned speed (latency-model.ts).
 *
 * Contract:
 *  - A variant's capacity is `maxRateWithin` its learned model: the req/s one replica takes within
 *    both targets. Variants are filled in order of cost per unit of that capacity (cost / capacity,
 *    ties by key), not cost per replica: an H100 replica and an L4 replica are not worth the same.
 *    Each takes ceil(remaining demand / capacity) replicas, at most its max; the rest goes on.
 *  - Monotone: with the order fixed by the capacities, more demand never gives any variant fewer
 *    replicas; for one variant (or variants whose order a target does not change) a tighter target
 *    never gives fewer either (capacity only falls as a target tightens).
 *  - A variant without a usable model (not given, or unable to meet the targets even idle) gets
 *    nothing here; `unmet` says how much demand no variant could take (all at max, or none able).
 *  - min/max bounds beyond this and GPU placement are the engine's later stages.
 */
import { maxRateWithin, type LatencyTargets, type Workload } from './latency-model.js';
import type { ServiceModelState } from './service-model.js';

export interface SloVariant {
  readonly key: string;
  readonly cost: number;
  readonly maxReplicas: number;
  /** The learned model; undefined = not sized here. */
  readonly model: Pick<ServiceModelState, 'alpha' | 'beta' | 'gamma'> | undefined;
  readonly workload: Workload;
}

export interface VariantCapacity {
  readonly key: string;
  /** req/s one replica takes within the targets (0: it cannot meet them). */
  readonly perReplica: number;
  /** cost / perReplica (Infinity when it cannot). */
  readonly costPerRate: number;
}

export interface SloPlan {
  /** Replicas per variant key (every variant given, 0 where none). */
  readonly replicas: ReadonlyMap<string, number>;
  readonly capacities: readonly VariantCapacity[];
  /** req/s no variant could take. */
  readonly unmet: number;
}

/** Each variant's capacity at the targets, cheapest per unit of capacity first (ties by key). */
export function capacitiesOf(variants: readonly SloVariant[], targets: LatencyTargets): VariantCapacity[] {
  return variants
    .map((v) => {
      const perReplica = v.model ? maxRateWithin(v.model, v.workload, targets) : 0;
      return { key: v.key, perReplica, costPerRate: perReplica > 0 ? v.cost / perReplica : Infinity };
    })
    .sort((a, b) => a.costPerRate - b.costPerRate || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Replicas per variant for `demand` req/s at `targets`. */
export function sizeForSlo(variants: readonly SloVariant[], demand: number, targets: LatencyTargets): SloPlan {
  const capacities = capacitiesOf(variants, targets);
  const byKey = new Map(variants.map((v) => [v.key, v]));
  const replicas = new Map<string, number>(variants.map((v) => [v.key, 0]));
  let remaining = Math.max(0, demand);
  for (const c of capacities) {
    if (remaining <= 0) break;
    if (!(c.perReplica > 0)) continue;
    const max = byKey.get(c.key)?.maxReplicas ?? 0;
    const n = Math.min(max, Math.ceil(remaining / c.perReplica - 1e-9));
    if (n <= 0) continue;
    replicas.set(c.key, n);
    remaining -= n * c.perReplica;
  }
  return { replicas, capacities, unmet: Math.max(0, remaining) };
}
