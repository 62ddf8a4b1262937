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
import {
  explainSparePairProblem,
  sparePairProblems,
  type SaturationThresholds,
  type SparePairProblem,
} from '../domain/saturation.js';
import type { Variant } from '../domain/variant.js';
import { reasonNote, traceNote, type Note } from './notes.js';
import { fillingRate, steadyRate } from './throughput-learning.js';
import { tokenLoad, type TokenLoad } from './token-capacity.js';

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
  /** When each replica last ran nothing (ModelState.idleAt): one loaded within the minute is filling. */
  readonly idleAt?: ReadonlyMap<string, number> | undefined;
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
   * the larger of its rate now (throughput-learning.ts: from a steady minute, steadyRate, or while it
   * fills from idle, fillingRate) and its 1 m completion rate (a replica that just started has a
   * partial window, so not the mean); undefined when no saturated replica reports a rate above 0.
   */
  readonly saturatedReplicaRate: number | undefined;
  /** KV use of the replica whose flat-out rate is `saturatedReplicaRate` (undefined: it reports none). */
  readonly saturatedKv: number | undefined;
  readonly scaleUpNeeded: boolean;
  /**
   * Steps 1-2 on the latest samples instead of the 1-minute peaks, when `scaleUpNeeded`: whether
   * the model needs a scale-up now, and what it sees now. Undefined when not asked (no scale-up on
   * the peaks) or a replica lacks its current KV or queue.
   */
  readonly now: SaturationNow | undefined;
  /** Demand and capacity in KV tokens, when every reporting replica has `vllm:cache_config_info`. */
  readonly tokens: TokenLoad | undefined;
  /**
   * Set when `thresholds` has a spare trigger not below its threshold: what is wrong, with the
   * values, the variants and where they came from. Step 2 is then skipped (no scale-up need).
   */
  readonly thresholdProblem: string | undefined;
  /**
   * Steps 1-2: their trace lines, then the reasons (e.g. "KV spare low (0.05 < 0.10)", code
   * `kv-spare-low`).
   */
  readonly notes: readonly Note[];
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
  /** Requests per second arriving at the gateway (ModelMetrics.gatewayArrivalRate); undefined = missing. */
  readonly gatewayArrivalRate?: number | undefined;
  readonly running: number;
  readonly waiting: number;
  /** Every reporting replica reports running and waiting (so "nothing running" is known). */
  readonly demandKnown: boolean;
  readonly requestsOverRetention: number | undefined;
}

