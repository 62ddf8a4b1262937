/**
 * CapacityTargets (pure): steps 3-7 of DESIGN.md's engine. From one model's analysis, its variants
 * and their previous decisions to a target replica count per variant, with the steps taken, the
 * reasons and any clamp.
 *
 * Choices where DESIGN.md is silent (documented here once):
 *  - Step 3 rate limit: the model's new total is at most floor(maxScaleUpRate x current replicas)
 *    (pending included); at current 0 it may reach 1. "At least +1" holds unless pending replicas
 *    already cover the need (a scale-up still under way is capacity, so a second cycle does not add
 *    another replica on top of it). Ready replicas never waive it: when step 2 says scale up, a
 *    throughput estimate that says they suffice leaves a standing queue (in bench:quality, ramps
 *    with a 10-20 s start-up kept 4-5 minutes over the wait budget that the +1 removes).
 *  - Step 3 throughput: when the replicas report completions and one is saturated, the need is the
 *    smaller of the saturation need and the throughput need (`throughputNeed`): arrivals sized by
 *    what a replica serves flat out, plus the gateway's backlog served within BACKLOG_DRAIN_S.
 *    Sizing a backlog as if it were steady load over-shot by 2x in bench:quality, and requests
 *    queued on a replica stay on it, so replicas added for them only idle. Without completions
 *    the saturation need stands alone.
 *  - Step 4 throughput: when the throughput need is known it also bounds a scale-down (replicas
 *    that just became ready look idle to WVA's projection while a saturated one holds a backlog).
 *  - Step 3 load: the sum of KV use (waiting requests) over every reporting replica, saturated ones
 *    included; replicas whose value is missing add no load (they still count as capacity). Requests
 *    held at the gateway (its flow-control queue) count as waiting: behind an EPP with flow control
 *    the replicas stop queueing once saturated and the backlog is only visible there.
 *  - Step 4: no scale-down while the gateway holds requests (demand the replicas cannot take).
 *  - Step 4 tie: among equally expensive variants the one last in key order shrinks first (the
 *    mirror of step 3, where the first in key order grows first).
 *  - Step 5: with no usable metrics (none, unavailable, or no series) or stale metrics, every variant
 *    holds its previous decision, or its current replicas when it has none. With no previous
 *    decision and no usable metrics the model gets no decision at all (`unavailableReason`), so
 *    GetMetrics answers UNAVAILABLE and KEDA's fallback applies. Partial metrics still allow a
 *    scale-up (the safe direction) but never a scale-down.
 *  - Step 6: scale to zero is enabled for a model only when it is enabled for every variant, and the
 *    longest retention applies. It needs fresh and complete data, requestsOverRetention exactly 0
 *    (undefined is missing, not idle), nothing running or waiting, no pending replica and no queue at
 *    the gateway (an absent gateway signal is read as "no gateway", not as demand). A variant's
 *    minReplicas still wins over scale to zero (recorded as a clamp).
 *  - Thresholds with a spare trigger not below its threshold (`thresholdProblem`; the loaders refuse
 *    what they can see, but merged trigger metadata or the conservative mix of variants can still
 *    get there): steps 3-4 would need infinitely many replicas, so the model holds like step 5 (its
 *    previous decision, else current replicas) with the problem as the reason. Steps 6-7 do not use
 *    the thresholds and still apply.
 *  - Step 7: a model at zero wakes on gateway queue > 0 or any running/waiting request in fresh or
 *    stale metrics. A model at zero whose previous decision was > 0 is waking (replicas starting):
 *    it holds, so a slow metrics cache cannot send it straight back to zero.
 */
import type { Decision } from '../domain/decision.js';
import type { ScaleToZeroConfig } from '../domain/saturation.js';
import { formatDuration } from '../config/duration.js';
import { fmt, type ModelAnalysis, type VariantState } from './saturation-analyzer.js';

export type ModelAction =
  | 'scale-up'
  | 'scale-down'
  | 'hold'
  | 'scale-to-zero'
  | 'scale-from-zero'
  | 'at-zero'
  | 'floor'
  | 'unavailable';

