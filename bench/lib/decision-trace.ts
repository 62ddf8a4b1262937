/**
 * The decision trace: every decision the engine takes in the quality bench's closed loop, on every
 * scenario, seed and pod start-up, with every policy row's figures, as one canonical JSON. Two
 * traces of code that decides the same compare equal; `compareTraces` names the first differences.
 *
 * What is compared exactly: per engine decision its time, action, each variant's current and
 * desired replicas and clamp, and the notes' structured codes (when both traces have them); per
 * policy row the bench's figures and a digest of its cycles (replicas, metric value). Reason and
 * step texts (and the policies' trace notes) are kept as digests and compared unless told not to:
 * a change may reword a reason without deciding differently.
 */
import { createHash } from 'node:crypto';
import type { ModelOutcome } from '../../src/engine/model-decision.js';
import type { Note } from '../../src/engine/notes.js';
import { runPolicy, type CycleRecord, type RunResult } from './quality-loop.js';
import { EnginePolicy, type ScalingPolicy } from './quality-policies.js';
import {
  DEFAULT_SEEDS,
  DEFAULT_SWEEP_STARTUPS_S,
  SCENARIOS,
  decisionConfig,
  policyRows,
  settingsFor,
} from './quality-scenarios.js';

export const TRACE_VERSION = 1;

/** Which runs to trace; the default is every scenario x seed x start-up the bench knows. */
export interface TraceSelection {
  readonly scenarios: readonly string[];
  readonly seeds: readonly number[];
  readonly startupsS: readonly number[];
  /** Only the engine's own row (no baselines, oracles or cron rows): the fast subset the unit test runs. */
  readonly engineOnly: boolean;
}

export const FULL_SELECTION: TraceSelection = {
  scenarios: SCENARIOS.map((s) => s.id),
  seeds: Array.from({ length: DEFAULT_SEEDS }, (_, i) => i + 1),
  startupsS: DEFAULT_SWEEP_STARTUPS_S,
  engineOnly: false,
};

/**
 * One engine decision: [time ms, action, [variant key, current, desired, clamp or null][], its
 * note codes (an index into its run's `codes`; null from an engine without them), texts digest].
 */
export type TracedDecision = readonly [
  number,
  string,
  readonly (readonly [string, number, number, string | null])[],
  number | null,
  string,
];

export interface TracedRun {
  readonly scenario: string;
  readonly seed: number;
  readonly startupS: number;
  readonly policy: string;
  readonly figures: Readonly<Record<string, number>>;
  /** Digest of the cycles' numbers (current, ready, waiting, desired, value, target). */
  readonly cycles: string;
  /** Digest of the cycles' notes (text). */
  readonly notes: string;
  /** Engine rows only. */
  readonly decisions?: readonly TracedDecision[];
  /**
   * The distinct note-code lists of the run's decisions ("<step>.<code>[@variant]", space-separated):
   * few, and long.
   */
  readonly codes?: readonly string[];
}

export interface DecisionTrace {
  readonly version: number;
  readonly selection: TraceSelection;
  readonly runs: readonly TracedRun[];
}

const digest = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** A note's code as traced: "<step>.<code>", and "@<variant key>" for a variant's own reason. */
const codeOf = (n: Note): string => `${n.step}.${n.code}${n.variantKey !== undefined ? `@${n.variantKey}` : ''}`;

/** A decision as traced; `codeTable` collects its run's distinct code lists. */
function traced(now: number, outcome: ModelOutcome, codeTable: string[]): TracedDecision {
  const t = outcome.targets;
  const variants = t.targets.map((v) => [v.variantKey, v.current, v.desired, v.clamp ?? null] as const);
  const texts = digest([t.reasons, t.steps, t.unavailableReason ?? null, outcome.decisions.map((d) => d.reasons)]);
  const codes = t.notes.map(codeOf).join(' ');
  let index = codeTable.indexOf(codes);
  if (index < 0) index = codeTable.push(codes) - 1;
  return [now, t.action, variants, index, texts];
}

function figuresOf(r: RunResult): Record<string, number> {
  return {
    replicaMinutes: r.replicaMinutes,
    overBudgetMinutes: r.overBudgetMinutes,
    p95WaitMs: r.p95WaitMs,
    maxWaitMs: r.maxWaitMs,
    meanWaitMs: r.meanWaitMs,
    peakQueue: r.peakQueue,
    peakReplicas: r.peakReplicas,
    arrivals: r.arrivals,
    completed: r.completed,
  };
}

const cycleNumbers = (cycles: readonly CycleRecord[]): number[][] =>
  cycles.map((c) => [c.atMs, c.current, c.ready, c.waiting, c.desired, c.value, c.target]);

/**
 * One policy row on one run. The loop makes the policy three times (two passes and its name): each
 * engine instance records its own stream, and both passes must have decided the same.
 */
function traceRow(
  make: (record: (now: number, outcome: ModelOutcome) => void) => ScalingPolicy,
  run: { scenario: string; seed: number; startupS: number },
  settings: Parameters<typeof runPolicy>[1],
): TracedRun {
  const streams: TracedDecision[][] = [];
  const codes: string[] = [];
  const result = runPolicy(() => {
    const stream: TracedDecision[] = [];
    streams.push(stream);
    return make((now, outcome) => stream.push(traced(now, outcome, codes)));
  }, settings);
  const [first, second] = streams;
  const isEngine = first !== undefined && first.length > 0;
  if (isEngine && digest(first) !== digest(second))
    throw new Error(`decision trace: the two passes of ${result.policy} decided differently on ${JSON.stringify(run)}`);
  return {
    ...run,
    policy: result.policy,
    figures: figuresOf(result),
    cycles: digest(cycleNumbers(result.cycles)),
    notes: digest(result.cycles.map((c) => c.note)),
    ...(isEngine ? { decisions: first, codes } : {}),
  };
}

