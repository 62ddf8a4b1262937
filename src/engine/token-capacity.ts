/**
 * Demand and capacity in KV tokens (pure), where every reporting replica exposes
 * `vllm:cache_config_info` (num_gpu_blocks x block_size = the KV tokens it holds), as WVA v0.9's
 * V2 analyzer counts them: tokens in use (KV use x capacity) plus the tokens of queued requests when
 * their size is known (waiting requests x mean prompt tokens per request, on the replicas and at the
 * gateway). Replicas of different accelerators hold different numbers of tokens, which KV fractions
 * alone cannot add up. Where any reporting replica lacks the info gauge the model is sized as before.
 */
import type { ReplicaMetrics } from '../domain/metrics.js';

export interface TokenLoad {
  /** Tokens in use plus queued tokens. */
  readonly demandTokens: number;
  /** The queued part (0 when no prompt size is known). */
  readonly queuedTokens: number;
  /** Mean KV tokens one replica holds, by variant key (variants with a reporting replica). */
  readonly capacityByVariant: ReadonlyMap<string, number>;
  /** Mean KV tokens over every reporting replica. */
  readonly meanCapacity: number;
}

/** The model's token load, or undefined when a reporting replica misses its capacity or KV use. */
export function tokenLoad(
  replicas: readonly ReplicaMetrics[],
  gatewayQueue: number | undefined,
): TokenLoad | undefined {
  if (replicas.length === 0) return undefined;
  let inUse = 0;
  let queued = 0;
  let capacity = 0;
  let promptSum = 0;
  let promptN = 0;
  const byVariant = new Map<string, { sum: number; n: number }>();
  for (const r of replicas) {
    const cap = r.kvCapacityTokens;
    if (cap === undefined || !(cap > 0) || r.kvCacheUsage === undefined) return undefined;
    inUse += r.kvCacheUsage * cap;
    capacity += cap;
    const prompt = r.promptTokensPerRequest;
    if (prompt !== undefined) {
      queued += (r.queueLength ?? 0) * prompt;
      promptSum += prompt;
      promptN++;
    }
    if (r.variantKey !== undefined) {
      const acc = byVariant.get(r.variantKey) ?? { sum: 0, n: 0 };
      byVariant.set(r.variantKey, { sum: acc.sum + cap, n: acc.n + 1 });
    }
  }
  if (promptN > 0) queued += (gatewayQueue ?? 0) * (promptSum / promptN);
  const capacityByVariant = new Map([...byVariant].map(([k, { sum, n }]) => [k, sum / n]));
  return {
    demandTokens: inUse + queued,
    queuedTokens: queued,
    capacityByVariant,
    meanCapacity: capacity / replicas.length,
  };
}

/**
 * Replicas the token demand needs with each at most `kvTarget` (a fraction) full: the current ones
 * (`current` by variant key) at their variant's capacity first, then new ones at `newCapacity`.
 * A variant with no reporting replica counts at the model's mean capacity.
 */
export function replicasForTokens(
  load: TokenLoad,
  current: ReadonlyMap<string, number>,
  kvTarget: number,
  newCapacity: number,
): number {
  if (load.demandTokens <= 0) return 0;
  if (kvTarget <= 0) return Infinity;
  const required = load.demandTokens / kvTarget;
  let supply = 0;
  let count = 0;
  for (const [key, n] of current) {
    supply += n * (load.capacityByVariant.get(key) ?? load.meanCapacity);
    count += n;
  }
  if (required <= supply + 1e-9) return Math.ceil(required / (supply / Math.max(count, 1)) - 1e-9);
  return count + Math.ceil((required - supply) / newCapacity - 1e-9);
}