export interface TargetsInput {
  readonly analysis: ModelAnalysis;
  readonly variants: readonly VariantState[];
  /** Previous decisions by variant key (missing = none yet). */
  readonly previous: ReadonlyMap<string, Decision>;
  readonly scaleToZero: ScaleToZeroConfig;
  readonly maxScaleUpRate: number;
  /** Epoch ms of this decision (for the queue's growth rate since the previous one). */
  readonly now?: number;
}

export interface VariantTarget {
  readonly variantKey: string;
  readonly current: number;
  readonly desired: number;
  /** Model reasons followed by this variant's own. */
  readonly reasons: readonly string[];
  readonly clamp: string | undefined;
}

export interface ModelTargets {
  readonly action: ModelAction;
  readonly steps: readonly string[];
  readonly reasons: readonly string[];
  /** Sorted by variant key. Empty when unavailable. */
  readonly targets: readonly VariantTarget[];
  readonly unavailableReason: string | undefined;
}

const byKey = (a: VariantState, b: VariantState): number => (a.variant.key < b.variant.key ? -1 : a.variant.key > b.variant.key ? 1 : 0);
/** Cheapest first, ties by key ascending. */
export const cheapestFirst = (a: VariantState, b: VariantState): number => a.variant.cost - b.variant.cost || byKey(a, b);
/** Most expensive first, ties by key descending. */
export const mostExpensiveFirst = (a: VariantState, b: VariantState): number => b.variant.cost - a.variant.cost || byKey(b, a);

/** Replicas needed so that `total` load spread over them is at most `perReplica` each. */
export function replicasNeeded(total: number, perReplica: number): number {
  if (total <= 0) return 0;
  if (perReplica <= 0) return Infinity;
  return Math.ceil(total / perReplica - 1e-9);
}

