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

/** The model's arrivals over the gap since the previous decision, and what they are made of. */
export interface MeasuredArrivals {
  /**
   * Requests per second: what the gateway counted arriving when it reports it, else completions
   * over the gap plus the queue's growth (never below 0).
   */
  readonly arrivals: number;
  /** Where `arrivals` comes from. */
  readonly source: 'gateway' | 'completions';
  /**
   * Completions per second over the gap (the mean of both ends' rates when the previous is known);
   * undefined when unreported.
   */
  readonly served: number | undefined;
  /** The waiting queue's growth per second (0 when the previous decision is unknown). */
  readonly growth: number;
  readonly growthKnown: boolean;
}

/**
 * Arrivals as the gateway counted them (EPP's request counter, ModelMetrics.gatewayArrivalRate)
 * when it reports them: a measure, where the other is an inference. Else completions (the mean of
 * this and the previous decision's) + queue growth since the previous decision: the queue grew over
 * the gap at (arrivals - completions over the gap), the mean of both ends' completion rates, not
 * today's alone (which jumps as soon as new replicas take work). That inference counts requests
 * vLLM preempts back into its queue as arrivals, and lags with the 1-minute completion rate, so it
 * overshoots after a burst and undershoots at its start. Undefined when neither is reported.
 */
export function measuredArrivals(
  a: ModelAnalysis,
  queueLoad: number,
  previous: PreviousLoad | undefined,
): MeasuredArrivals | undefined {
  const completions = a.completionRate;
  const gateway = a.gatewayArrivalRate;
  if (completions === undefined && gateway === undefined) return undefined;
  const growth = previous ? (queueLoad - previous.waiting) / previous.dtS : 0;
  const growthKnown = previous !== undefined;
  const served =
    completions === undefined
      ? undefined
      : previous?.completions !== undefined
        ? (previous.completions + completions) / 2
        : completions;
  if (gateway !== undefined) return { arrivals: gateway, source: 'gateway', served, growth, growthKnown };
  return { arrivals: Math.max(0, (served ?? 0) + growth), source: 'completions', served, growth, growthKnown };
}

/**
 * What one replica serves per second at the KV target, and from what: what the fastest saturated
 * replica completes (it runs flat out now: the freshest measure), raised to the rate learned while
 * replicas ran near their target when that is higher (a saturated replica whose minute was not
 * steady reports only its 1 m completion rate, a lower bound at a burst's start); the learned rate
 * alone when none is saturated.
 */
function perReplicaRate(a: ModelAnalysis, learned: number | undefined): { rate: number; from: string } | undefined {
  const mu = a.saturatedReplicaRate;
  if (mu === undefined) return learned !== undefined ? { rate: learned, from: 'learned' } : undefined;
  const t = a.thresholds;
  const kvPer = t.kvCacheThreshold - t.kvSpareTrigger;
  const kvAtMu = a.saturatedKv ?? t.kvCacheThreshold;
  const saturated = mu * Math.min(1, kvPer / Math.max(kvAtMu, 1e-9));
  return learned !== undefined && learned > saturated
    ? { rate: learned, from: 'learned' }
    : { rate: saturated, from: 'fastest saturated' };
}

export interface ThroughputOptions {
  /** The per-replica rate learned online (throughput-learning.ts), preferred when known. */
  readonly learnedRate?: number | undefined;
  /** Arrivals scaled by this (the look-ahead's forecast over arrivals now); default 1. */
  readonly factor?: number;
  /**
   * The share of each replica's rate the replicas asked for may run at (step 4's SCALE_DOWN_UTILIZATION);
   * default 1, flat out at the KV target, as step 3 sizes.
   */
  readonly utilization?: number;
  /**
   * Seconds a new replica takes to serve (learned, else the setting): while replicas start, a
   * gateway backlog keeps growing by what the ready ones cannot take (BacklogAhead).
   */
  readonly startupS?: number | undefined;
  /** The model's variants serve at different learned rates: size by each one's (replaces the one rate). */
  readonly mixed?: ThroughputSizing | undefined;
  /**
   * Seconds until each pending replica serves, by variant key, against `startupS`
   * (lookahead.ts pendingReadyInS); without them, pending replicas count as half-way through.
   */
  readonly pendingReadyInS?: ReadonlyMap<string, readonly number[]> | undefined;
}

/** What the model's replicas serve: the ready ones (req/s), and the pending ones from when each is ready. */
export interface ServedCapacity {
  readonly ready: number;
  /** Requests the pending replicas serve within `horizonS` from now, each from when it is ready. */
  readonly pendingWithin: (horizonS: number) => number;
  /**
   * The rates are learned (throughput-learning.ts: steady minutes near the target), not read off a
   * replica saturated now: only then is what the replicas drain over a start-up projected (BacklogAhead).
   */
  readonly learned: boolean;
}

/**
 * What replicas serving `rate` req/s each, ready in `readyInS` seconds, serve within a horizon;
 * without their times (undefined), `count` of them taken as half-way through.
 */
export function servedWithin(
  rate: number,
  readyInS: readonly number[] | undefined,
  count: number,
): (horizonS: number) => number {
  return (horizonS) => {
    if (readyInS === undefined) return (rate * count * horizonS) / 2;
    let served = 0;
    for (const left of readyInS) served += rate * Math.max(0, horizonS - left);
    return served;
  };
}

/**
 * How throughput sizes replicas: the capacity of the model's replicas, the replicas a demand (req/s)
 * needs, and the text saying at what rate. One rate for every replica (perReplicaRate), or each
 * variant's own (mixed-throughput.ts) where the variants serve at different rates.
 */
