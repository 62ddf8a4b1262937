/**
 * What one replica of each variant completes per second at its KV target, learned online (pure):
 * every cycle, each replica running near its target (KV use at least NEAR_TARGET of it) gives one
 * sample, its completion rate scaled to the target (rate x target / KV), and so does a replica with
 * at least its queue target waiting now, whatever its KV: requests wait on it because it runs flat
 * out (compute-bound: long prompts on a large cache keep KV low), so its completion rate is what it
 * serves; a variant's samples of a
 * cycle are averaged and folded into an exponentially-weighted estimate. Replicas far below their
 * target say little about what they serve flat out (a mostly idle batch), so they give none; the
 * estimate then keeps what busier cycles taught it, which is what sizing needs while the load is
 * low (scale-down bound, look-ahead) and before any replica saturates.
 *
 * A sample's rate is running / mean service time (Little's law) only where the last minute was
 * steady (steadyRate): the service time is the mean over the requests finished in that minute, so
 * at a burst's start it is the quiet part's, and a full batch over it overstates what the replica
 * serves several times over. One such sample would lift the estimate for minutes, and the
 * scale-down bound with it (the bound falls below what the load needs, and step 3 has to add the
 * replica back).
 */
import type { ReplicaMetrics } from '../domain/metrics.js';

/** A replica counts when its KV use is at least this fraction of its target. */
export const NEAR_TARGET = 0.75;
/** Weight of a cycle's mean sample in the estimate. */
export const THROUGHPUT_WEIGHT = 0.3;

/**
 * Little's law over the last minute: its mean running count is completions/s x mean service time.
 * Where the running count now is within this factor of it (either way), the minute was steady.
 */
export const STEADY_FACTOR = 2;

/**
 * What the replica completes per second now (running / mean service time) when the last minute
 * was steady (STEADY_FACTOR); its 1 m completion rate when it reports no service time; undefined
 * when the two disagree: the service time belongs to another load than the running count.
 */
export function steadyRate(r: ReplicaMetrics): number | undefined {
  const t = r.serviceSeconds;
  if (t === undefined || !(t > 0) || r.running === undefined) return r.requestRate;
  const now = r.running / t;
  if (r.requestRate === undefined) return now;
  const meanRunning = r.requestRate * t;
  const steady = r.running <= STEADY_FACTOR * meanRunning && meanRunning <= STEADY_FACTOR * r.running;
  return steady ? now : undefined;
}

/** The window of the collector's rates, means and peaks (`[1m]`), in seconds. */
export const RATE_WINDOW_S = 60;
/** A filling replica's finished requests count as its first batch when they ran this share of its loaded time. */
export const FILL_SHARE = 0.5;

/**
 * What a replica that took on load within the last minute (`loadedForS` ago: it ran nothing then)
 * completes now, by Little's law (running / mean service time), where steadyRate has none: it is
 * filling, its completions lag its admissions by a service time, and its 1 m completion rate
 * understates it (3.1/s for a replica serving 6.7/s, 45 s into WVA's bursty scenario). Only where
 * the requests it finished ran for at least FILL_SHARE of that time: they are then the batch it
 * admitted first, alike in length to those running. Finished in a small share of it, they are the
 * short tail of a heavy-tailed mix (Azure's conversations: 2.6 s of 15 s) while the running batch
 * is longer, and Little's law overstates it (97/s for a replica serving 16/s). Undefined otherwise.
 */
export function fillingRate(r: ReplicaMetrics, loadedForS: number | undefined): number | undefined {
  if (loadedForS === undefined || !(loadedForS < RATE_WINDOW_S)) return undefined;
  const t = r.serviceSeconds;
  if (t === undefined || !(t > 0) || r.running === undefined || !(r.running > 0)) return undefined;
  return t >= FILL_SHARE * loadedForS ? r.running / t : undefined;
}

/** One replica's completions per second at the KV target, when it runs near it or flat out. */
function sampleOf(r: ReplicaMetrics, kvTarget: number, queueTarget: number): number | undefined {
  const now = r.kvCacheUsageNow;
  const kv = now ?? r.kvCacheUsage;
  if (queueTarget > 0 && r.queueLengthNow !== undefined && r.queueLengthNow >= queueTarget) {
    const rate = steadyRate(r);
    // Flat out at a KV below the target: what it completes is the most it serves.
    if (rate !== undefined && rate > 0) return kv !== undefined && kv > kvTarget ? (rate * kvTarget) / kv : rate;
  }
  if (kv === undefined || kvTarget <= 0 || kv < NEAR_TARGET * kvTarget) return undefined;
  // Beside a 1-minute KV peak, the 1-minute rate is as old as the peak; beside the KV now, the rate now.
  const rate = now !== undefined ? steadyRate(r) : Math.max(steadyRate(r) ?? 0, r.requestRate ?? 0);
  if (rate === undefined || !(rate > 0)) return undefined;
  return (rate * kvTarget) / kv;
}

/**
 * The estimates by variant key after this cycle's replicas (`kvTarget`, `queueTarget`: KV load and
 * queue one replica is sized for).
 */
export function updateThroughput(
  prev: ReadonlyMap<string, number>,
  replicas: readonly ReplicaMetrics[],
  kvTarget: number,
  queueTarget: number,
): ReadonlyMap<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const r of replicas) {
    if (r.variantKey === undefined) continue;
    const s = sampleOf(r, kvTarget, queueTarget);
    if (s === undefined) continue;
    const acc = sums.get(r.variantKey);
    if (acc) {
      acc.sum += s;
      acc.n++;
    } else sums.set(r.variantKey, { sum: s, n: 1 });
  }
  if (sums.size === 0) return prev;
  const out = new Map(prev);
  for (const [key, { sum, n }] of sums) {
    const before = prev.get(key);
    const mean = sum / n;
    out.set(key, before === undefined ? mean : before + THROUGHPUT_WEIGHT * (mean - before));
  }
  return out;
}

/**
 * The per-replica rate the model is sized with: the slowest learned variant among `keys` (a mix
 * of variants is never sized by its fastest); undefined when none is learned yet.
 */
export function modelReplicaRate(learned: ReadonlyMap<string, number>, keys: readonly string[]): number | undefined {
  let rate: number | undefined;
  for (const k of keys) {
    const r = learned.get(k);
    if (r !== undefined && (rate === undefined || r < rate)) rate = r;
  }
  return rate;
}