export function computeTargets(input: TargetsInput): ModelTargets {
  const a = input.analysis;
  const states = [...input.variants].sort(byKey);
  const desired = new Map<string, number>();
  const variantReasons = new Map<string, string[]>();
  const clamps = new Map<string, string>();
  const steps: string[] = [];
  const reasons: string[] = [];
  const noteVariant = (key: string, reason: string): void => {
    const list = variantReasons.get(key);
    if (list) list.push(reason);
    else variantReasons.set(key, [reason]);
  };
  for (const s of states) desired.set(s.variant.key, s.current);

  let hasPrevious = false;
  let previousSum = 0;
  for (const s of states) {
    const p = input.previous.get(s.variant.key);
    if (p) {
      hasPrevious = true;
      previousSum += p.desiredReplicas;
    }
  }
  const holdPrevious = (): void => {
    for (const s of states) desired.set(s.variant.key, input.previous.get(s.variant.key)?.desiredReplicas ?? s.current);
  };
  const unavailable = (why: string): ModelTargets => ({
    action: 'unavailable',
    steps: [...steps, `5 missing metrics: no previous decision to hold: ${why}`],
    reasons: [why],
    targets: [],
    unavailableReason: why,
  });

  steps.push(
    `1 saturation: ${a.saturatedCount} saturated, ${a.nonSaturatedCount} not, ${a.unknownCount} unknown of ${a.reportingCount} reporting`,
  );
  steps.push(
    a.avgSpareKv === undefined || a.avgSpareQueue === undefined
      ? `2 spare: no non-saturated replica${a.scaleUpNeeded ? ' -> scale up' : ''}`
      : `2 spare: KV ${fmt(a.avgSpareKv)}, queue ${fmt(a.avgSpareQueue)} -> ${a.scaleUpNeeded ? 'scale up' : 'no scale-up'}`,
  );

  let action: ModelAction = 'hold';
  let zeroAllowed = false;
  const stz = input.scaleToZero;

  if (a.atZero) {
    const demand = (a.gatewayQueue ?? 0) > 0 || a.running > 0 || a.waiting > 0;
    if (hasPrevious && previousSum > 0) {
      // Already woken (or scaled to zero by someone else while we decided > 0): never undo it here.
      action = 'hold';
      holdPrevious();
      reasons.push('waking: holding the previous decision until replicas start');
      steps.push('7 at zero, previous decision > 0: waking, hold');
    } else if (a.freshness !== 'unavailable' && demand) {
      action = 'scale-from-zero';
      const target = [...states].sort(cheapestFirst).find((s) => s.variant.maxReplicas > 0);
      const why = `scale from zero: demand (gateway queue ${a.gatewayQueue ?? 'n/a'}, running ${a.running}, waiting ${a.waiting})`;
      reasons.push(why);
      if (target) {
        desired.set(target.variant.key, 1);
        noteVariant(target.variant.key, '+1 (cheapest variant wakes)');
        steps.push(`7 ${why} -> ${target.variant.key} gets 1`);
      } else {
        steps.push(`7 ${why}: every variant has max 0`);
      }
    } else if (a.freshness === 'unavailable' && !hasPrevious) {
      return unavailable(a.missingReason ?? 'metrics unavailable');
    } else if (stz.enabled) {
      action = 'at-zero';
      zeroAllowed = true;
      for (const s of states) desired.set(s.variant.key, 0);
      reasons.push('at zero, no demand');
      steps.push('6 at zero with scale to zero enabled and no demand: stay at zero');
    } else {
      action = 'floor';
      steps.push('6 scale to zero disabled: model keeps at least one replica');
    }
  } else if (a.dataQuality === 'none' || a.freshness === 'stale') {
    const why = a.freshness === 'stale' ? `metrics stale (${Math.round((a.metricsAgeMs ?? 0) / 1000)}s old)` : (a.missingReason ?? 'metrics missing');
    if (!hasPrevious && a.dataQuality === 'none') return unavailable(why);
    action = 'hold';
    holdPrevious();
    zeroAllowed = hasPrevious && previousSum === 0;
    reasons.push(`hold: ${why}`);
    steps.push(`5 ${why}: hold ${hasPrevious ? 'previous decision' : 'current replicas'}, never scale down`);
  } else {
    const zero = scaleToZeroVerdict(a, stz);
    steps.push(`6 scale to zero: ${zero.reason}`);
    if (zero.go) {
      action = 'scale-to-zero';
      zeroAllowed = true;
      for (const s of states) desired.set(s.variant.key, 0);
      reasons.push(`idle: ${zero.reason}`);
    } else if (a.thresholdProblem !== undefined) {
      action = 'hold';
      holdPrevious();
      reasons.push(`hold: ${a.thresholdProblem}`);
      steps.push(`3 ${a.thresholdProblem}: hold ${hasPrevious ? 'previous decision' : 'current replicas'}, no scaling on saturation until fixed`);
    } else if (a.scaleUpNeeded) {
      action = scaleUp(a, states, desired, input.maxScaleUpRate, previousLoad(input), steps, reasons, clamps, noteVariant);
    } else {
      action = scaleDown(a, states, desired, input.previous, previousLoad(input), steps, reasons, noteVariant);
    }
  }
  if (reasons.length === 0) reasons.push(...a.reasons);
  else reasons.unshift(...a.reasons.filter((r) => !reasons.includes(r)));

  // Min/max per variant. Scale to zero does not override an explicit minReplicas.
  for (const s of states) {
    const v = s.variant;
    const d = desired.get(v.key) ?? 0;
    if (d > v.maxReplicas) {
      desired.set(v.key, v.maxReplicas);
      clamps.set(v.key, `max ${v.maxReplicas} (wanted ${d})`);
    } else if (d < v.minReplicas) {
      desired.set(v.key, v.minReplicas);
      clamps.set(v.key, `min ${v.minReplicas} (wanted ${d})`);
    }
  }

  // The model keeps at least one replica unless it is (going) to zero.
  let sum = 0;
  for (const d of desired.values()) sum += d;
  if (sum === 0 && !zeroAllowed) {
    const target = [...states].sort(cheapestFirst).find((s) => s.variant.maxReplicas > 0);
    if (target) {
      desired.set(target.variant.key, 1);
      noteVariant(target.variant.key, 'keeps the model at one replica (cheapest variant)');
      reasons.push('model keeps at least one replica');
      steps.push(`6 floor: ${target.variant.key} keeps 1 replica`);
      if (action === 'hold' || action === 'at-zero') action = 'floor';
    }
  }

  const targets: VariantTarget[] = states.map((s) => ({
    variantKey: s.variant.key,
    current: s.current,
    desired: desired.get(s.variant.key) ?? 0,
    reasons: [...reasons, ...(variantReasons.get(s.variant.key) ?? [])],
    clamp: clamps.get(s.variant.key),
  }));
  return { action, steps, reasons, targets, unavailableReason: undefined };
}