export interface ThroughputSizing {
  readonly capacity: ServedCapacity;
  readonly replicasFor: (demand: number) => number;
  readonly text: string;
}

/** The gateway backlog the replicas will find when those asked for now are ready. */
interface BacklogAhead {
  readonly requests: number;
  /** How it changes over the start-up: growth (> 0), what the replicas drain (< 0), or 0. */
  readonly change: number;
}

/**
 * The gateway's backlog one start-up ahead: today's, plus what arrives over the start-up beyond
 * what the ready replicas serve and what the pending ones serve from when each is ready. Only a
 * backlog that exists changes: with none, arrivals within capacity are all served as they come, and
 * the arrivals term sizes the rest. A backlog the replicas there and coming drain within the
 * start-up needs no replica asked for now (it would be ready after the backlog is gone), but only
 * a learned rate carries that projection: the rate of a replica saturated now is one minute's, a
 * lower bound at a burst's start or a stale one after the replicas' speed changed, and with it the
 * backlog is taken as it stands. The queue's growth over the last gap is not carried forward: it
 * moves with every replica that became ready within the gap and every step of the arrivals, and
 * overshot the backlog the Azure trace's ramps reached.
 */
function backlogAhead(
  a: ModelAnalysis,
  arrivals: number,
  capacity: ServedCapacity,
  startupS: number | undefined,
): BacklogAhead {
  const now = a.gatewayQueue ?? 0;
  if (!(now > 0) || startupS === undefined || !(startupS > 0)) return { requests: now, change: 0 };
  const change = (arrivals - capacity.ready) * startupS - capacity.pendingWithin(startupS);
  if (change >= 0) return { requests: now + change, change };
  if (!capacity.learned) return { requests: now, change: 0 };
  return { requests: Math.max(0, now + change), change: Math.max(change, -now) };
}

/**
 * Step 3 from throughput, when the model reports it: arrivals (measuredArrivals) over what one
 * replica serves at the KV target (perReplicaRate, or each variant's own: `mixed`); the gateway's
 * backlog, as the replicas asked for now will find it (backlogAhead), is served within
 * BACKLOG_DRAIN_S on top of the arrivals, with each replica at `utilization` of its rate. Undefined
 * when arrivals are not measured or no rate is known (nothing runs flat out and none was learned).
 */
export function throughputNeed(
  a: ModelAnalysis,
  queueLoad: number,
  previous: PreviousLoad | undefined,
  opts: ThroughputOptions = {},
): { needed: number; why: string } | undefined {
  const m = measuredArrivals(a, queueLoad, previous);
  const sizing = opts.mixed ?? oneRateSizing(a, opts.learnedRate, opts.pendingReadyInS);
  if (sizing === undefined || m === undefined) return undefined;
  const arrivals = m.arrivals * (opts.factor ?? 1);
  // Only a backlog that new replicas can take is worth replicas: what the gateway holds. Requests
  // queued on a replica stay there (vLLM does not hand them back), so replicas added for them
  // would only serve new arrivals, which `arrivals` already sizes.
  const backlog = backlogAhead(a, m.arrivals, sizing.capacity, opts.startupS);
  const drain = backlog.requests / BACKLOG_DRAIN_S;
  const utilization = opts.utilization ?? 1;
  const needed = sizing.replicasFor((arrivals + drain) / utilization);
  const rateText = utilization < 1 ? `${fmt(utilization)} of ${sizing.text}` : sizing.text;
  const over = `over a ${fmt(opts.startupS ?? 0)}s start-up`;
  const ahead =
    backlog.change > 0
      ? ` (+${fmt(backlog.change)} ${over})`
      : backlog.change < 0
        ? ` (-${fmt(-backlog.change)} drained by the replicas there and starting ${over})`
        : '';
  return {
    needed,
    why: `${arrivalsText(arrivals, m)} + gateway backlog ${fmt(a.gatewayQueue ?? 0)}${ahead} over ${BACKLOG_DRAIN_S}s at ${rateText}`,
  };
}

/** Every replica at one rate (perReplicaRate): the interchangeable-replica sizing. */
function oneRateSizing(
  a: ModelAnalysis,
  learnedRate: number | undefined,
  pendingReadyInS: ReadonlyMap<string, readonly number[]> | undefined,
): ThroughputSizing | undefined {
  const per = perReplicaRate(a, learnedRate);
  if (per === undefined) return undefined;
  const rate = per.rate;
  const readyIn = pendingReadyInS ? [...pendingReadyInS.values()].flat() : undefined;
  return {
    capacity: {
      ready: a.readyTotal * rate,
      pendingWithin: servedWithin(rate, readyIn?.length === a.pendingTotal ? readyIn : undefined, a.pendingTotal),
      learned: per.from === 'learned',
    },
    replicasFor: (demand) => Math.max(1, Math.ceil(demand / rate - 1e-9)),
    text: per.from === 'learned' ? `${fmt(rate)}/s per replica (learned)` : `${fmt(rate)}/s per replica`,
  };
}

/** What the arrivals are, and from what: "arrivals 12.00/s at the gateway" or "(completions … + queue …)". */
function arrivalsText(arrivals: number, m: MeasuredArrivals): string {
  if (m.source === 'gateway') return `arrivals ${fmt(arrivals)}/s at the gateway`;
  const queue = m.growthKnown ? `${fmt(Math.abs(m.growth))}/s` : 'growth unknown';
  return `arrivals ${fmt(arrivals)}/s (completions ${fmt(m.served ?? 0)}/s ${m.growth >= 0 ? '+' : '-'} queue ${queue})`;
}

/** "inf" for a need no number of replicas meets. */
export function countText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'inf';
}
