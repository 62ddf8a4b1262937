/**
 * SaturationAnalyzer (pure): steps 1 and 2 of DESIGN.md's engine for one model, plus the inputs the
 * later steps need (load totals, data quality, demand). No I/O, no clock: `now` comes in.
 *
 * How variant overrides combine for a model-level analysis:
 *  - per replica (saturated? spare?) the replica's own variant thresholds apply (config merged with
 *    that variant's trigger-metadata overrides); a replica that maps to no known variant uses the
 *    model's thresholds without variant overrides;
 *  - model-level comparisons (spare triggers, target load per replica, scale-down projection) use
 *    the most conservative value across the model's variants: the highest spare triggers and the
 *    lowest thresholds. With no per-variant overrides (the usual case) this is simply the model's
 *    resolved thresholds.
 *
 * Each spare trigger must be below its threshold (sparePairProblems). The config loader and the
 * metadata parser refuse what they can see, but trigger metadata merges over a config it never saw,
 * and the conservative mix of valid variants can break the rule (threshold 0.7 from one, trigger
 * 0.75 from another). Then no number of replicas is enough and every cycle would ask for more, so
 * the analysis says `thresholdProblem` instead of asking to scale up.
 */
import { freshnessOf, type Freshness, type ModelMetrics, type ReplicaMetrics } from '../domain/metrics.js';
import { explainSparePairProblem, sparePairProblems, type SaturationThresholds, type SparePairProblem } from '../domain/saturation.js';
import type { Variant } from '../domain/variant.js';

/** A variant with the replica counts the engine sees now. pending = current - ready. */
export interface VariantState {
  readonly variant: Variant;
  readonly current: number;
  readonly ready: number;
}

export interface AnalyzerInput {
  readonly namespace: string;
  readonly modelID: string;
  /** The model's variants, any order (the analyzer sorts by key). */
  readonly variants: readonly VariantState[];
  readonly metrics: ModelMetrics | undefined;
  /** Resolved thresholds per variant key (config <- per-model <- variant overrides). */
  readonly thresholdsByVariant: ReadonlyMap<string, SaturationThresholds>;
  /** Resolved thresholds for the model without variant overrides (for unmapped replicas). */
  readonly modelThresholds: SaturationThresholds;
  readonly now: number;
  /** Fill `replicas` with the per-replica analysis (default true). */
  readonly replicaDetail?: boolean;
  /**
   * Where a variant's resolved value came from ("trigger metadata", "the built-in default", ...),
   * for the message when the thresholds break the rule. Called only then.
   */
  readonly thresholdOrigin?: (variantKey: string, field: keyof SaturationThresholds) => string;
}

export interface ReplicaAnalysis {
  readonly pod: string;
  readonly variantKey: string | undefined;
  readonly kv: number | undefined;
  readonly queue: number | undefined;
  /** undefined = cannot tell (a needed value is missing and the known one is below threshold). */
  readonly saturated: boolean | undefined;
  readonly spareKv: number | undefined;
  readonly spareQueue: number | undefined;
}

/** Why the model's metrics cannot drive a scale-down (or anything at all). */
export type DataQuality = 'complete' | 'partial' | 'none';