function scaleToZeroVerdict(a: ModelAnalysis, stz: ScaleToZeroConfig): { go: boolean; reason: string } {
  if (!stz.enabled) return { go: false, reason: 'disabled' };
  const window = formatDuration(stz.retentionMs);
  if (a.requestsOverRetention === undefined) return { go: false, reason: `requests over ${window} unknown (missing is not idle)` };
  if (a.requestsOverRetention > 0) return { go: false, reason: `${fmt(a.requestsOverRetention)} requests over ${window}` };
  if (a.dataQuality !== 'complete' || !a.demandKnown) return { go: false, reason: `running/waiting not known for every replica` };
  if (a.running > 0 || a.waiting > 0) return { go: false, reason: `${a.running} running, ${a.waiting} waiting` };
  if ((a.gatewayQueue ?? 0) > 0) return { go: false, reason: `${a.gatewayQueue} queued at the gateway` };
  if (a.pendingTotal > 0) return { go: false, reason: `${a.pendingTotal} replica(s) pending` };
  return { go: true, reason: `0 requests over ${window}, nothing running, waiting or queued -> all variants 0` };
}

/** The model's waiting requests: replica queues plus what the gateway holds (no replica reports those). */
export function waitingLoad(a: ModelAnalysis): number {
  return a.totalQueue + (a.gatewayQueue ?? 0);
}

/** What the previous decision saw of the model, for rates over the gap since. */
export interface PreviousLoad {
  readonly waiting: number;
  /** Completions per second then (undefined when unknown). */
  readonly completions: number | undefined;
  readonly dtS: number;
}

/** The previous decision's model load and its age, when rates over the gap can be drawn from it. */
function previousLoad(input: TargetsInput): PreviousLoad | undefined {
  if (input.now === undefined) return undefined;
  for (const d of input.previous.values()) {
    if (d.modelWaiting === undefined) continue;
    const dtS = (input.now - d.decidedAt) / 1000;
    // On-demand runs can follow each other closely; a growth rate over a few ms is noise.
    return dtS >= MIN_GROWTH_WINDOW_S ? { waiting: d.modelWaiting, completions: d.modelCompletions, dtS } : undefined;
  }
  return undefined;
}

/** Shortest gap between two decisions over which the queue's growth rate is trusted (s). */
export const MIN_GROWTH_WINDOW_S = 2;
/** A backlog should be served within this time by the replicas asked for (s). */
export const BACKLOG_DRAIN_S = 60;

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
  return {
    needed,
    why: `arrivals ${fmt(arrivals)}/s (completions ${fmt(served)}/s ${growth >= 0 ? '+' : '-'} queue ${previous ? `${fmt(Math.abs(growth))}/s` : 'growth unknown'}) + gateway backlog ${fmt(a.gatewayQueue ?? 0)} over ${BACKLOG_DRAIN_S}s at ${fmt(perReplica)}/s per replica`,
  };
}

/** Step 3's cap: the most replicas a model may have after one cycle (DESIGN: maxScaleUpRate x current). */
export function scaleUpCap(current: number, maxScaleUpRate: number): number {
  return current === 0 ? 1 : Math.max(current, Math.floor(current * maxScaleUpRate));
}

