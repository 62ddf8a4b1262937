import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareTraces, parseTrace, traceDecisions } from '../../../bench/lib/decision-trace.js';

const BASELINE = new URL('../../../bench/data/decisions-baseline.json', import.meta.url);

// The fast subset of `npm run bench:decisions -- --compare bench/data/decisions-baseline.json`: a
// decision the engine takes differently in these runs fails here before the full comparison runs.
// The token-level fleet simulates every request's tokens: a 30-minute scenario takes seconds, hence the timeout.
describe('decision trace against the committed baseline', () => {
  it.each([
    { name: 'primary and flow-control at a 60 s start-up', scenarios: ['primary', 'flow-control'], startupsS: [60] },
    { name: 'ramped-example-hpa at a 10 s start-up', scenarios: ['ramped-example-hpa'], startupsS: [10] },
  ])(
    '$name, seed 1: the same decisions',
    ({ scenarios, startupsS }) => {
      const current = traceDecisions({ scenarios, seeds: [1], startupsS, engineOnly: true });
      const { decisionDiffs, textDiffs } = compareTraces(parseTrace(readFileSync(BASELINE, 'utf8')), current);
      expect(decisionDiffs).toEqual([]);
      expect(textDiffs).toEqual([]);
    },
    120_000,
  );
});