export interface SaturationNow {
  readonly scaleUpNeeded: boolean;
  /** e.g. "now 0 of 7 saturated, KV spare 0.75, queue spare 5.00". */
  readonly text: string;
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
export function conservativeThresholds(
  all: readonly SaturationThresholds[],
  fallback: SaturationThresholds,
): SaturationThresholds {
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
function sourceOf(
  byVariant: ReadonlyMap<string, SaturationThresholds>,
  field: keyof SaturationThresholds,
  value: number,
): string | undefined {
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
    const from = (key: string, field: keyof SaturationThresholds): string =>
      origin ? `${key} (${origin(key, field)})` : key;
    return `${p.message}: the model uses the highest trigger and the lowest threshold of its variants, ${p.trigger} from ${from(triggerKey, p.trigger)}, ${p.threshold} from ${from(thresholdKey, p.threshold)}`;
  }
  const base = origin
    ? explainSparePairProblem(p, origin(triggerKey, p.trigger), origin(thresholdKey, p.threshold))
    : p.message;
  return variantCount > 1 ? `${base} for variant ${triggerKey}` : base;
}

/** Replica counts over the model's variants (pending = current - ready). */
function replicaCounts(variants: readonly VariantState[]): {
  currentTotal: number;
  readyTotal: number;
  pendingTotal: number;
} {
  let currentTotal = 0;
  let readyTotal = 0;
  let pendingTotal = 0;
  for (const s of variants) {
    currentTotal += s.current;
    readyTotal += Math.min(s.ready, s.current);
    pendingTotal += Math.max(0, s.current - s.ready);
  }
  return { currentTotal, readyTotal, pendingTotal };
}

/** The model-level (conservative) thresholds, and what is wrong with them if no replica count could ever be enough. */
function modelThresholdsOf(input: AnalyzerInput): {
  thresholds: SaturationThresholds;
  thresholdProblem: string | undefined;
} {
  const known: SaturationThresholds[] = [];
  for (const s of input.variants) {
    const t = input.thresholdsByVariant.get(s.variant.key);
    if (t) known.push(t);
  }
  const thresholds = conservativeThresholds(known, input.modelThresholds);
  const problems = sparePairProblems(thresholds);
  const thresholdProblem =
    problems.length === 0
      ? undefined
      : `invalid thresholds: ${problems.map((p) => describeProblem(p, input, input.variants.length)).join('; ')}`;
  return { thresholds, thresholdProblem };
}

/** Step 1: saturated when either known signal says so; not saturated only when both are known and below. */
function saturationOf(kv: number | undefined, queue: number | undefined, t: SaturationThresholds): boolean | undefined {
  const kvSat = kv === undefined ? undefined : kv >= t.kvCacheThreshold;
  const qSat = queue === undefined ? undefined : queue >= t.queueLengthThreshold;
  return kvSat === true || qSat === true ? true : kvSat === false && qSat === false ? false : undefined;
}

/** A replica's thresholds: its own variant's, the model's when it maps to no known variant. */
function thresholdsOf(r: ReplicaMetrics, input: AnalyzerInput): SaturationThresholds {
  return (
    (r.variantKey !== undefined ? input.thresholdsByVariant.get(r.variantKey) : undefined) ?? input.modelThresholds
  );
}

/** The per-replica analysis, for /debug and tests (the engine skips it). */
function replicaDetail(replicas: readonly ReplicaMetrics[], input: AnalyzerInput): ReplicaAnalysis[] {
  return replicas.map((r) => {
    const t = thresholdsOf(r, input);
    const kv = r.kvCacheUsage;
    const queue = r.queueLength;
    const spareKv = kv === undefined ? undefined : t.kvCacheThreshold - kv;
    const spareQueue = queue === undefined ? undefined : t.queueLengthThreshold - queue;
    return {
      pod: r.pod,
      variantKey: r.variantKey,
      kv,
      queue,
      saturated: saturationOf(kv, queue, t),
      spareKv,
      spareQueue,
    };
  });
}

interface SaturationSummary {
  readonly saturatedCount: number;
  readonly nonSaturatedCount: number;
  readonly unknownCount: number;
  readonly spareKvSum: number;
  readonly spareQueueSum: number;
  readonly nonSaturatedKv: number;
  readonly nonSaturatedQueue: number;
  /** The fastest saturated replica's flat-out rate, and its KV use. */
  readonly saturatedReplicaRate: number | undefined;
  readonly saturatedKv: number | undefined;
}

/**
 * Step 1 over the replicas: counts by state, the spare and load of the non-saturated ones (steps 2
 * and 4), and what a saturated one completes flat out (step 3).
 */
function saturationSummary(replicas: readonly ReplicaMetrics[], input: AnalyzerInput): SaturationSummary {
  let saturatedCount = 0;
  let nonSaturatedCount = 0;
  let spareKvSum = 0;
  let spareQueueSum = 0;
  let nonSaturatedKv = 0;
  let nonSaturatedQueue = 0;
  let saturatedReplicaRate: number | undefined;
  let saturatedKv: number | undefined;
  for (const r of replicas) {
    const t = thresholdsOf(r, input);
    const saturated = saturationOf(r.kvCacheUsage, r.queueLength, t);
    if (saturated === true) {
      saturatedCount++;
      // Its KV is a 1 m peak: once load falls, running now under-states the rate at that KV while
      // the 1 m rate still holds it. The larger wins; running now counts only where the minute was
      // steady (steadyRate): at a burst's start a full batch over the quiet part's service time
      // overstates it several times over, and the 1 m rate is then the lower bound it has; or where
      // the replica is filling from idle with a first batch alike in length (fillingRate).
      const idle = input.idleAt?.get(r.pod);
      const rateNow = steadyRate(r) ?? fillingRate(r, idle === undefined ? undefined : (input.now - idle) / 1000);
      const flatOut = Math.max(rateNow ?? 0, r.requestRate ?? 0);
      if (flatOut > 0 && (saturatedReplicaRate === undefined || flatOut > saturatedReplicaRate)) {
        saturatedReplicaRate = flatOut;
        // The KV it serves that rate at: its own. Another saturated replica's (an L4 beside an H100,
        // full at a fraction of the rate) would scale the fast one's rate by a KV it never ran at.
        saturatedKv = r.kvCacheUsage;
      }
    } else if (saturated === false) {
      // Not saturated means both values are known.
      const kv = r.kvCacheUsage as number;
      const queue = r.queueLength as number;
      nonSaturatedCount++;
      spareKvSum += t.kvCacheThreshold - kv;
      spareQueueSum += t.queueLengthThreshold - queue;
      nonSaturatedKv += kv;
      nonSaturatedQueue += queue;
    }
  }
  const unknownCount = replicas.length - saturatedCount - nonSaturatedCount;
  return {
    saturatedCount,
    nonSaturatedCount,
    unknownCount,
    spareKvSum,
    spareQueueSum,
    nonSaturatedKv,
    nonSaturatedQueue,
    saturatedReplicaRate,
    saturatedKv,
  };
}

interface LoadSummary {
  readonly totalKv: number;
  readonly totalQueue: number;
  /** Replicas missing KV or queue. */
  readonly incomplete: number;
  readonly running: number;
  readonly waiting: number;
  readonly demandKnown: boolean;
  /** Completions per second now over the replicas that report it; undefined when none does. */
  readonly completionRate: number | undefined;
}

/** Load over every reporting replica, saturated ones included; a missing value adds nothing. */
function loadSummary(replicas: readonly ReplicaMetrics[]): LoadSummary {
  let totalKv = 0;
  let totalQueue = 0;
  let incomplete = 0;
  let running = 0;
  let demandKnown = true;
  let completionRate: number | undefined;
  for (const r of replicas) {
    if (r.kvCacheUsage !== undefined) totalKv += r.kvCacheUsage;
    if (r.queueLength !== undefined) totalQueue += r.queueLength;
    if (r.kvCacheUsage === undefined || r.queueLength === undefined) incomplete++;
    if (r.running === undefined || r.queueLength === undefined) demandKnown = false;
    running += r.running ?? 0;
    const rate = throughputNow(r);
    if (rate !== undefined) completionRate = (completionRate ?? 0) + rate;
  }
  // Waiting is the same sum as the queue load: missing queues add nothing to either.
  return { totalKv, totalQueue, incomplete, running, waiting: totalQueue, demandKnown, completionRate };
}

/** Step 2: average spare over the non-saturated replicas, and whether that (or full saturation) asks for a scale-up. */
function spareVerdict(s: SaturationSummary, t: SaturationThresholds, thresholdProblem: string | undefined) {
  const avgSpareKv = s.nonSaturatedCount > 0 ? s.spareKvSum / s.nonSaturatedCount : undefined;
  const avgSpareQueue = s.nonSaturatedCount > 0 ? s.spareQueueSum / s.nonSaturatedCount : undefined;
  const notes: Note[] = [];
  if (thresholdProblem !== undefined) {
    // No step 2: with these thresholds no number of replicas would ever be enough.
  } else if (s.saturatedCount > 0 && s.nonSaturatedCount === 0) {
    notes.push(reasonNote(2, 'all-saturated', `all ${s.saturatedCount} reporting replicas saturated`));
  } else if (avgSpareKv !== undefined && avgSpareQueue !== undefined) {
    if (avgSpareKv < t.kvSpareTrigger)
      notes.push(reasonNote(2, 'kv-spare-low', `KV spare low (${fmt(avgSpareKv)} < ${fmt(t.kvSpareTrigger)})`));
    if (avgSpareQueue < t.queueSpareTrigger)
      notes.push(
        reasonNote(2, 'queue-spare-low', `queue spare low (${fmt(avgSpareQueue)} < ${fmt(t.queueSpareTrigger)})`),
      );
    if (notes.length === 0) {
      notes.push(
        reasonNote(
          2,
          'spare-ok',
          `spare OK (KV ${fmt(avgSpareKv)} >= ${fmt(t.kvSpareTrigger)}, queue ${fmt(avgSpareQueue)} >= ${fmt(t.queueSpareTrigger)})`,
        ),
      );
    }
  }
  const scaleUpNeeded = notes.some((n) => n.code !== 'spare-ok');
  if (s.saturatedCount > 0 && s.nonSaturatedCount > 0) {
    notes.push(
      reasonNote(
        1,
        'some-saturated',
        `${s.saturatedCount} of ${s.saturatedCount + s.nonSaturatedCount + s.unknownCount} replicas saturated`,
      ),
    );
  }
  return { avgSpareKv, avgSpareQueue, scaleUpNeeded, notes };
}

/** Steps 1-2 as the first lines of the decision's steps. */
function analysisTrace(s: SaturationSummary, reporting: number, spare: ReturnType<typeof spareVerdict>): Note[] {
  const up = spare.scaleUpNeeded;
  const spareLine =
    spare.avgSpareKv === undefined || spare.avgSpareQueue === undefined
      ? `spare: no non-saturated replica${up ? ' -> scale up' : ''}`
      : `spare: KV ${fmt(spare.avgSpareKv)}, queue ${fmt(spare.avgSpareQueue)} -> ${up ? 'scale up' : 'no scale-up'}`;
  return [
    traceNote(
      1,
      'saturation',
      `saturation: ${s.saturatedCount} saturated, ${s.nonSaturatedCount} not, ${s.unknownCount} unknown of ${reporting} reporting`,
    ),
    traceNote(2, 'spare', spareLine),
  ];
}

/**
 * Steps 1-2 on the latest samples (`kvCacheUsageNow`, `queueLengthNow`) instead of the 1-minute
 * peaks; undefined when a replica lacks either.
 */
function saturationNow(
  replicas: readonly ReplicaMetrics[],
  input: AnalyzerInput,
  t: SaturationThresholds,
  thresholdProblem: string | undefined,
): SaturationNow | undefined {
  if (replicas.length === 0) return undefined;
  const now: ReplicaMetrics[] = [];
  for (const r of replicas) {
    if (r.kvCacheUsageNow === undefined || r.queueLengthNow === undefined) return undefined;
    now.push({ ...r, kvCacheUsage: r.kvCacheUsageNow, queueLength: r.queueLengthNow });
  }
  const s = saturationSummary(now, input);
  const v = spareVerdict(s, t, thresholdProblem);
  const spare =
    v.avgSpareKv === undefined || v.avgSpareQueue === undefined
      ? ''
      : `, KV spare ${fmt(v.avgSpareKv)}, queue spare ${fmt(v.avgSpareQueue)}`;
  return { scaleUpNeeded: v.scaleUpNeeded, text: `now ${s.saturatedCount} of ${now.length} saturated${spare}` };
}

interface DataVerdict {
  readonly dataQuality: DataQuality;
  readonly missingReason: string | undefined;
  readonly noSeriesReason: string | undefined;
}

/**
 * No replica reports, though some exist. Replicas that are all still starting (none ready, none
 * seen under another name) are expected to be silent: a model waking from zero is not a
 * misconfiguration. Otherwise, with other model_names in the namespace, the modelID is likely
 * wrong: say so, naming them (and the model's own pods that report under another name).
 */
function noReplicaReports(
  input: AnalyzerInput,
  metrics: ModelMetrics,
  counts: ReturnType<typeof replicaCounts>,
): DataVerdict {
  const { modelID, namespace } = input;
  const misnamed = metrics.misnamedPods ?? [];
  if (counts.readyTotal === 0 && misnamed.length === 0) {
    return {
      dataQuality: 'none',
      missingReason: `no replica of model ${modelID} in ns ${namespace} reports metrics yet (${counts.currentTotal} starting)`,
      noSeriesReason: undefined,
    };
  }
  const seen = metrics.seenModelNames.filter((n) => n !== modelID);
  if (seen.length === 0) {
    return {
      dataQuality: 'none',
      missingReason: `no replica of model ${modelID} in ns ${namespace} reports metrics (${counts.currentTotal} current)`,
      noSeriesReason: undefined,
    };
  }
  const own =
    misnamed.length > 0
      ? `; its pods report another model_name: ${misnamed.map((p) => `${p.pod} "${p.modelName}"`).join(', ')}`
      : '';
  const noSeriesReason = `modelID "${modelID}" matches no series in namespace ${namespace}; model_name values seen: ${seen.join(', ')}${own}`;
  return { dataQuality: 'none', missingReason: noSeriesReason, noSeriesReason };
}

/** Whether the metrics can drive a decision: none, partial (no scale-down) or complete. */
function dataVerdict(
  input: AnalyzerInput,
  freshness: Freshness,
  metricsAgeMs: number | undefined,
  counts: ReturnType<typeof replicaCounts>,
  incomplete: number,
): DataVerdict {
  const { metrics, modelID, namespace } = input;
  const reporting = metrics?.replicas.length ?? 0;
  if (!metrics)
    return {
      dataQuality: 'none',
      missingReason: `no metrics for model ${modelID} in ns ${namespace} yet`,
      noSeriesReason: undefined,
    };
  if (freshness === 'unavailable') {
    return {
      dataQuality: 'none',
      missingReason: `metrics unavailable (${Math.round((metricsAgeMs ?? 0) / 1000)}s old)`,
      noSeriesReason: undefined,
    };
  }
  if (reporting === 0 && counts.currentTotal > 0) return noReplicaReports(input, metrics, counts);
  if (incomplete === 0 && reporting >= counts.readyTotal)
    return { dataQuality: 'complete', missingReason: undefined, noSeriesReason: undefined };
  const parts: string[] = [];
  if (incomplete > 0) parts.push(`${incomplete} replica(s) missing KV or queue`);
  if (reporting < counts.readyTotal) parts.push(`${counts.readyTotal - reporting} ready replica(s) not reporting`);
  return { dataQuality: 'partial', missingReason: `metrics partial: ${parts.join(', ')}`, noSeriesReason: undefined };
}

/**
 * Every field written out in one fixed order, never spread: an object literal that spreads others
 * can leave V8 a dictionary-mode object, read through slow lookups by every later step.
 */
export function analyzeModel(input: AnalyzerInput): ModelAnalysis {
  const { metrics } = input;
  const counts = replicaCounts(input.variants);
  const { thresholds, thresholdProblem } = modelThresholdsOf(input);
  const reported = metrics?.replicas ?? [];
  const saturation = saturationSummary(reported, input);
  const load = loadSummary(reported);
  const spare = spareVerdict(saturation, thresholds, thresholdProblem);
  const metricsAgeMs = metrics ? Math.max(0, input.now - metrics.collectedAt) : undefined;
  const freshness: Freshness = metricsAgeMs === undefined ? 'unavailable' : freshnessOf(metricsAgeMs);
  const data = dataVerdict(input, freshness, metricsAgeMs, counts, load.incomplete);
  return {
    namespace: input.namespace,
    modelID: input.modelID,
    thresholds,
    replicas: (input.replicaDetail ?? true) ? replicaDetail(reported, input) : [],
    reportingCount: reported.length,
    saturatedCount: saturation.saturatedCount,
    nonSaturatedCount: saturation.nonSaturatedCount,
    unknownCount: saturation.unknownCount,
    avgSpareKv: spare.avgSpareKv,
    avgSpareQueue: spare.avgSpareQueue,
    totalKv: load.totalKv,
    totalQueue: load.totalQueue,
    nonSaturatedKv: saturation.nonSaturatedKv,
    nonSaturatedQueue: saturation.nonSaturatedQueue,
    completionRate: load.completionRate,
    saturatedReplicaRate: saturation.saturatedReplicaRate,
    saturatedKv: saturation.saturatedKv,
    scaleUpNeeded: spare.scaleUpNeeded,
    now: spare.scaleUpNeeded ? saturationNow(reported, input, thresholds, thresholdProblem) : undefined,
    tokens: tokenLoad(reported, metrics?.gatewayQueue),
    thresholdProblem,
    notes: [...analysisTrace(saturation, reported.length, spare), ...spare.notes],
    currentTotal: counts.currentTotal,
    readyTotal: counts.readyTotal,
    pendingTotal: counts.pendingTotal,
    atZero: counts.currentTotal === 0,
    dataQuality: data.dataQuality,
    missingReason: data.missingReason,
    noSeriesReason: data.noSeriesReason,
    metricsAgeMs,
    freshness,
    gatewayQueue: metrics?.gatewayQueue,
    gatewayArrivalRate: metrics?.gatewayArrivalRate,
    running: load.running,
    waiting: load.waiting,
    demandKnown: load.demandKnown,
    requestsOverRetention: metrics?.requestsOverRetention,
  };
}