function scaleUp(
  a: ModelAnalysis,
  states: readonly VariantState[],
  desired: Map<string, number>,
  rate: number,
  previous: PreviousLoad | undefined,
  steps: string[],
  reasons: string[],
  clamps: Map<string, string>,
  noteVariant: (key: string, reason: string) => void,
): ModelAction {
  const t = a.thresholds;
  const kvPer = t.kvCacheThreshold - t.kvSpareTrigger;
  const queuePer = t.queueLengthThreshold - t.queueSpareTrigger;
  const gateway = a.gatewayQueue ?? 0;
  const queueLoad = waitingLoad(a);
  const bySaturation = Math.max(replicasNeeded(a.totalKv, kvPer), replicasNeeded(queueLoad, queuePer));
  // A backlog is not load that needs replicas for ever: when throughput is known it sizes the need.
  const byThroughput = throughputNeed(a, queueLoad, previous);
  const needed = byThroughput ? Math.min(bySaturation, byThroughput.needed) : bySaturation;
  const current = a.currentTotal;
  const load = byThroughput && byThroughput.needed < bySaturation
    ? `throughput: ${byThroughput.why}`
    : `KV load ${fmt(a.totalKv)} at <= ${fmt(kvPer)}/replica, queue ${fmt(queueLoad)}${gateway > 0 ? ` (${fmt(gateway)} at the gateway)` : ''} at <= ${fmt(queuePer)}/replica`;
  if (a.pendingTotal > 0 && needed <= current) {
    const why = `${a.pendingTotal} pending replica(s) cover the need (needed ${needed} <= current ${current})`;
    reasons.push(why);
    steps.push(`3 ${load}: ${why}, no more`);
    return 'hold';
  }
  // DESIGN's cap, x current (pending included): it compounds while replicas start (1 -> 2 -> 4 -> 8
  // within one start-up), which is what a burst needs; the need itself, not the cap, stops it.
  const capTotal = scaleUpCap(current, rate);
  const rateMax = Math.max(0, capTotal - current);
  if (rateMax === 0) {
    const why = `maxScaleUpRate ${rate} x ${current} current adds no replica (needed ${Number.isFinite(needed) ? needed : 'inf'})`;
    reasons.push(why);
    steps.push(`3 ${load}: ${why}`);
    return 'hold';
  }
  let add = Math.max(1, needed - current);
  let rateClamp: string | undefined;
  if (add > rateMax) {
    rateClamp = `rate: +${Number.isFinite(add) ? add : 'inf'} capped to +${rateMax} (maxScaleUpRate ${rate} x ${current} current)`;
    add = rateMax;
  }
  const order = [...states].sort(cheapestFirst);
  const given = new Map<string, number>();
  let placed = 0;
  for (; placed < add; placed++) {
    const target = order.find((s) => (desired.get(s.variant.key) ?? 0) < s.variant.maxReplicas);
    if (!target) break;
    desired.set(target.variant.key, (desired.get(target.variant.key) ?? 0) + 1);
    given.set(target.variant.key, (given.get(target.variant.key) ?? 0) + 1);
  }
  for (const [key, n] of given) {
    const s = states.find((x) => x.variant.key === key);
    noteVariant(key, `+${n} (cheapest below max, cost ${s?.variant.cost ?? '?'})`);
  }
  const notPlaced = add - placed;
  const atMax = notPlaced > 0 ? `all variants at max: ${notPlaced} replica(s) not placed` : undefined;
  const modelClamp = [rateClamp, atMax].filter((c): c is string => c !== undefined).join('; ');
  if (modelClamp !== '') for (const s of states) clamps.set(s.variant.key, modelClamp);
  reasons.push(`scale up by ${placed}: needed ${Number.isFinite(needed) ? needed : 'inf'} replicas (${load})`);
  steps.push(`3 needed ${Number.isFinite(needed) ? needed : 'inf'} for ${load}; current ${current} (${a.pendingTotal} pending) -> +${placed}${modelClamp ? ` [${modelClamp}]` : ''}`);
  return placed > 0 ? 'scale-up' : 'hold';
}

/**
 * Step 4, one replica more per cycle, counted from the previous decision rather than from current
 * replicas: the HPA applies a decrease only after its stabilization window (and never within its
 * 10 % tolerance), so restarting from `current` every cycle would ask for the same -1 forever and
 * a fleet above 10 replicas would never shrink. Each cycle finds the largest removal, at most one
 * more than the previous decision's, that keeps the projected spare of the remaining replicas
 * above both triggers (WVA's simulation). When the load rises the decision steps back only as far
 * as needed: jumping back to `current` would refill the HPA's stabilization window with the peak.
 * Removals go one at a time to the most expensive variant above its min.
 */
