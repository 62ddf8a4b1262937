import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ReplicaMetrics } from '../../../src/domain/metrics.js';
import { sparePairProblems, type SaturationOverrides } from '../../../src/domain/saturation.js';
import { EMPTY_SATURATION_CONFIG, type SaturationConfig } from '../../../src/config/saturation-config.js';
import type { Variant } from '../../../src/domain/variant.js';
import { NOW, decide, metrics, prev, replica, state, variant, type Scenario } from './fixtures.js';

const clamp = (n: number, v: Variant): number => Math.min(v.maxReplicas, Math.max(v.minReplicas, n));

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 4 });

/**
 * Threshold overrides on a grid (KV in hundredths, queue whole), any field often absent, and pairs
 * as often broken (trigger >= threshold, thresholds of 0) as not: what the loaders let through and
 * what they would refuse, because the engine must cope with both.
 */
const overridesArb: fc.Arbitrary<SaturationOverrides> = fc
  .record({
    kvCacheThreshold: maybe(fc.integer({ min: 0, max: 100 }).map((n) => n / 100)),
    queueLengthThreshold: maybe(fc.integer({ min: 0, max: 8 })),
    kvSpareTrigger: maybe(fc.integer({ min: 0, max: 100 }).map((n) => n / 100)),
    queueSpareTrigger: maybe(fc.integer({ min: 0, max: 8 })),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as SaturationOverrides);

const saturationArb: fc.Arbitrary<SaturationConfig> = overridesArb.map((defaults) => ({
  ...EMPTY_SATURATION_CONFIG,
  defaults,
}));

/** 1-4 variants with min/max, costs that often tie, current (can exceed max) and ready <= current. */
const variantsArb = fc
  .array(
    fc.record({
      cost: fc.integer({ min: 1, max: 3 }),
      min: fc.integer({ min: 0, max: 3 }),
      span: fc.integer({ min: 0, max: 6 }),
      current: fc.integer({ min: 0, max: 8 }),
      pending: fc.integer({ min: 0, max: 2 }),
      previous: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
      stz: fc.option(fc.boolean(), { nil: undefined }),
      saturation: fc.oneof(fc.constant({}), overridesArb),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((rows) =>
    rows.map((r, i) => {
      const v = variant(`v${i}`, {
        cost: r.cost,
        minReplicas: r.min,
        maxReplicas: r.min + r.span,
        scaleToZero: r.stz,
        saturation: r.saturation,
      });
      return {
        v,
        current: r.current,
        ready: Math.max(0, r.current - r.pending),
        previous: r.previous === undefined ? undefined : prev(v, clamp(r.previous, v)),
      };
    }),
  );

const replicaValues = fc.record({
  kv: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
  queue: maybe(fc.integer({ min: 0, max: 30 })),
  running: maybe(fc.integer({ min: 0, max: 10 })),
});

type Built = ReturnType<typeof variantsArb extends fc.Arbitrary<infer T> ? () => T : never>;

function replicasFor(
  vs: Built,
  values: { kv: number | undefined; queue: number | undefined; running: number | undefined }[],
): ReplicaMetrics[] {
  const out: ReplicaMetrics[] = [];
  let k = 0;
  for (const { v, ready } of vs) {
    for (let i = 0; i < ready; i++) {
      const val = values[k++ % Math.max(1, values.length)];
      if (val) out.push(replica(v, i, val.kv, val.queue, val.running));
    }
  }
  return out;
}

const scenarioArb = fc.record({
  vs: variantsArb,
  values: fc.array(replicaValues, { minLength: 1, maxLength: 12 }),
  ageMs: fc.integer({ min: 0, max: 600_000 }),
  metricsMissing: fc.boolean(),
  requestsOverRetention: maybe(fc.integer({ min: 0, max: 3 })),
  gatewayQueue: maybe(fc.integer({ min: 0, max: 3 })),
  scaleToZero: fc.boolean(),
  rate: fc.constantFrom(1, 1.5, 2, 4),
  saturation: fc.oneof(fc.constant(EMPTY_SATURATION_CONFIG), saturationArb),
});

type ScenarioInput = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function scenarioOf(s: ScenarioInput): Scenario {
  return {
    states: s.vs.map((x) => state(x.v, x.current, x.ready)),
    metrics: s.metricsMissing
      ? undefined
      : metrics(replicasFor(s.vs, s.values), {
          collectedAt: NOW - s.ageMs,
          requestsOverRetention: s.requestsOverRetention,
          gatewayQueue: s.gatewayQueue,
        }),
    previous: s.vs.flatMap((x) => (x.previous ? [x.previous] : [])),
    scaleToZero: s.scaleToZero,
    maxScaleUpRate: s.rate,
    saturation: s.saturation,
  };
}

describe('properties', () => {
  it('targets are whole numbers within [min, max] of each variant, for any thresholds', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const out = decide(scenarioOf(s));
        for (const d of out.decisions) {
          const v = s.vs.find((x) => x.v.key === d.variantKey)?.v as Variant;
          expect(d.desiredReplicas).toBeGreaterThanOrEqual(v.minReplicas);
          expect(d.desiredReplicas).toBeLessThanOrEqual(v.maxReplicas);
          expect(Number.isInteger(d.desiredReplicas)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('thresholds with a spare trigger not below its threshold never scale up or down on saturation', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const out = decide(scenarioOf(s));
        const broken = sparePairProblems(out.analysis.thresholds).length > 0;
        expect(out.analysis.thresholdProblem !== undefined).toBe(broken);
        if (!broken) return;
        expect(out.analysis.scaleUpNeeded).toBe(false);
        expect(['scale-up', 'scale-down']).not.toContain(out.targets.action);
        // Holding means the previous decision (else current), within min/max; or the one-replica floor.
        if (out.targets.action !== 'hold') return;
        for (const d of out.decisions) {
          const x = s.vs.find((y) => y.v.key === d.variantKey);
          if (!x) throw new Error('decision for an unknown variant');
          expect(d.desiredReplicas, d.reasons.join(' | ')).toBe(clamp(x.previous?.desiredReplicas ?? x.current, x.v));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('an idle model never scales up, whatever its thresholds', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const idle = {
          ...s,
          metricsMissing: false,
          ageMs: Math.min(s.ageMs, 59_000),
          gatewayQueue: 0,
          values: [{ kv: 0, queue: 0, running: 0 }],
        };
        const out = decide(scenarioOf(idle));
        expect(out.targets.action, out.targets.reasons.join(' | ')).not.toBe('scale-up');
      }),
      { numRuns: 2000 },
    );
  });

  it('no scale-down ever on missing or stale data', () => {
    const defect = fc.constantFrom('no-metrics', 'stale', 'unavailable', 'partial-value', 'not-reporting', 'no-series');
    fc.assert(
      fc.property(
        scenarioArb,
        defect,
        fc.integer({ min: 60_000, max: 299_999 }),
        fc.integer({ min: 300_000, max: 3_600_000 }),
        (s, kind, staleAge, deadAge) => {
          let reps = replicasFor(s.vs, s.values);
          let collectedAt = NOW - Math.min(s.ageMs, 59_000);
          if (kind === 'stale') collectedAt = NOW - staleAge;
          if (kind === 'unavailable') collectedAt = NOW - deadAge;
          if (kind === 'partial-value' && reps.length > 0)
            reps = [{ ...(reps[0] as ReplicaMetrics), kvCacheUsage: undefined }, ...reps.slice(1)];
          if (kind === 'not-reporting') reps = reps.slice(1);
          if (kind === 'no-series') reps = [];
          const scenario: Scenario = {
            states: s.vs.map((x) => state(x.v, x.current, x.ready)),
            metrics:
              kind === 'no-metrics'
                ? undefined
                : metrics(reps, {
                    collectedAt,
                    requestsOverRetention: s.requestsOverRetention,
                    gatewayQueue: s.gatewayQueue,
                    seenModelNames: ['other/model'],
                  }),
            previous: s.vs.flatMap((x) => (x.previous ? [x.previous] : [])),
            scaleToZero: s.scaleToZero,
            maxScaleUpRate: s.rate,
            saturation: s.saturation,
          };
          const out = decide(scenario);
          // Partial data decides from the current replicas; no usable data (or unusable thresholds)
          // holds the previous decision.
          const holdsPrevious =
            out.analysis.dataQuality === 'none' ||
            out.analysis.freshness !== 'fresh' ||
            out.analysis.thresholdProblem !== undefined;
          for (const d of out.decisions) {
            const x = s.vs.find((y) => y.v.key === d.variantKey);
            if (!x) throw new Error('decision for an unknown variant');
            const baseline = holdsPrevious ? (x.previous?.desiredReplicas ?? x.current) : x.current;
            expect(d.desiredReplicas, `${kind}: ${d.reasons.join(' | ')}`).toBeGreaterThanOrEqual(clamp(baseline, x.v));
          }
          expect(out.targets.action).not.toBe('scale-down');
          expect(out.targets.action).not.toBe('scale-to-zero');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