/** Runs every selected scenario x seed x start-up and records it. */
export function traceDecisions(selection: TraceSelection): DecisionTrace {
  const runs: TracedRun[] = [];
  for (const sc of SCENARIOS.filter((s) => selection.scenarios.includes(s.id))) {
    for (const seed of selection.seeds) {
      for (const startupS of selection.startupsS) {
        const settings = settingsFor(sc, seed, startupS * 1000);
        const run = { scenario: sc.id, seed, startupS };
        // A row is built from a policy factory; engine rows get a recorder through `makeEngine`.
        let record: ((now: number, outcome: ModelOutcome) => void) | undefined;
        const makeEngine = (): ScalingPolicy => new EnginePolicy(decisionConfig, record);
        const rows = policyRows(sc.trace, startupS * 1000, makeEngine);
        for (const row of selection.engineOnly ? rows.slice(0, 1) : rows) {
          runs.push(
            traceRow(
              (r) => {
                record = r;
                return row();
              },
              run,
              settings,
            ),
          );
        }
      }
    }
  }
  return { version: TRACE_VERSION, selection, runs };
}

/** Canonical text: one run per line, so a diff of two files shows which runs changed. */
export function serializeTrace(t: DecisionTrace): string {
  return `{"version":${t.version},"selection":${JSON.stringify(t.selection)},"runs":[\n${t.runs.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;
}

export function parseTrace(text: string): DecisionTrace {
  const t = JSON.parse(text) as DecisionTrace;
  if (t.version !== TRACE_VERSION || !Array.isArray(t.runs))
    throw new Error(`not a decision trace of version ${TRACE_VERSION}`);
  return t;
}

const runKey = (r: Pick<TracedRun, 'scenario' | 'seed' | 'startupS' | 'policy'>): string =>
  `${r.scenario} seed ${r.seed} start-up ${r.startupS}s, ${r.policy}`;

export interface TraceComparison {
  /** Decisions, figures or cycles that differ: a behaviour change. */
  readonly decisionDiffs: readonly string[];
  /** Reason, step or note texts that differ while the decisions agree. */
  readonly textDiffs: readonly string[];
}

/** A decision's codes, resolved through its run's table; null when the trace has none. */
const codesAt = (run: TracedRun, d: TracedDecision): string | null =>
  d[3] === null ? null : (run.codes?.[d[3]] ?? null);

function compareDecision(
  key: string,
  i: number,
  runs: { was: TracedRun; now: TracedRun },
  out: { decisions: string[]; texts: string[] },
): void {
  const was = runs.was.decisions?.[i];
  const now = runs.now.decisions?.[i];
  if (!was || !now) {
    out.decisions.push(`${key}: decision ${i} ${was ? 'missing now' : 'new'}`);
    return;
  }
  const [t, action, variants, , texts] = now;
  const [wt, waction, wvariants, , wtexts] = was;
  const codes = codesAt(runs.now, now);
  const wcodes = codesAt(runs.was, was);
  const codesDiffer = codes !== null && wcodes !== null && codes !== wcodes;
  if (t !== wt || action !== waction || JSON.stringify(variants) !== JSON.stringify(wvariants) || codesDiffer) {
    out.decisions.push(
      `${key}: at ${t / 1000}s was ${JSON.stringify([waction, wvariants, wcodes])}, now ${JSON.stringify([action, variants, codes])}`,
    );
  } else if (texts !== wtexts)
    out.texts.push(
      `${key}: at ${t / 1000}s reasons/steps differ (action ${action}, notes ${codes ?? wcodes ?? 'uncoded'})`,
    );
}

/**
 * Every run of `current` against the same run of `baseline` (runs only in the baseline are ignored
 * unless `current` is the full selection).
 */
export function compareTraces(baseline: DecisionTrace, current: DecisionTrace): TraceComparison {
  const out = { decisions: [] as string[], texts: [] as string[] };
  const base = new Map(baseline.runs.map((r) => [runKey(r), r]));
  for (const r of current.runs) {
    const key = runKey(r);
    const b = base.get(key);
    base.delete(key);
    if (!b) {
      out.decisions.push(`${key}: not in the baseline`);
      continue;
    }
    for (const [name, value] of Object.entries(r.figures)) {
      if (b.figures[name] !== value) out.decisions.push(`${key}: ${name} was ${b.figures[name]}, now ${value}`);
    }
    if (b.cycles !== r.cycles) out.decisions.push(`${key}: the cycles (replicas, metric values) differ`);
    if (b.notes !== r.notes) out.texts.push(`${key}: the cycles' notes differ`);
    const n = Math.max(b.decisions?.length ?? 0, r.decisions?.length ?? 0);
    for (let i = 0; i < n; i++) compareDecision(key, i, { was: b, now: r }, out);
  }
  if (JSON.stringify(current.selection) === JSON.stringify(FULL_SELECTION))
    for (const key of base.keys()) out.decisions.push(`${key}: missing now`);
  return { decisionDiffs: out.decisions, textDiffs: out.texts };
}
