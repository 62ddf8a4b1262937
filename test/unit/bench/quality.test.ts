import { describe, expect, it } from 'vitest';
import { EMPTY_SATURATION_CONFIG } from '../../../src/config/saturation-config.js';
import { DEFAULT_SATURATION } from '../../../src/domain/saturation.js';
import type { ModelMetrics } from '../../../src/domain/metrics.js';
import { analyzeModel, type VariantState } from '../../../src/engine/saturation-analyzer.js';
import { parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';
import type { FleetModelSnapshot } from '../../../src/sim/fleet/types.js';
import { averageValueReplicas, HpaEmulator, kubernetesDefaultHpa } from '../../../bench/lib/quality-hpa.js';
import { countOverBudget, runPolicy, type LoopSettings } from '../../../bench/lib/quality-loop.js';
import { irate, ScrapeHistory } from '../../../bench/lib/quality-observer.js';
import {
  applyWvaStep,
  EnginePolicy,
  KedaWaitingPolicy,
  OraclePolicy,
  WithCronTrigger,
  wvaRule,
} from '../../../bench/lib/quality-policies.js';
import { dominates, evaluateTargets, reachability } from '../../../bench/lib/quality-targets.js';
import {
  BURSTY_TRACE,
  peakRateWithin,
  peakSchedule,
  rateAt,
  type LoadTrace,
} from '../../../bench/lib/quality-trace.js';

const NS = 'ns';
const MODEL = 'm';
const variant = (name: string, cost: number, min = 1, max = 16) =>
  parseTriggerMetadata(NS, name, {
    modelID: MODEL,
    variantCost: String(cost),
    minReplicas: String(min),
    maxReplicas: String(max),
  });

function metrics(pods: { kv: number; queue: number }[], now = 0): ModelMetrics {
  return {
    namespace: NS,
    modelID: MODEL,
    replicas: pods.map((p, i) => ({
      namespace: NS,
      modelID: MODEL,
      pod: `p${i}`,
      variantKey: `${NS}/a`,
      kvCacheUsage: p.kv,
      queueLength: p.queue,
      running: 1,
      requestRate: undefined,
      serviceSeconds: undefined,
    })),
    requestsOverRetention: undefined,
    gatewayQueue: 0,
    collectedAt: now,
    seenModelNames: [MODEL],
  };
}

function analysis(pods: { kv: number; queue: number }[], current: number, ready: number) {
  const v = variant('a', 10);
  return analyzeModel({
    namespace: NS,
    modelID: MODEL,
    variants: [{ variant: v, current, ready }],
    metrics: metrics(pods),
    thresholdsByVariant: new Map([[v.key, DEFAULT_SATURATION]]),
    modelThresholds: DEFAULT_SATURATION,
    now: 0,
  });
}

describe('HPA emulation', () => {
  it('AverageValue: ceil(value / target) outside the tolerance, current inside it', () => {
    expect(averageValueReplicas(23, 5, 2, 0.1)).toBe(5);
    expect(averageValueReplicas(12, 1, 10, 0.1)).toBe(12);
    // 9 / 10 = 0.9: within the default 10 % tolerance, the -1 is swallowed.
    expect(averageValueReplicas(9, 1, 10, 0.1)).toBe(10);
    expect(averageValueReplicas(9, 1, 10, 0)).toBe(9);
    expect(averageValueReplicas(4, 1, 5, 0.1)).toBe(4);
    expect(() => averageValueReplicas(1, 0, 1, 0.1)).toThrow(/target/);
  });

  it('scale-down waits for the stabilization window (highest recommendation in it wins)', () => {
    const hpa = new HpaEmulator(kubernetesDefaultHpa(1, 20));
    expect(hpa.sync(0, 8, 8, 1)).toBe(8);
    expect(hpa.sync(15_000, 8, 2, 1)).toBe(8);
    expect(hpa.sync(299_000, 8, 2, 1)).toBe(8);
    // The recommendation of 8 made at t=0 leaves the 300 s window.
    expect(hpa.sync(300_000, 8, 2, 1)).toBe(2);
  });

  it('scale-up is limited per period to max(+4 pods, +100 %) and clamped to max', () => {
    const hpa = new HpaEmulator(kubernetesDefaultHpa(1, 20));
    expect(hpa.sync(0, 1, 500, 5)).toBe(5);
    expect(hpa.sync(15_000, 5, 500, 5)).toBe(10);
    expect(hpa.sync(30_000, 10, 500, 5)).toBe(20);
    expect(new HpaEmulator(kubernetesDefaultHpa(1, 3)).sync(0, 1, 0, 5)).toBe(1);
  });

  it('several metrics (one per trigger): each proposes a count with its own tolerance and the highest wins', () => {
    const hpa = new HpaEmulator(kubernetesDefaultHpa(1, 20));
    // A cron trigger asking for 7 (target 1) beats a waiting-queue trigger asking for ceil(12 / 5) = 3.
    expect(
      hpa.syncMetrics(0, 2, [
        { value: 12, target: 5 },
        { value: 7, target: 1 },
      ]),
    ).toBe(6); // +4 pods per period from 2
    expect(
      hpa.syncMetrics(15_000, 6, [
        { value: 12, target: 5 },
        { value: 7, target: 1 },
      ]),
    ).toBe(7);
    // 10.5 / 10 is within the 10 % tolerance (proposes 10), but 14 / 10 is not: 14 wins.
    expect(
      new HpaEmulator(kubernetesDefaultHpa(1, 20)).syncMetrics(0, 10, [
        { value: 10.5, target: 1 },
        { value: 14, target: 1 },
      ]),
    ).toBe(14);
    // One metric inside its tolerance (9.5 / 10 proposes 10) outweighs another asking for 1: no scale-down.
    expect(
      new HpaEmulator(kubernetesDefaultHpa(1, 20)).syncMetrics(0, 10, [
        { value: 9.5, target: 1 },
        { value: 1, target: 1 },
      ]),
    ).toBe(10);
    expect(() => hpa.syncMetrics(30_000, 7, [])).toThrow(/at least one metric/);
  });
});

describe("WVA's +1/-1 rule", () => {
  it('holds while a replica is pending, even when saturated', () => {
    expect(wvaRule(analysis([{ kv: 0.9, queue: 10 }], 2, 1)).step).toBe('hold');
  });

  it('adds one when every replica is saturated', () => {
    expect(
      wvaRule(
        analysis(
          [
            { kv: 0.9, queue: 10 },
            { kv: 0.85, queue: 6 },
          ],
          2,
          2,
        ),
      ).step,
    ).toBe('up');
  });

  it('removes one only when it is safe', () => {
    expect(
      wvaRule(
        analysis(
          [
            { kv: 0.1, queue: 0 },
            { kv: 0.1, queue: 0 },
          ],
          2,
          2,
        ),
      ).step,
    ).toBe('down');
    // With one fewer replica the KV spare would be 0.8 - 1.4 / 1 < 0.1.
    expect(
      wvaRule(
        analysis(
          [
            { kv: 0.7, queue: 0 },
            { kv: 0.7, queue: 0 },
          ],
          2,
          2,
        ),
      ).step,
    ).not.toBe('down');
    expect(wvaRule(analysis([{ kv: 0.1, queue: 0 }], 1, 1)).step).toBe('hold');
  });

  it('adds to the cheapest variant below max and removes from the most expensive, keeping one replica', () => {
    const cheap = variant('cheap', 5, 0, 2);
    const dear = variant('dear', 20, 0, 8);
    const states: VariantState[] = [
      { variant: dear, current: 1, ready: 1 },
      { variant: cheap, current: 2, ready: 2 },
    ];
    expect(applyWvaStep('up', states).get(dear.key)).toBe(2);
    expect(applyWvaStep('down', states).get(dear.key)).toBe(0);
    const one: VariantState[] = [
      { variant: cheap, current: 1, ready: 1 },
      { variant: dear, current: 0, ready: 0 },
    ];
    expect(applyWvaStep('down', one).get(cheap.key)).toBe(1);
  });
});

describe('what the policies observe', () => {
  const snap = (
    pods: { pod: string; ready: boolean; waiting: number; kv: number; completed?: number; inferenceSeconds?: number }[],
  ): FleetModelSnapshot => ({
    namespace: NS,
    modelID: MODEL,
    arrivalRate: 0,
    arrivals: 0,
    arrivalsTotal: 0,
    started: 0,
    completed: 0,
    requeued: 0,
    gatewayQueue: 0,
    running: 0,
    waiting: 0,
    waitP95Ms: undefined,
    waitMaxMs: 0,
    maxGatewayQueue: 0,
    maxQueue: 0,
    inflightTokens: 0,
    runningRequests: 0,
    gatewayQueuedTokens: 0,
    pods: pods.map((p) => ({
      pod: p.pod,
      deployment: 'a',
      ready: p.ready,
      running: 1,
      waiting: p.waiting,
      kvUsage: p.kv,
      completed: p.completed ?? 0,
      inferenceSeconds: p.inferenceSeconds ?? 0,
      accelerator: 'H100' as const,
      kvBlocksUsed: 0,
      numGpuBlocks: 1000,
      blockSize: 16,
      waitingPromptTokens: 0,
      runningTokens: 0,
      preemptions: 0,
      promptTokensTotal: 0,
      generationTokensTotal: 0,
    })),
  });

  it.each([
    { case: 'one sample: nothing to rate (missing, never 0)', samples: [{ at: 0, total: 5 }], now: 0, want: undefined },
    {
      case: 'the last two samples',
      samples: [
        { at: 0, total: 5 },
        { at: 15_000, total: 35 },
        { at: 30_000, total: 50 },
      ],
      now: 30_000,
      want: 1,
    },
    {
      case: 'nothing arrived: a measured 0',
      samples: [
        { at: 0, total: 5 },
        { at: 15_000, total: 5 },
      ],
      now: 15_000,
      want: 0,
    },
    {
      case: 'the older sample out of the window',
      samples: [
        { at: 0, total: 5 },
        { at: 60_000, total: 65 },
      ],
      now: 60_000,
      want: undefined,
    },
  ])("the gateway's arrivals as irate() of its request counter: $case", ({ samples, now, want }) => {
    expect(irate(samples, now, 60_000)).toBe(want);
  });

  it("hands the engine the gateway's arrivals over the last two scrapes, through a stats reset", () => {
    const h = new ScrapeHistory();
    const at = (total: number, arrivals: number): FleetModelSnapshot => ({
      ...snap([]),
      arrivalsTotal: total,
      arrivals,
    });
    h.scrape(at(10, 10), 0);
    expect(h.modelMetrics(at(10, 10), 0, () => 'ns/a').gatewayArrivalRate).toBeUndefined();
    // The bench reset its statistics (arrivals 0 again); the gateway's counter went on.
    h.scrape(at(40, 3), 15_000);
    expect(h.modelMetrics(at(40, 3), 15_000, () => 'ns/a').gatewayArrivalRate).toBe(2);
  });

  it('peak over the last minute for the engine, latest sample for KEDA, pending and removed pods absent', () => {
    const h = new ScrapeHistory();
    h.scrape(
      snap([
        { pod: 'x', ready: true, waiting: 9, kv: 0.9 },
        { pod: 'y', ready: false, waiting: 0, kv: 0 },
      ]),
      0,
    );
    h.scrape(
      snap([
        { pod: 'x', ready: true, waiting: 1, kv: 0.2 },
        { pod: 'y', ready: false, waiting: 0, kv: 0 },
      ]),
      30_000,
    );
    let m = h.modelMetrics(snap([]), 30_000, () => 'ns/a');
    expect(m.replicas.map((r) => [r.pod, r.kvCacheUsage, r.queueLength])).toEqual([['x', 0.9, 9]]);
    expect(h.sumWaitingLatest()).toBe(1);
    // At t = 60 s the t = 0 sample is out of (now - 1 m, now].
    h.scrape(
      snap([
        { pod: 'x', ready: true, waiting: 2, kv: 0.3 },
        { pod: 'y', ready: true, waiting: 4, kv: 0.5 },
      ]),
      60_000,
    );
    m = h.modelMetrics(snap([]), 60_000, () => 'ns/a');
    expect(m.replicas.map((r) => [r.pod, r.kvCacheUsage, r.queueLength])).toEqual([
      ['x', 0.3, 2],
      ['y', 0.5, 4],
    ]);
    expect(h.sumWaitingLatest()).toBe(6);
    h.scrape(snap([{ pod: 'y', ready: true, waiting: 0, kv: 0.1 }]), 75_000);
    expect(h.modelMetrics(snap([]), 75_000, () => 'ns/a').replicas.map((r) => r.pod)).toEqual(['y']);
  });

  it('completion rate as rate(...[1m]): counter increase over the window, none from a single sample', () => {
    const h = new ScrapeHistory();
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 100 }]), 0);
    expect(h.modelMetrics(snap([]), 0, () => 'ns/a').replicas[0]?.requestRate).toBeUndefined();
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 220 }]), 15_000);
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 340 }]), 30_000);
    expect(h.modelMetrics(snap([]), 30_000, () => 'ns/a').replicas[0]?.requestRate).toBe(8);
  });

  it('mean service time as rate(_sum[1m]) / rate(_count[1m]) of the inference-time histogram; none when nothing finished', () => {
    const h = new ScrapeHistory();
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 100, inferenceSeconds: 200 }]), 0);
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 100, inferenceSeconds: 200 }]), 15_000);
    expect(h.modelMetrics(snap([]), 15_000, () => 'ns/a').replicas[0]?.serviceSeconds).toBeUndefined();
    h.scrape(snap([{ pod: 'x', ready: true, waiting: 0, kv: 0.1, completed: 140, inferenceSeconds: 300 }]), 30_000);
    expect(h.modelMetrics(snap([]), 30_000, () => 'ns/a').replicas[0]?.serviceSeconds).toBe(2.5);
  });
});