export interface ModelAnalysis {
  readonly namespace: string;
  readonly modelID: string;
  /** Model-level (conservative) thresholds, see the header comment. */
  readonly thresholds: SaturationThresholds;
  /** Per-replica analysis; empty when the input asked for no replica detail. */
  readonly replicas: readonly ReplicaAnalysis[];
  /** Replicas of the model that report metrics (whatever they report). */
  readonly reportingCount: number;
  readonly saturatedCount: number;
  readonly nonSaturatedCount: number;
  /** Replicas with a missing value that decides their state. */
  readonly unknownCount: number;
  readonly avgSpareKv: number | undefined;
  readonly avgSpareQueue: number | undefined;
  /** Sum of KV use / waiting requests over every replica that reports it (saturated included). */
  readonly totalKv: number;
  readonly totalQueue: number;
  /** Sum over non-saturated replicas only (for the scale-down projection). */
  readonly nonSaturatedKv: number;
  readonly nonSaturatedQueue: number;
  /**
   * Completions per second now summed over the replicas that report it (`throughputNow`: running /
   * mean service time, else `rate(vllm:request_success_total[1m])`); undefined when none does. A
   * replica that just started has neither yet: it adds nothing, the queue's growth covers it.
   */
  readonly completionRate: number | undefined;
  /**
   * Throughput of one replica running flat out: the highest rate among saturated replicas, each
   * the larger of `throughputNow` and its 1 m completion rate (a replica that just started has a
   * partial window, so not the mean); undefined when no saturated replica reports a rate above 0.
   */
  readonly saturatedReplicaRate: number | undefined;
  /** Mean KV use of saturated replicas that report it (the KV at `saturatedReplicaRate`). */
  readonly saturatedKv: number | undefined;
  readonly scaleUpNeeded: boolean;
  /**
   * Set when `thresholds` has a spare trigger not below its threshold: what is wrong, with the
   * values, the variants and where they came from. Step 2 is then skipped (no scale-up need).
   */
  readonly thresholdProblem: string | undefined;
  /** Human-readable, e.g. "KV spare low (0.05 < 0.10)". */
  readonly reasons: readonly string[];
  readonly currentTotal: number;
  readonly readyTotal: number;
  readonly pendingTotal: number;
  readonly atZero: boolean;
  readonly dataQuality: DataQuality;
  /** Set when dataQuality is not complete: what is missing. */
  readonly missingReason: string | undefined;
  /** Set when the model's modelID matches no series but other model_names are seen. */
  readonly noSeriesReason: string | undefined;
  readonly metricsAgeMs: number | undefined;
  readonly freshness: Freshness;
  /** Demand signals for scale from/to zero. */
  readonly gatewayQueue: number | undefined;
  readonly running: number;
  readonly waiting: number;
  /** Every reporting replica reports running and waiting (so "nothing running" is known). */
  readonly demandKnown: boolean;
  readonly requestsOverRetention: number | undefined;
}

/**
 * What a replica completes per second now: running / mean service time (Little's law) when both
 * are known, else its 1 m completion rate. The 1 m rate of a replica that was idle half a minute
 * ago is about half its rate now, which under-states what a replica serves flat out.
 */
export function throughputNow(r: ReplicaMetrics): number | undefined {
  const t = r.serviceSeconds;
  if (t !== undefined && t > 0 && r.running !== undefined) return r.running / t;
  return r.requestRate;
}

export function fmt(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : String(n);
}

/** Most conservative thresholds over the variants: lowest thresholds, highest triggers. */
export function conservativeThresholds(all: readonly SaturationThresholds[], fallback: SaturationThresholds): SaturationThresholds {
  if (all.length === 0) return fallback;
  let kvCacheThreshold = Infinity;
  let queueLengthThreshold = Infinity;
  let kvSpareTrigger = -Infinity;
  let queueSpareTrigger = -Infinity;
  for (const t of all) {
    if (t.kvCacheThreshold < kvCacheThreshold) kvCacheThreshold = t.kvCacheThreshold;
    if (t.queueLengthThreshold < queueLengthThreshold) queueLengthThreshold = t.queueLengthThreshold;
    if (t.kvSpareTrigger > kvSpareTrigger) kvSpareTrigger = t.kvSpareTrigger;
    if (t.queueSpareTrigger > queueSpareTrigger) queueSpareTrigger = t.queueSpareTrigger;
  }
  return { kvCacheThreshold, queueLengthThreshold, kvSpareTrigger, queueSpareTrigger };
}

/** The variant (first by key) whose resolved `field` is `value`: where a conservative value came from. */
function sourceOf(byVariant: ReadonlyMap<string, SaturationThresholds>, field: keyof SaturationThresholds, value: number): string | undefined {
  let found: string | undefined;
  for (const [key, t] of byVariant) if (t[field] === value && (found === undefined || key < found)) found = key;
  return found;
}

function describeProblem(p: SparePairProblem, input: AnalyzerInput, variantCount: number): string {
  const triggerKey = sourceOf(input.thresholdsByVariant, p.trigger, p.triggerValue);
  const thresholdKey = sourceOf(input.thresholdsByVariant, p.threshold, p.thresholdValue);
  const origin = input.thresholdOrigin;
  if (triggerKey === undefined || thresholdKey === undefined) return p.message;
  if (triggerKey !== thresholdKey) {
    const from = (key: string, field: keyof SaturationThresholds): string => (origin ? `${key} (${origin(key, field)})` : key);
    return `${p.message}: the model uses the highest trigger and the lowest threshold of its variants, ${p.trigger} from ${from(triggerKey, p.trigger)}, ${p.threshold} from ${from(thresholdKey, p.threshold)}`;
  }
  const base = origin ? explainSparePairProblem(p, origin(triggerKey, p.trigger), origin(thresholdKey, p.threshold)) : p.message;
  return variantCount > 1 ? `${base} for variant ${triggerKey}` : base;
}

