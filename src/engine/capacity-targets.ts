/**
 * CapacityTargets (pure): steps 3-7 of DESIGN.md's engine. From one model's analysis, its variants
 * and their previous decisions to a target replica count per variant, with notes (the steps taken
 * and the reasons) and any clamp. One function per step returns its result; `computeTargets`
 * picks the step that applies, then bounds every variant by its min/max and keeps the model at
 * one replica unless it is (going) to zero.
 *
 * Choices where DESIGN.md is silent, each documented with its step: scale-up.ts (how many, the
 * throughput need, the cap), scale-down.ts (counted from the previous decision, the throughput
 * bound), hold-stages.ts (missing, stale or partial metrics; unusable thresholds), zero-stages.ts
 * (scale to zero and from zero). Scale to zero is enabled for a model only when it is enabled for
 * every variant, and the longest retention applies (model-decision.ts); a variant's minReplicas
 * still wins over it (recorded as a clamp).
 *
 * SLO mode (a model with `sloMode` and both targets): steps 3-4 are slo/slo-stage.ts's sizing by the
 * learned latency model once it is confident; until then (and whenever it cannot size) the
 * saturation steps decide, with a note saying why. Every other stage is the same in both modes.
 */
import {
  buildModelContext,
  cheapestFirst,
  inOrder,
  type ModelAction,
  type ModelContext,
  type StageResult,
  type TargetsInput,
  type Unavailable,
} from './model-context.js';
import { modelReasons, reasonNote, traceLines, traceNote, variantReasons, type Note } from './notes.js';
import { holdOnBadData, holdOnThresholds } from './hold-stages.js';
import { scaleDown } from './scale-down.js';
import { forecastOf } from './lookahead.js';
import { kvAhead } from './kv-ahead.js';
import { peakGuard } from './peak-guard.js';
import { scaleUp, scaleUpEarly } from './scale-up.js';
import type { VariantState } from './saturation-analyzer.js';
import { atZero, scaleToZero, scaleToZeroVerdict } from './zero-stages.js';
import { sloStage } from './slo/slo-stage.js';

export {
  cheapestFirst,
  mostExpensiveFirst,
  MIN_GROWTH_WINDOW_S,
  type ModelAction,
  type PreviousLoad,
  type TargetsInput,
} from './model-context.js';
export { BACKLOG_DRAIN_S, replicasNeeded, scaleUpCap, throughputNeed, waitingLoad } from './sizing.js';

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
  /** Every note, the analysis' first: what `steps` and `reasons` are made of, with codes. */
  readonly notes: readonly Note[];
  /** Sorted by variant key. Empty when unavailable. */
  readonly targets: readonly VariantTarget[];
  readonly unavailableReason: string | undefined;
  /** Per-replica capacities the sizing used (StageResult.capacities); absent: interchangeable replicas. */
  readonly capacities?: ReadonlyMap<string, number> | undefined;
}

/** Step 3, unless the peak guard holds (peak-guard.ts); its note says what the scale-up rests on. */
function up(ctx: ModelContext): StageResult {
  const guard = peakGuard(ctx);
  if (guard.hold) return guard.hold;
  const result = scaleUp(ctx, forecastOf(ctx));
  return guard.basis ? { ...result, notes: [guard.basis, ...result.notes] } : result;
}

/**
 * No scale-up needed now: grow early for a rising forecast (lookahead.ts), or for KV use that
 * reaches the threshold within a start-up before any rate is known (kv-ahead.ts), else step 4.
 */
function aheadOrDown(ctx: ModelContext): StageResult {
  const f = forecastOf(ctx);
  return (f && scaleUpEarly(ctx, f)) ?? kvAhead(ctx) ?? scaleDown(ctx);
}

/** Steps 3-4 by saturation. */
function bySaturation(ctx: ModelContext): StageResult {
  return ctx.analysis.scaleUpNeeded ? up(ctx) : aheadOrDown(ctx);
}

/** Steps 3-4 in SLO mode: the SLO stage, or saturation with the note saying why not. */
function bySlo(ctx: ModelContext): StageResult {
  const o = sloStage(ctx);
  if ('result' in o) return o.result;
  const r = bySaturation(ctx);
  return { ...r, notes: [...o.fallback, ...r.notes] };
}

