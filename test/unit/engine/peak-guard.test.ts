/**
 * Issue 20, "no scale-up from 1-minute peaks alone once the load has fallen": the demo's idle +1.
 * In `npm run demo` the idle phase after the burst (1 req/s, 7 replicas at <= 5 % KV) still read
 * every replica as saturated by its 1-minute peaks, and DESIGN's "at least +1" bought an H100
 * replica on no load. These cases replay that moment through decideModel, cycle by cycle as the
 * Engine runs it (previous decisions and state carried over), with the demo's 2 s interval.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_FEATURES, type EngineFeatures } from '../../../src/domain/engine-features.js';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import type { Variant } from '../../../src/domain/variant.js';
import type { NoteCode } from '../../../src/engine/notes.js';
import { NOW, metrics, replica, state, variant } from './fixtures.js';
import { desiredTotal, reasonsOf, runSeries, type Cycle } from './series.js';

const a100 = variant('llama-8b-a100', { cost: 6, maxReplicas: 4 });
const h100 = variant('llama-8b-h100', { cost: 10, maxReplicas: 6 });
const STATES = [state(a100, 4), state(h100, 3)];
const SERVICE_S = 2;

interface Load {
  /** Requests running on each replica now (completions = running / SERVICE_S). */
  readonly running: number;
  /** The latest KV and queue samples; undefined = the collector has none. */
  readonly kvNow: number | undefined;
  readonly queueNow: number | undefined;
  /** 1-minute peaks (the burst is still inside the window). */
  readonly kvPeak: number;
  readonly queuePeak: number;
}

function fleet(load: Load): ReplicaMetrics[] {
  const one = (v: Variant, i: number): ReplicaMetrics => ({
    ...replica(v, i, load.kvPeak, load.queuePeak, load.running, undefined, SERVICE_S),
    kvCacheUsageNow: load.kvNow,
    queueLengthNow: load.queueNow,
  });
  return [...[0, 1, 2, 3].map((i) => one(a100, i)), ...[0, 1, 2].map((i) => one(h100, i))];
}

/** `seconds` of cycles every 2 s from `from` (s after NOW), all with the same load. */
function phase(from: number, seconds: number, load: Load): Cycle[] {
  return Array.from({ length: seconds / 2 }, (_, i) => {
    const at = NOW + (from + 2 * i) * 1000;
    return { at, states: STATES, metrics: metrics(fleet(load), { collectedAt: at - 1000 }) };
  });
}

const STEADY: Load = { running: 4, kvNow: 0.2, queueNow: 0, kvPeak: 0.85, queuePeak: 6 };
const IDLE: Load = { running: 0.3, kvNow: 0.05, queueNow: 0, kvPeak: 0.85, queuePeak: 6 };

interface Row {
  readonly name: string;
  readonly cycles: readonly Cycle[];
  readonly features?: EngineFeatures;
  /** Every decision of the last `window` cycles asks for at most 7 (no scale-up) or more (a scale-up). */
  readonly scaleUp: boolean;
  readonly window: number;
  readonly code: NoteCode;
}

const GUARD_OFF: EngineFeatures = { ...DEFAULT_ENGINE_FEATURES, peakGuard: false };

describe('peak guard: no scale-up from 1-minute peaks alone once the load has fallen', () => {
  it.each<Row>([
    {
      name: "the demo's idle phase after the burst: no replica bought on no load",
      cycles: [...phase(0, 40, STEADY), ...phase(40, 30, IDLE)],
      scaleUp: false,
      window: 15,
      code: 'peak-only',
    },
    {
      name: 'the same moment with the guard off scales up (the bug as it was)',
      cycles: [...phase(0, 40, STEADY), ...phase(40, 30, IDLE)],
      features: GUARD_OFF,
      scaleUp: true,
      window: 15,
      code: 'scale-up',
    },
    {
      name: 'saturated now: the scale-up goes on and says so',
      cycles: phase(0, 20, { running: 8, kvNow: 0.85, queueNow: 6, kvPeak: 0.9, queuePeak: 8 }),
      scaleUp: true,
      window: 1,
      code: 'saturated-now',
    },
    {
      name: 'saturated by the peaks only, but the load holds: the scale-up goes on and says so',
      cycles: phase(0, 40, STEADY),
      scaleUp: true,
      window: 1,
      code: 'saturated-by-peak',
    },
  ])('$name', (row) => {
    const outcomes = runSeries(row.cycles, row.features);
    const last = outcomes.slice(-row.window);
    for (const o of last) expect(desiredTotal(o) > 7, reasonsOf(o)).toBe(row.scaleUp);
    const final = outcomes.at(-1);
    if (!final) throw new Error('no outcome');
    expect(
      final.targets.notes.map((n) => n.code),
      reasonsOf(final),
    ).toContain(row.code);
  });

  it('the load fell but the current samples are missing: the peaks decide as before', () => {
    const noNow: Load = { ...IDLE, kvNow: undefined, queueNow: undefined };
    const outcomes = runSeries([...phase(0, 40, STEADY), ...phase(40, 30, noNow)]);
    const final = outcomes.at(-1);
    if (!final) throw new Error('no outcome');
    expect(desiredTotal(final), reasonsOf(final)).toBeGreaterThan(7);
    expect(final.targets.notes.map((n) => n.code)).not.toContain('peak-only');
  });

  it('the load fell while the queue grows: the scale-up goes on', () => {
    const growing = (from: number, n: number): Cycle[] =>
      phase(from, 2 * n, IDLE).map((c, i) => ({
        ...c,
        metrics: metrics(
          fleet(IDLE).map((r) => ({ ...r, queueLength: 6 + i, queueLengthNow: 0 })),
          { collectedAt: c.at - 1000 },
        ),
      }));
    const outcomes = runSeries([...phase(0, 40, STEADY), ...growing(40, 15)]);
    const final = outcomes.at(-1);
    if (!final) throw new Error('no outcome');
    expect(
      final.targets.notes.map((n) => n.code),
      reasonsOf(final),
    ).not.toContain('peak-only');
    expect(desiredTotal(final)).toBeGreaterThan(7);
  });
});