export function analyzeModel(input: AnalyzerInput): ModelAnalysis {
  const { metrics, thresholdsByVariant, modelThresholds } = input;
  const known: SaturationThresholds[] = [];
  let currentTotal = 0;
  let readyTotal = 0;
  let pendingTotal = 0;
  for (const s of input.variants) {
    currentTotal += s.current;
    readyTotal += Math.min(s.ready, s.current);
    pendingTotal += Math.max(0, s.current - s.ready);
    const t = thresholdsByVariant.get(s.variant.key);
    if (t) known.push(t);
  }
  const thresholds = conservativeThresholds(known, modelThresholds);
  const problems = sparePairProblems(thresholds);
  const thresholdProblem =
    problems.length === 0 ? undefined : `invalid thresholds: ${problems.map((p) => describeProblem(p, input, input.variants.length)).join('; ')}`;

  const replicas: ReplicaAnalysis[] = [];
  const detail = input.replicaDetail ?? true;
  let saturatedCount = 0;
  let nonSaturatedCount = 0;
  let unknownCount = 0;
  let spareKvSum = 0;
  let spareQueueSum = 0;
  let totalKv = 0;
  let totalQueue = 0;
  let nonSaturatedKv = 0;
  let nonSaturatedQueue = 0;
  let completionRate: number | undefined;
  let saturatedReplicaRate: number | undefined;
  let saturatedKvSum = 0;
  let saturatedKvCount = 0;
  let running = 0;
  let waiting = 0;
  let demandKnown = true;
  let incomplete = 0;

  for (const r of metrics?.replicas ?? []) {
    const t = (r.variantKey !== undefined ? thresholdsByVariant.get(r.variantKey) : undefined) ?? modelThresholds;
    const kv = r.kvCacheUsage;
    const queue = r.queueLength;
    const kvSat = kv === undefined ? undefined : kv >= t.kvCacheThreshold;
    const qSat = queue === undefined ? undefined : queue >= t.queueLengthThreshold;
    // Saturated when either known signal says so; not saturated only when both are known and below.
    const saturated = kvSat === true || qSat === true ? true : kvSat === false && qSat === false ? false : undefined;
    const spareKv = kv === undefined ? undefined : t.kvCacheThreshold - kv;
    const spareQueue = queue === undefined ? undefined : t.queueLengthThreshold - queue;
    if (kv !== undefined) totalKv += kv;
    if (queue !== undefined) totalQueue += queue;
    if (kv === undefined || queue === undefined) incomplete++;
    const rate = throughputNow(r);
    if (rate !== undefined) {
      completionRate = (completionRate ?? 0) + rate;
    }
    if (saturated === true) {
      saturatedCount++;
      // Its KV is a 1 m peak: once load falls, running now under-states the rate at that KV while
      // the 1 m rate still holds it; at a burst's start it is the other way round. The larger wins.
      const flatOut = Math.max(rate ?? 0, r.requestRate ?? 0);
      if (flatOut > 0 && (saturatedReplicaRate === undefined || flatOut > saturatedReplicaRate)) saturatedReplicaRate = flatOut;
      if (kv !== undefined) {
        saturatedKvSum += kv;
        saturatedKvCount++;
      }
    } else if (saturated === false) {
      nonSaturatedCount++;
      spareKvSum += spareKv as number;
      spareQueueSum += spareQueue as number;
      nonSaturatedKv += kv as number;
      nonSaturatedQueue += queue as number;
    } else unknownCount++;
    if (r.running === undefined || queue === undefined) demandKnown = false;
    running += r.running ?? 0;
    waiting += queue ?? 0;
    if (detail) replicas.push({ pod: r.pod, variantKey: r.variantKey, kv, queue, saturated, spareKv, spareQueue });
  }

  const reasons: string[] = [];
  const avgSpareKv = nonSaturatedCount > 0 ? spareKvSum / nonSaturatedCount : undefined;
  const avgSpareQueue = nonSaturatedCount > 0 ? spareQueueSum / nonSaturatedCount : undefined;
  let scaleUpNeeded = false;
  if (thresholdProblem !== undefined) {
    // No step 2: with these thresholds no number of replicas would ever be enough.
  } else if (saturatedCount > 0 && nonSaturatedCount === 0) {
    scaleUpNeeded = true;
    reasons.push(`all ${saturatedCount} reporting replicas saturated`);
  } else if (avgSpareKv !== undefined && avgSpareQueue !== undefined) {
    if (avgSpareKv < thresholds.kvSpareTrigger) {
      scaleUpNeeded = true;
      reasons.push(`KV spare low (${fmt(avgSpareKv)} < ${fmt(thresholds.kvSpareTrigger)})`);
    }
    if (avgSpareQueue < thresholds.queueSpareTrigger) {
      scaleUpNeeded = true;
      reasons.push(`queue spare low (${fmt(avgSpareQueue)} < ${fmt(thresholds.queueSpareTrigger)})`);
    }
    if (!scaleUpNeeded) {
      reasons.push(`spare OK (KV ${fmt(avgSpareKv)} >= ${fmt(thresholds.kvSpareTrigger)}, queue ${fmt(avgSpareQueue)} >= ${fmt(thresholds.queueSpareTrigger)})`);
    }
  }
  if (saturatedCount > 0 && nonSaturatedCount > 0) reasons.push(`${saturatedCount} of ${saturatedCount + nonSaturatedCount + unknownCount} replicas saturated`);

  const metricsAgeMs = metrics ? Math.max(0, input.now - metrics.collectedAt) : undefined;
  const freshness: Freshness = metricsAgeMs === undefined ? 'unavailable' : freshnessOf(metricsAgeMs);
  const reporting = metrics?.replicas.length ?? 0;

  let dataQuality: DataQuality = 'complete';
  let missingReason: string | undefined;
  let noSeriesReason: string | undefined;
  if (!metrics) {
    dataQuality = 'none';
    missingReason = `no metrics for model ${input.modelID} in ns ${input.namespace} yet`;
  } else if (freshness === 'unavailable') {
    dataQuality = 'none';
    missingReason = `metrics unavailable (${Math.round((metricsAgeMs ?? 0) / 1000)}s old)`;
  } else if (reporting === 0 && currentTotal > 0) {
    dataQuality = 'none';
    const seen = metrics.seenModelNames.filter((n) => n !== input.modelID);
    if (seen.length > 0) {
      noSeriesReason = `modelID "${input.modelID}" matches no series in namespace ${input.namespace}; model_name values seen: ${seen.join(', ')}`;
      missingReason = noSeriesReason;
    } else {
      missingReason = `no replica of model ${input.modelID} in ns ${input.namespace} reports metrics (${currentTotal} current)`;
    }
  } else if (incomplete > 0 || reporting < readyTotal) {
    dataQuality = 'partial';
    const parts: string[] = [];
    if (incomplete > 0) parts.push(`${incomplete} replica(s) missing KV or queue`);
    if (reporting < readyTotal) parts.push(`${readyTotal - reporting} ready replica(s) not reporting`);
    missingReason = `metrics partial: ${parts.join(', ')}`;
  }

  return {
    namespace: input.namespace,
    modelID: input.modelID,
    thresholds,
    replicas,
    reportingCount: reporting,
    saturatedCount,
    nonSaturatedCount,
    unknownCount,
    avgSpareKv,
    avgSpareQueue,
    totalKv,
    totalQueue,
    nonSaturatedKv,
    nonSaturatedQueue,
    completionRate,
    saturatedReplicaRate,
    saturatedKv: saturatedKvCount > 0 ? saturatedKvSum / saturatedKvCount : undefined,
    scaleUpNeeded,
    thresholdProblem,
    reasons,
    currentTotal,
    readyTotal,
    pendingTotal,
    atZero: currentTotal === 0,
    dataQuality,
    missingReason,
    noSeriesReason,
    metricsAgeMs,
    freshness,
    gatewayQueue: metrics?.gatewayQueue,
    running,
    waiting,
    demandKnown,
    requestsOverRetention: metrics?.requestsOverRetention,
  };
}