/** A model with fresh (or partial) metrics that is not at zero: to zero, hold on thresholds, up, or down. */
function withData(ctx: ModelContext): StageResult {
  const a = ctx.analysis;
  const verdict = scaleToZeroVerdict(a, ctx.scaleToZero);
  const result = verdict.go
    ? scaleToZero(ctx, verdict.reason)
    : a.thresholdProblem !== undefined
      ? holdOnThresholds(ctx, a.thresholdProblem)
      : ctx.slo
        ? bySlo(ctx)
        : bySaturation(ctx);
  return { ...result, notes: [traceNote(6, 'to-zero-verdict', `scale to zero: ${verdict.reason}`), ...result.notes] };
}

/** Min/max per variant. Scale to zero does not override an explicit minReplicas. */
export function applyBounds(states: readonly VariantState[], result: StageResult): StageResult {
  let desired: Map<string, number> | undefined;
  let clamps: Map<string, string> | undefined;
  for (const s of states) {
    const v = s.variant;
    const d = result.desired.get(v.key) ?? 0;
    const over = d > v.maxReplicas;
    if (!over && d >= v.minReplicas) continue;
    const bound = over ? v.maxReplicas : v.minReplicas;
    (desired ??= new Map(result.desired)).set(v.key, bound);
    (clamps ??= new Map(result.clamps)).set(v.key, `${over ? 'max' : 'min'} ${bound} (wanted ${d})`);
  }
  return desired && clamps ? { ...result, desired, clamps } : result;
}

/** The model keeps at least one replica (on its cheapest variant) unless it is (going) to zero. */
function keepFloor(ctx: ModelContext, result: StageResult): StageResult {
  if (result.zeroAllowed) return result;
  for (const d of result.desired.values()) if (d !== 0) return result;
  const target = inOrder(ctx, cheapestFirst).find((s) => s.variant.maxReplicas > 0);
  if (!target) return result;
  const key = target.variant.key;
  return {
    ...result,
    action: result.action === 'hold' || result.action === 'at-zero' ? 'floor' : result.action,
    desired: new Map(result.desired).set(key, 1),
    notes: [
      ...result.notes,
      reasonNote(6, 'floor-variant', 'keeps the model at one replica (cheapest variant)', key),
      reasonNote(6, 'floor', 'model keeps at least one replica'),
      traceNote(6, 'floor', `floor: ${key} keeps 1 replica`),
    ],
  };
}

/** The analysis' notes first; its reasons only where a step did not already give the same text. */
function withAnalysisNotes(ctx: ModelContext, notes: readonly Note[]): Note[] {
  const out: Note[] = [];
  for (const n of ctx.analysis.notes) {
    if (
      n.kind === 'trace' ||
      !notes.some((x) => x.kind === 'reason' && x.variantKey === undefined && x.text === n.text)
    )
      out.push(n);
  }
  for (const n of notes) out.push(n);
  return out;
}

function unavailableTargets(ctx: ModelContext, why: string): ModelTargets {
  const notes = [
    ...ctx.analysis.notes.filter((n) => n.kind === 'trace'),
    traceNote(5, 'unavailable', `missing metrics: no previous decision to hold: ${why}`),
    reasonNote(5, 'unavailable', why),
  ];
  return {
    action: 'unavailable',
    steps: traceLines(notes),
    reasons: [why],
    notes,
    targets: [],
    unavailableReason: why,
  };
}

export function computeTargets(input: TargetsInput): ModelTargets {
  const ctx = buildModelContext(input);
  const decided: StageResult | Unavailable = atZero(ctx) ?? holdOnBadData(ctx) ?? withData(ctx);
  if (decided.action === 'unavailable') return unavailableTargets(ctx, decided.reason);
  const result = keepFloor(ctx, applyBounds(ctx.states, decided));
  const notes = withAnalysisNotes(ctx, result.notes);
  const reasons = modelReasons(notes);
  const targets: VariantTarget[] = ctx.states.map((s) => ({
    variantKey: s.variant.key,
    current: s.current,
    desired: result.desired.get(s.variant.key) ?? 0,
    reasons: [...reasons, ...variantReasons(notes, s.variant.key)],
    clamp: result.clamps.get(s.variant.key),
  }));
  return {
    action: result.action,
    steps: traceLines(notes),
    reasons,
    notes,
    targets,
    unavailableReason: undefined,
    capacities: result.capacities,
  };
}
