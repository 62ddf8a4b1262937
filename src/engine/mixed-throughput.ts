/**
 * Throughput sizing for a model whose variants serve at different rates (an L4 and an H100
 * variant of one model), pure. The interchangeable-replica estimate (sizing.ts: one rate for every
 * replica) sizes such a mix by the wrong GPU: by the fastest saturated replica it sees no shortfall
 * while the slow replicas hold a growing backlog; by the slowest learned rate it asks for dozens.
 *
 * With every variant's learned rate known (throughput-learning.ts: req/s at the KV target), the
 * replicas' capacity is the sum of what each serves; a shortfall is counted in replicas of the
 * variant that grows next (cheapest below its max), and a surplus in replicas the scale-down would
 * remove (most expensive first). The rates go to placement as the stage's capacities, so a spill
 * to a faster variant is converted by what it serves, not one for one. Undefined (the
 * interchangeable estimate applies) with one variant, with a variant that has replicas but no
 * learned rate, or when every variant serves at the same rate.
 */
import { cheapestFirst, inOrder, mostExpensiveFirst, type ModelContext } from './model-context.js';
import { fmt } from './saturation-analyzer.js';
import { servedWithin, type ThroughputSizing } from './sizing.js';

interface MixedCapacity {
  /** Learned req/s per replica, by variant key (every variant with replicas, and the next one). */
  readonly rates: ReadonlyMap<string, number>;
  /** What the ready replicas serve (req/s). */
  readonly ready: number;
  /** What the pending replicas will serve once ready (req/s). */
  readonly pending: number;
  /** Requests the pending replicas serve within a horizon, each from when it is ready. */
  readonly pendingWithin: (horizonS: number) => number;
  /** What one replica of the variant that grows next serves. */
  readonly nextRate: number;
  /** e.g. "l4 1.00/s x3, h100 19.00/s x1 (learned per variant)". */
  readonly text: string;
}

function mixedCapacity(
  ctx: ModelContext,
  pendingReadyInS: ReadonlyMap<string, readonly number[]> | undefined,
): MixedCapacity | undefined {
  if (!ctx.features.tokenCapacity || ctx.states.length < 2) return undefined;
  const learned = ctx.state.throughput;
  const rates = new Map<string, number>();
  let ready = 0;
  let pending = 0;
  const served: ((horizonS: number) => number)[] = [];
  const parts: string[] = [];
  for (const s of ctx.states) {
    const r = learned.get(s.variant.key);
    if (r === undefined || !(r > 0)) {
      if (s.current > 0) return undefined;
      continue;
    }
    rates.set(s.variant.key, r);
    const readyN = Math.min(s.ready, s.current);
    ready += readyN * r;
    const pendingN = Math.max(0, s.current - readyN);
    pending += pendingN * r;
    const readyIn = pendingReadyInS?.get(s.variant.key);
    if (pendingN > 0) served.push(servedWithin(r, readyIn?.length === pendingN ? readyIn : undefined, pendingN));
    if (s.current > 0) parts.push(`${s.variant.name} ${fmt(r)}/s x${s.current}`);
  }
  const next = inOrder(ctx, cheapestFirst).find((s) => s.current < s.variant.maxReplicas);
  const nextRate = next ? rates.get(next.variant.key) : undefined;
  if (!next || nextRate === undefined) return undefined;
  const distinct = new Set(rates.values());
  if (distinct.size < 2) return undefined;
  return {
    rates,
    ready,
    pending,
    pendingWithin: (horizonS) => served.reduce((sum, f) => sum + f(horizonS), 0),
    nextRate,
    text: `${parts.join(', ')} (learned per variant)`,
  };
}

/**
 * Replicas a demand (req/s) needs from the mix: current plus the shortfall in replicas of the next
 * variant, or current less the replicas step 4 would remove (most expensive above its min first, in
 * that order and no other: it never skips a replica to take a cheaper one) before the rest serve
 * less than the demand. Counting a cheaper replica past an expensive one that must stay would let
 * step 4 take the expensive one instead.
 */
function mixedReplicasNeeded(ctx: ModelContext, m: MixedCapacity, demand: number): number {
  const current = ctx.analysis.currentTotal;
  const capacity = m.ready + m.pending;
  if (demand > capacity) return current + Math.ceil((demand - capacity) / m.nextRate - 1e-9);
  let spare = capacity - demand;
  let removable = 0;
  for (const s of inOrder(ctx, mostExpensiveFirst)) {
    const r = m.rates.get(s.variant.key);
    const above = Math.max(0, s.current - s.variant.minReplicas);
    if (r === undefined || above === 0) continue;
    for (let i = 0; i < above; i++) {
      if (r > spare + 1e-9) return Math.max(1, current - removable);
      spare -= r;
      removable++;
    }
  }
  return Math.max(1, current - removable);
}

/**
 * The mix as throughput sizing (sizing.ts), with the rates placement converts spills by;
 * `pendingReadyInS`: seconds until each pending replica serves, by variant (lookahead.ts).
 */
export function mixedSizing(
  ctx: ModelContext,
  pendingReadyInS?: ReadonlyMap<string, readonly number[]>,
): (ThroughputSizing & { readonly rates: ReadonlyMap<string, number> }) | undefined {
  const m = mixedCapacity(ctx, pendingReadyInS);
  if (!m) return undefined;
  return {
    // Each variant's learned rate (mixedCapacity sizes a mix only from learned rates).
    capacity: { ready: m.ready, pendingWithin: m.pendingWithin, learned: true },
    replicasFor: (demand) => mixedReplicasNeeded(ctx, m, demand),
    text: m.text,
    rates: m.rates,
  };
}