function scaleDown(
  a: ModelAnalysis,
  states: readonly VariantState[],
  desired: Map<string, number>,
  previous: ReadonlyMap<string, Decision>,
  before: PreviousLoad | undefined,
  steps: string[],
  reasons: string[],
  noteVariant: (key: string, reason: string) => void,
): ModelAction {
  const refuse = (why: string, step = 4): ModelAction => {
    reasons.push(`no scale-down: ${why}`);
    steps.push(`${step} no scale-down: ${why}`);
    return 'hold';
  };
  if (a.pendingTotal > 0) return refuse(`${a.pendingTotal} replica(s) pending`);
  if (a.dataQuality !== 'complete') return refuse(a.missingReason ?? 'metrics incomplete', 5);
  if ((a.gatewayQueue ?? 0) > 0) return refuse(`${a.gatewayQueue} request(s) held at the gateway`);
  const t = a.thresholds;
  /** Projected spare with `removed` of the non-saturated replicas gone. */
  const projection = (removed: number): { ok: boolean; why: string; kvSpare: number; queueSpare: number } => {
    const n = a.nonSaturatedCount - removed;
    if (n < 1) return { ok: false, why: `only ${a.nonSaturatedCount} non-saturated replica(s)`, kvSpare: 0, queueSpare: 0 };
    const kvSpare = t.kvCacheThreshold - a.nonSaturatedKv / n;
    const queueSpare = t.queueLengthThreshold - a.nonSaturatedQueue / n;
    if (kvSpare < t.kvSpareTrigger) return { ok: false, why: `with ${removed} replica(s) fewer KV spare would be ${fmt(kvSpare)} < ${fmt(t.kvSpareTrigger)}`, kvSpare, queueSpare };
    if (queueSpare < t.queueSpareTrigger) return { ok: false, why: `with ${removed} replica(s) fewer queue spare would be ${fmt(queueSpare)} < ${fmt(t.queueSpareTrigger)}`, kvSpare, queueSpare };
    return { ok: true, why: '', kvSpare, queueSpare };
  };
  // How far below current the previous decision already stood (the HPA has not followed yet).
  let previouslyRemoved = 0;
  for (const s of states) {
    const p = previous.get(s.variant.key)?.desiredReplicas;
    if (p !== undefined && p < s.current) previouslyRemoved += s.current - Math.max(p, s.variant.minReplicas);
  }
  let removal = previouslyRemoved + 1;
  while (removal > 0 && !projection(removal).ok) removal--;
  if (removal === 0) return refuse(projection(1).why);
  // Replicas that just became ready look idle to the projection while a saturated one still holds
  // a backlog; the throughput need (when known) says whether the model can really do with fewer.
  const byThroughput = throughputNeed(a, waitingLoad(a), before);
  if (byThroughput && a.currentTotal - removal < byThroughput.needed) {
    removal = Math.max(0, a.currentTotal - byThroughput.needed);
    if (removal === 0) return refuse(`throughput needs ${byThroughput.needed} replica(s): ${byThroughput.why}`);
  }

  // Apply `removal` from current, one at a time, to the most expensive variant above its min.
  let applied = 0;
  for (; applied < removal; applied++) {
    const victim = [...states].sort(mostExpensiveFirst).find((s) => {
      const d = desired.get(s.variant.key) ?? 0;
      return d > 0 && d > s.variant.minReplicas;
    });
    if (!victim) break;
    desired.set(victim.variant.key, (desired.get(victim.variant.key) ?? 0) - 1);
  }
  if (applied === 0) return refuse('every variant at its min');
  for (const s of states) {
    const removed = s.current - (desired.get(s.variant.key) ?? s.current);
    if (removed > 0) noteVariant(s.variant.key, `-${removed} below current (most expensive above min first, cost ${s.variant.cost})`);
  }
  const p = projection(applied);
  const spare = `projected spare KV ${fmt(p.kvSpare)} >= ${fmt(t.kvSpareTrigger)}, queue ${fmt(p.queueSpare)} >= ${fmt(t.queueSpareTrigger)}`;
  let why: string;
  if (applied > previouslyRemoved) why = `scale down by 1${applied > 1 ? ` (${applied} below current)` : ''}: ${spare}`;
  else if (applied === previouslyRemoved) why = `holding the lower decision (${applied} below current); no further scale-down: ${projection(applied + 1).why}`;
  else why = `load rose: ${applied} below current instead of ${previouslyRemoved} (${spare})`;
  reasons.push(why);
  steps.push(`4 ${why}`);
  return 'scale-down';
}