describe('trace, budget and targets', () => {
  const trace: LoadTrace = {
    name: 't',
    durationMin: 4,
    rampMin: 2,
    phases: [
      { name: 'a', fromMin: 0, rps: 2 },
      { name: 'b', fromMin: 1, rps: 10 },
    ],
  };

  it('ramps linearly to the next level', () => {
    expect(rateAt(trace, 30_000)).toBe(2);
    expect(rateAt(trace, 120_000)).toBe(6);
    expect(rateAt(trace, 180_000)).toBe(10);
    expect(rateAt({ ...trace, rampMin: 0 }, 60_000)).toBe(10);
  });

  it('finds the peak rate over a span, a step or ramp end inside it included', () => {
    const step = { ...trace, rampMin: 0, phases: [...trace.phases, { name: 'c', fromMin: 2, rps: 4 }] };
    expect(peakRateWithin(step, 0, 30_000)).toBe(2);
    // The step to 10 at 1 min lies inside; at both ends the rate is 2 and 4.
    expect(peakRateWithin(step, 30_000, 100_000)).toBe(10);
    expect(peakRateWithin(step, 150_000, 60_000)).toBe(4);
    // Ramp 2 -> 10 from 1 to 3 min: over [0, 2 min] the end (6) is the peak.
    expect(peakRateWithin(trace, 0, 120_000)).toBe(6);
    expect(peakRateWithin(trace, 0, 0)).toBe(2);
  });

  it('counts a minute only when its longest wait exceeds the budget', () => {
    expect(countOverBudget([{ maxWaitMs: 5000 }, { maxWaitMs: 5001 }, { maxWaitMs: 0 }], 5000)).toBe(1);
  });

  it('a baseline dominates only when cheaper-or-equal and better-or-equal, one strictly', () => {
    const ours = { policy: 'ours', replicaMinutes: 100, overBudgetMinutes: 2 };
    expect(dominates({ policy: 'b', replicaMinutes: 90, overBudgetMinutes: 2 }, ours)).toBe(true);
    expect(dominates({ policy: 'b', replicaMinutes: 100, overBudgetMinutes: 2 }, ours)).toBe(false);
    expect(dominates({ policy: 'b', replicaMinutes: 90, overBudgetMinutes: 3 }, ours)).toBe(false);
    const v = evaluateTargets(
      ours,
      { policy: 'wva', replicaMinutes: 80, overBudgetMinutes: 4 },
      { policy: 'keda', replicaMinutes: 120, overBudgetMinutes: 3 },
    );
    expect(v.map((t) => t.met)).toEqual([true, false, true, true]);
  });

  it('a limit is reachable by reacting only when the reactive oracle is within it', () => {
    const r = reachability({ policy: 'oracle', replicaMinutes: 1, overBudgetMinutes: 5 }, [
      { policy: 'wva', replicaMinutes: 1, overBudgetMinutes: 9 },
      { policy: 'keda', replicaMinutes: 1, overBudgetMinutes: 10 },
    ]);
    expect(r).toEqual([
      { baseline: 'wva', limit: 4.5, reachable: false },
      { baseline: 'keda', limit: 5, reachable: true },
    ]);
  });
});

