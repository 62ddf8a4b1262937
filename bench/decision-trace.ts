/**
 * bench/decision-trace.ts (`npm run bench:decisions`): the behaviour-preservation check. Runs every
 * quality-bench scenario x seed x pod start-up, records each engine decision and every policy
 * row's figures (bench/lib/decision-trace.ts), and saves or compares the canonical JSON.
 *
 * Options: --save FILE, --compare FILE (exit 1 on any difference, printing the first ones),
 * --ignore-texts (with --compare: reworded reasons alone do not fail), --scenarios a,b,
 * --seeds 1,2, --startups 10,60, --engine-only, --max-diffs N (default 20).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  FULL_SELECTION,
  compareTraces,
  parseTrace,
  serializeTrace,
  traceDecisions,
  type TraceSelection,
} from './lib/decision-trace.js';

const argv = process.argv.slice(2);
const valueOf = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} expects a value`);
  return v;
};
const listOf = (name: string): string[] | undefined => valueOf(name)?.split(',');
const numbersOf = (name: string): number[] | undefined => {
  const xs = listOf(name)?.map(Number);
  if (xs?.some((x) => !Number.isInteger(x) || x <= 0))
    throw new Error(`--${name} expects positive integers separated by commas`);
  return xs;
};

const selection: TraceSelection = {
  scenarios: listOf('scenarios') ?? FULL_SELECTION.scenarios,
  seeds: numbersOf('seeds') ?? FULL_SELECTION.seeds,
  startupsS: numbersOf('startups') ?? FULL_SELECTION.startupsS,
  engineOnly: argv.includes('--engine-only'),
};
const unknown = selection.scenarios.filter((s) => !FULL_SELECTION.scenarios.includes(s));
if (unknown.length > 0)
  throw new Error(`unknown scenario(s) ${unknown.join(', ')}; expected some of ${FULL_SELECTION.scenarios.join(', ')}`);
const saveTo = valueOf('save');
const compareWith = valueOf('compare');
const maxDiffs = Number(valueOf('max-diffs') ?? 20);

const started = performance.now();
const trace = traceDecisions(selection);
const decisions = trace.runs.reduce((n, r) => n + (r.decisions?.length ?? 0), 0);
console.log(
  `${trace.runs.length} policy runs, ${decisions} engine decisions in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
if (saveTo) {
  writeFileSync(saveTo, serializeTrace(trace));
  console.log(`saved ${saveTo}`);
}
if (compareWith) {
  const { decisionDiffs, textDiffs } = compareTraces(parseTrace(readFileSync(compareWith, 'utf8')), trace);
  const ignoreTexts = argv.includes('--ignore-texts');
  const show = (title: string, diffs: readonly string[]): void => {
    if (diffs.length === 0) return;
    console.log(`${title}: ${diffs.length}`);
    for (const d of diffs.slice(0, maxDiffs)) console.log(`  ${d}`);
    if (diffs.length > maxDiffs) console.log(`  ... ${diffs.length - maxDiffs} more`);
  };
  show('DECISIONS DIFFER', decisionDiffs);
  show(ignoreTexts ? 'texts differ (ignored)' : 'TEXTS DIFFER', textDiffs);
  const failed = decisionDiffs.length > 0 || (!ignoreTexts && textDiffs.length > 0);
  console.log(
    failed
      ? `differs from ${compareWith}`
      : `identical to ${compareWith}${textDiffs.length > 0 ? ' (but for texts)' : ''}`,
  );
  process.exitCode = failed ? 1 : 0;
}
