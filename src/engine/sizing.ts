/**
 * How many replicas a load needs (step 3, and the bound step 4 keeps): by saturation (load over
 * the per-replica target) and by throughput (arrivals over what one replica serves flat out), and
 * DESIGN's per-cycle cap. Pure arithmetic on the analysis.
 */
import type { PreviousLoad } from './model-context.js';
import { fmt, type ModelAnalysis } from './saturation-analyzer.js';

/** A backlog should be served within this time by the replicas asked for (s). */
export const BACKLOG_DRAIN_S = 60;

/** Replicas needed so that `total` load spread over them is at most `perReplica` each. */
export function replicasNeeded(total: number, perReplica: number): number {
  if (total <= 0) return 0;
  if (perReplica <= 0) return Infinity;
  return Math.ceil(total / perReplica - 1e-9);
}

/** Step 3's cap: the most replicas a model may have after one cycle (DESIGN: maxScaleUpRate x current). */
export function scaleUpCap(current: number, maxScaleUpRate: number): number {
  return current === 0 ? 1 : Math.max(current, Math.floor(current * maxScaleUpRate));
}

/** The model's waiting requests: replica queues plus what the gateway holds (no replica reports those). */
export function waitingLoad(a: ModelAnalysis): number {
  return a.totalQueue + (a.gatewayQueue ?? 0);
}

/**
 * Step 3 from throughput, when the model reports it: arrivals = completions (the mean of this and
 * the previous decision's) + queue growth since the previous decision; one replica serves what the
 * fastest saturated replica completes, scaled down to the KV target (a saturated replica runs above
 * it); the gateway's backlog is served within BACKLOG_DRAIN_S on top of the arrivals. Undefined
 * when a rate is missing or no replica is saturated (nothing runs flat out, so no capacity is known).
 */
export function throughputNeed(
  a: ModelAnalysis,
  queueLoad: number,
  previous: PreviousLoad | undefined,
): { needed: number; why: string } | undefined {
  const mu = a.saturatedReplicaRate;
  const completions = a.completionRate;
  if (mu === undefined || completions === undefined) return undefined;
  const t = a.thresholds;
  const kvPer = t.kvCacheThreshold - t.kvSpareTrigger;
  const kvAtMu = a.saturatedKv ?? t.kvCacheThreshold;
  const perReplica = mu * Math.min(1, kvPer / Math.max(kvAtMu, 1e-9));
  const growth = previous ? (queueLoad - previous.waiting) / previous.dtS : 0;
  // The queue grew over the gap at (arrivals - completions over the gap): the mean of both ends'
  // completion rates, not today's alone (which jumps as soon as new replicas take work).
  const served = previous?.completions !== undefined ? (previous.completions + completions) / 2 : completions;
  const arrivals = Math.max(0, served + growth);
  // Only a backlog that new replicas can take is worth replicas: what the gateway holds. Requests
  // queued on a replica stay there (vLLM does not hand them back), so replicas added for them
  // would only serve new arrivals, which `arrivals` already sizes.
  const drain = (a.gatewayQueue ?? 0) / BACKLOG_DRAIN_S;
  const needed = Math.max(1, Math.ceil((arrivals + drain) / perReplica - 1e-9));
  const queue = previous ? `${fmt(Math.abs(growth))}/s` : 'growth unknown';
  return {
    needed,
    why: `arrivals ${fmt(arrivals)}/s (completions ${fmt(served)}/s ${growth >= 0 ? '+' : '-'} queue ${queue}) + gateway backlog ${fmt(a.gatewayQueue ?? 0)} over ${BACKLOG_DRAIN_S}s at ${fmt(perReplica)}/s per replica`,
  };
}

/** "inf" for a need no number of replicas meets. */
export function countText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'inf';
}