describe('oracles (references)', () => {
  const v = variant('a', 10);
  const obs = (current: number, ready: number, offeredRps: number, gatewayQueue: number, peak = offeredRps) => ({
    now: 0,
    namespace: NS,
    modelID: MODEL,
    variants: [{ variant: v, current, ready }],
    metrics: { ...metrics([]), gatewayQueue },
    sumWaiting: 0,
    offeredRps,
    peakOfferedRps: (ms: number) => (ms > 0 ? peak : offeredRps),
  });
  const asked = (o: ReturnType<typeof obs>, maxScaleUpRate = 10) =>
    new OraclePolicy(8, 60, 60, maxScaleUpRate).decide(o).values.get(v.key);

  it('asks for the offered rate when nothing is held at the gateway', () => {
    expect(asked(obs(4, 4, 20, 0))).toBe(3);
    expect(asked(obs(4, 4, 0, 0))).toBe(1);
  });

  it('adds the backlog as it will be once new pods are ready, drained within the drain time', () => {
    // 10 ready serve 80 of 120 req/s: the 600 held grow by 40/s x 60 s to 3,000, drained over 60 s = 50/s more.
    expect(asked(obs(10, 10, 120, 600))).toBe(Math.ceil((120 + 3000 / 60) / 8));
    // Pending replicas take their share half-way through the start-up: 4 pending x 8 / 2 = 16/s less growth.
    expect(asked(obs(14, 10, 120, 600))).toBe(Math.ceil((120 + (600 + 24 * 60) / 60) / 8));
  });

  it('stays within maxScaleUpRate x current, pending included', () => {
    expect(asked(obs(1, 1, 48, 600), 2)).toBe(2);
    expect(asked(obs(3, 1, 48, 600), 2)).toBe(6);
    expect(asked(obs(3, 1, 48, 600), 10)).toBe(Math.ceil((48 + (600 + (48 - 8 - 8) * 60) / 60) / 8));
  });

  it('the reactive one ignores what comes; the forecast one sizes for the peak within its lookahead', () => {
    const upcoming = obs(2, 2, 4, 0, 48);
    expect(asked(upcoming)).toBe(1);
    const forecast = new OraclePolicy(8, 60, 60, 10, 75);
    expect(forecast.name).toBe('forecast oracle, 75 s ahead (reference)');
    expect(forecast.decide(upcoming).values.get(v.key)).toBe(6);
    // Still within the cap: 2 current x 2.
    expect(new OraclePolicy(8, 60, 60, 2, 75).decide(upcoming).values.get(v.key)).toBe(4);
  });
});

