/**
 * From what one replica's vLLM exports over a minute to the learner's observations (pure). Each is
 * linear in [α, β, γ] given the measured counts (service-model.ts):
 *
 *  - ITL: a decode step of a batch of n running requests computes one token each, plus the prompt
 *    chunks of new arrivals scheduled into the same step (chunked prefill: arrivals/s × prompt
 *    tokens × step seconds), and reads the batch's context (KV use × KV capacity when vLLM reports
 *    `cache_config_info`, else n × (prompt + half the output), the mean context of a request half way
 *    through). So  ITL ≈ α + β·(n + λ·P·ITL/1000) + γ·K.
 *  - Prefill: TTFT minus the time queued is the step that computed the prompt: P tokens of its own
 *    beside the batch's decodes and the prompts of the others that arrived during the step before,
 *    reading the batch's context and itself. A request more likely arrives during a long step than
 *    a short one (the inspection paradox), so that step is taken half way between a decode step
 *    (the ITL) and a prefill step (y):  τ = (ITL + y)/2, or y without an ITL. So
 *        (TTFT − queue) ≈ α + β·(P·(1 + λ·τ/1000) + n) + γ·(K + P).
 *
 * A replica gives no observation of a kind when a value it needs is missing (never read as 0), or
 * when it ran nothing (an idle replica says nothing of its speed). The latencies are means over a
 * minute while the batch and KV counts are the latest samples, so a replica gives none while it is
 * in a transient, where the two disagree: no completion in the window (just started), or KV use now
 * below STEADY_KV_SHARE of its 1-minute peak (its load just fell or moved away).
 *
 * A replica with a queue still gives its ITL observation: the step time with the measured batch and
 * context is linear in α/β/γ at any load. Near a full cache (KV peak above MAX_KV_USE) vLLM preempts
 * and recomputes prompts the counts do not show, which biases the ITL observation up by the
 * recompute's share: a learner fed it through every burst learns a slower GPU than it has (and
 * over-provisions). So a full-cache replica gives it only when `fullCache` is 'itl' — for a model
 * that measurement contradicted (contradiction.ts): its error is far beyond that bias, and an
 * overloaded variant's replicas are all full, so they are the only ones that can re-teach it.
 * A prefill observation keeps every guard against queueing: an empty queue over the minute and a
 * KV peak at most MAX_KV_USE, since a request that waited on the replica (KV full, preempted and
 * re-queued) has a TTFT that is no longer one step after its queue time.
 */
import type { ReplicaMetrics } from '../../domain/metrics.js';
import type { Observation } from './service-model.js';

/** The KV tokens a replica's running batch reads per step, or undefined when it cannot be told. */
export function contextTokens(r: ReplicaMetrics, running: number): number | undefined {
  const kv = r.kvCacheUsageNow ?? r.kvCacheUsage;
  if (kv !== undefined && r.kvCapacityTokens !== undefined && r.kvCapacityTokens > 0) return kv * r.kvCapacityTokens;
  const p = r.promptTokensPerRequest;
  const o = r.outputTokensPerRequest;
  return p !== undefined && o !== undefined ? running * (p + o / 2) : undefined;
}

/**
 * KV use (1-minute peak) above which a replica gives no prefill observation: near a full cache vLLM
 * preempts, and a preempted request is re-queued and recomputed, so its TTFT is not one prefill step.
 */
export const MAX_KV_USE = 0.9;
/** KV use now at least this share of the 1-minute peak: the replica is not in a transient. */
export const STEADY_KV_SHARE = 0.5;

/** Whether the replica's window means and latest samples describe the same load (see the header). */
export function isSteady(r: ReplicaMetrics): boolean {
  if (r.requestRate === undefined || !(r.requestRate > 0)) return false;
  const now = r.kvCacheUsageNow;
  const peak = r.kvCacheUsage;
  return now === undefined || peak === undefined || now >= STEADY_KV_SHARE * peak;
}

/** What a replica near a full cache gives: nothing (the default), or its ITL observation (see the header). */
export type FullCacheUse = 'none' | 'itl';

/** The observations one replica's metrics give (0, 1 or 2). */
export function observationsOf(r: ReplicaMetrics, fullCache: FullCacheUse = 'none'): Observation[] {
  const out: Observation[] = [];
  const n = r.running;
  if (n === undefined || !(n > 0) || !isSteady(r)) return out;
  const cacheFull = r.kvCacheUsage !== undefined && r.kvCacheUsage > MAX_KV_USE;
  if (cacheFull && fullCache === 'none') return out;
  const k = contextTokens(r, n);
  if (k === undefined) return out;
  const rate = r.requestRate ?? 0;
  const p = r.promptTokensPerRequest;
  const itl = r.itlMeanMs;
  if (itl !== undefined && itl > 0) {
    const prefillPerStep = p !== undefined ? (rate * p * itl) / 1000 : 0;
    out.push({ kind: 'itl', y: itl, h: [1, n + prefillPerStep, k] });
  }
  const ttft = r.ttftMeanMs;
  const queue = r.queueTimeMeanMs;
  if (ttft !== undefined && queue !== undefined && p !== undefined && p > 0 && r.queueLength === 0 && !cacheFull) {
    const y = ttft - queue;
    const tau = itl !== undefined && itl > 0 ? (itl + y) / 2 : y;
    if (y > 0) out.push({ kind: 'prefill', y, h: [1, p * (1 + (rate * tau) / 1000) + n, k + p] });
  }
  return out;
}