describe('cron trigger next to a policy (reference rows)', () => {
  it('the schedule opens a window per rise, lead minutes early, sized for the rate, until the next phase', () => {
    expect(peakSchedule(BURSTY_TRACE, 2, 7)).toEqual([
      { fromMs: 2 * 60_000, toMs: 9 * 60_000, desiredReplicas: 7 },
      { fromMs: 15 * 60_000, toMs: 22 * 60_000, desiredReplicas: 8 },
    ]);
    const early: LoadTrace = {
      name: 'e',
      durationMin: 5,
      rampMin: 0,
      phases: [
        { name: 'a', fromMin: 0, rps: 1 },
        { name: 'b', fromMin: 1, rps: 14 },
      ],
    };
    expect(peakSchedule(early, 3, 7)).toEqual([{ fromMs: 0, toMs: 5 * 60_000, desiredReplicas: 2 }]);
    expect(() => peakSchedule(BURSTY_TRACE, 1.25, 7)).toThrow(/whole minutes/);
    expect(() => peakSchedule(BURSTY_TRACE, 2, 0)).toThrow(/rpsPerReplica/);
  });

  it("adds KEDA's cron metric: desiredReplicas inside a window, 1 outside, target 1; the policy's own value is untouched", () => {
    const v = variant('a', 10);
    const obs = (now: number) => ({
      now,
      namespace: NS,
      modelID: MODEL,
      variants: [{ variant: v, current: 2, ready: 2 }],
      metrics: metrics([]),
      sumWaiting: 12,
      offeredRps: 0,
      peakOfferedRps: () => 0,
    });
    const p = new WithCronTrigger(new KedaWaitingPolicy(5), [{ fromMs: 60_000, toMs: 120_000, desiredReplicas: 7 }]);
    expect(p.name).toBe('KEDA prometheus (waiting, 5) + cron');
    const inside = p.decide(obs(60_000));
    expect(inside.values.get(v.key)).toBe(12);
    expect(inside.target).toBe(5);
    expect(inside.otherTriggers?.map((o) => [o.values.get(v.key), o.target])).toEqual([[7, 1]]);
    expect(p.decide(obs(120_000)).otherTriggers?.map((o) => o.values.get(v.key))).toEqual([1]);
    expect(p.decide(obs(59_999)).otherTriggers?.map((o) => o.values.get(v.key))).toEqual([1]);
    expect(() => new WithCronTrigger(new KedaWaitingPolicy(5), [{ fromMs: 5, toMs: 5, desiredReplicas: 2 }])).toThrow(
      /toMs > fromMs/,
    );
    expect(() => new WithCronTrigger(new KedaWaitingPolicy(5), [{ fromMs: 0, toMs: 5, desiredReplicas: 0 }])).toThrow(
      /desiredReplicas/,
    );
  });
});

describe('closed loop', () => {
  const settings: LoopSettings = {
    namespace: NS,
    modelID: MODEL,
    seed: 7,
    cycleMs: 15_000,
    waitBudgetMs: 5000,
    hpa: kubernetesDefaultHpa(1, 8),
    trace: {
      name: 't',
      durationMin: 4,
      rampMin: 0,
      phases: [
        { name: 'low', fromMin: 0, rps: 2 },
        { name: 'high', fromMin: 1, rps: 30 },
      ],
    },
    variants: [
      {
        variant: parseTriggerMetadata(NS, 'a', { modelID: MODEL, minReplicas: '1', maxReplicas: '8' }),
        fleet: { deployment: 'a', replicas: 1, startupDelayMs: 30_000 },
      },
    ],
  };

  it('gives every policy the same arrivals and lets each scale on its own signal', () => {
    const engine = runPolicy(
      () =>
        new EnginePolicy({
          saturation: EMPTY_SATURATION_CONFIG,
          scaleToZero: { enabled: false, retentionMs: 60_000 },
          maxScaleUpRate: 2,
        }),
      settings,
    );
    const keda = runPolicy(() => new KedaWaitingPolicy(5), settings);
    expect(engine.arrivals).toBe(keda.arrivals);
    expect(engine.minutes).toHaveLength(4);
    expect(engine.peakReplicas).toBeGreaterThan(1);
    expect(keda.peakReplicas).toBeGreaterThan(1);
    expect(engine.replicaMinutes).toBeGreaterThan(4);
  });

  it('a cron trigger next to a policy holds its replicas through the window; before it the policy alone decides', () => {
    const idle: LoopSettings = {
      ...settings,
      trace: { name: 'idle', durationMin: 4, rampMin: 0, phases: [{ name: 'low', fromMin: 0, rps: 0.5 }] },
    };
    const alone = runPolicy(() => new KedaWaitingPolicy(5), idle);
    const withCron = runPolicy(
      () => new WithCronTrigger(new KedaWaitingPolicy(5), [{ fromMs: 60_000, toMs: 120_000, desiredReplicas: 5 }]),
      idle,
    );
    expect(alone.peakReplicas).toBe(1);
    const at = (ms: number) => withCron.cycles.find((c) => c.atMs === ms);
    expect(at(45_000)?.desired).toBe(1);
    expect(at(60_000)?.desired).toBe(5);
    expect(at(105_000)?.desired).toBe(5);
    // After the window the HPA's 300 s scale-down window still holds the 5.
    expect(withCron.cycles.at(-1)?.desired).toBe(5);
    expect(withCron.replicaMinutes).toBeGreaterThan(alone.replicaMinutes);
  });
});
