import { describe, expect, it } from 'vitest';
import { DEFAULT_SATURATION, type SaturationThresholds } from '../../../src/domain/saturation.js';
import { analyzeModel, conservativeThresholds, throughputNow } from '../../../src/engine/saturation-analyzer.js';
import { MODEL, NOW, NS, metrics, replica, replicas, state, variant } from './fixtures.js';

const a = variant('a');
const strictKv = variant('strict', { saturation: { kvCacheThreshold: 0.9 } });

function analyze(
  reps: ReturnType<typeof replica>[],
  thresholds = new Map<string, SaturationThresholds>([[a.key, DEFAULT_SATURATION]]),
) {
  return analyzeModel({
    namespace: NS,
    modelID: MODEL,
    variants: [state(a, reps.length)],
    metrics: metrics(reps),
    thresholdsByVariant: thresholds,
    modelThresholds: DEFAULT_SATURATION,
    now: NOW,
  });
}

describe('step 1: per-replica saturation (kv >= kvCacheThreshold or queue >= queueLengthThreshold)', () => {
  it.each([
    { name: 'KV above threshold', kv: 0.85, queue: 0, v: a, saturated: true },
    { name: 'KV exactly at threshold', kv: 0.8, queue: 0, v: a, saturated: true },
    { name: 'queue at threshold', kv: 0.5, queue: 5, v: a, saturated: true },
    { name: 'both below', kv: 0.5, queue: 4, v: a, saturated: false },
    { name: 'KV missing, queue above', kv: undefined, queue: 6, v: a, saturated: true },
    { name: 'KV missing, queue below: unknown, not idle', kv: undefined, queue: 1, v: a, saturated: undefined },
    { name: 'both missing', kv: undefined, queue: undefined, v: a, saturated: undefined },
    {
      name: "variant override 0.9 uses the replica's own threshold",
      kv: 0.85,
      queue: 0,
      v: strictKv,
      saturated: false,
    },
    { name: 'unmapped replica uses the model thresholds', kv: 0.85, queue: 0, v: undefined, saturated: true },
  ])('$name', ({ kv, queue, v, saturated }) => {
    const thresholds = new Map<string, SaturationThresholds>([
      [a.key, DEFAULT_SATURATION],
      [strictKv.key, { ...DEFAULT_SATURATION, kvCacheThreshold: 0.9 }],
    ]);
    const out = analyze([replica(v, 0, kv, queue)], thresholds);
    expect(out.replicas[0]?.saturated).toBe(saturated);
  });
});

describe('step 2: average spare over non-saturated replicas -> scale-up need', () => {
  it.each([
    {
      name: 'KV spare low',
      kvs: [0.75, 0.75],
      queues: [0, 0],
      up: true,
      code: 'kv-spare-low',
      reason: 'KV spare low (0.05 < 0.10)',
    },
    {
      name: 'queue spare low',
      kvs: [0.2, 0.2],
      queues: [3, 3],
      up: true,
      code: 'queue-spare-low',
      reason: 'queue spare low (2.00 < 3.00)',
    },
    {
      name: 'all replicas saturated',
      kvs: [0.9, 0.95],
      queues: [0, 0],
      up: true,
      code: 'all-saturated',
      reason: 'all 2 reporting replicas saturated',
    },
    {
      name: 'plenty of spare',
      kvs: [0.3, 0.4],
      queues: [0, 1],
      up: false,
      code: 'spare-ok',
      reason: 'spare OK (KV 0.45 >= 0.10, queue 4.50 >= 3.00)',
    },
    {
      name: 'one saturated, the other idle: averages skip the saturated one',
      kvs: [0.9, 0.2],
      queues: [0, 0],
      up: false,
      code: 'some-saturated',
      reason: '1 of 2 replicas saturated',
    },
  ])('$name', ({ kvs, queues, up, code, reason }) => {
    const out = analyze(kvs.map((kv, i) => replica(a, i, kv, queues[i])));
    expect(out.scaleUpNeeded).toBe(up);
    // The code says which finding; the text carries the averages this case checks.
    expect(out.notes.find((n) => n.kind === 'reason' && n.code === code)?.text).toBe(reason);
  });

  it('spare averages are exact means of threshold minus use', () => {
    const out = analyze([replica(a, 0, 0.2, 1), replica(a, 1, 0.4, 3), replica(a, 2, 0.9, 0)]);
    expect(out.nonSaturatedCount).toBe(2);
    expect(out.saturatedCount).toBe(1);
    expect(out.avgSpareKv).toBeCloseTo(0.5, 10);
    expect(out.avgSpareQueue).toBeCloseTo(3, 10);
    expect(out.totalKv).toBeCloseTo(1.5, 10);
  });
});

describe('throughput now (for step 3): running / mean service time, else the 1 m completion rate', () => {
  it.each([
    { name: "Little's law when both are known", running: 16, rate: 4, service: 2, want: 8 },
    { name: 'the 1 m rate without a service time', running: 16, rate: 4, service: undefined, want: 4 },
    { name: 'the 1 m rate without running', running: undefined, rate: 4, service: 2, want: 4 },
    { name: 'nothing known', running: 16, rate: undefined, service: undefined, want: undefined },
    { name: 'a 0 service time is no service time', running: 16, rate: 3, service: 0, want: 3 },
  ])('$name', ({ running, rate, service, want }) => {
    // Spread: the fixture defaults a missing running to 1.
    expect(throughputNow({ ...replica(a, 0, 0.5, 0, 1, rate, service), running })).toBe(want);
  });

  it("takes the larger of rate now and the 1 m rate as a saturated replica's flat-out rate (its KV is a 1 m peak)", () => {
    // Load fell: 4 running at 2 s is 2/s now, but at its KV peak it completed 7/s over the minute.
    const out = analyze([replica(a, 0, 0.85, 0, 4, 7, 2), replica(a, 1, 0.2, 0, 2, 1, 2)]);
    expect(out.saturatedReplicaRate).toBe(7);
    expect(out.completionRate).toBe(2 + 1); // completions now stay what the replicas serve now
  });

  it('sums every replica and takes the fastest saturated one as the flat-out rate, at its own KV', () => {
    const out = analyze([
      replica(a, 0, 0.9, 6, 16, 5, 2),
      replica(a, 1, 0.85, 5, 12, undefined, 2),
      replica(a, 2, 0.2, 0, 2, 1),
    ]);
    expect(out.completionRate).toBe(8 + 6 + 1);
    expect(out.saturatedReplicaRate).toBe(8);
    expect(out.saturatedKv).toBe(0.9);
  });

  it("sizes a fast replica's rate by its own KV, not by slower replicas full at a fraction of it", () => {
    // The GPU-capped scenario's burst: an H100 at 256 running (KV 0.66, 6.3/s over the minute) beside
    // two L4s whose small caches are full (KV 0.95 and 0.82) at about 1/s. The mean KV (0.81) would
    // scale the H100's 6.3/s down to 5.4/s (x 0.70 / 0.81): a rate it serves at its own KV.
    const out = analyze([
      replica(a, 0, 0.66, 5, 256, 6.3, undefined),
      replica(a, 1, 0.95, 1, 27, 1.0, 20.1),
      replica(a, 2, 0.82, 5, 18, 1.3, 19.7),
    ]);
    expect(out.saturatedReplicaRate).toBe(6.3);
    expect(out.saturatedKv).toBe(0.66);
  });

  it("a saturated replica whose minute was not steady gives only its 1 m rate: a burst's full batch over the quiet part's service time is no rate", () => {
    // 16 running over 2 s would say 8/s; the minute finished 3/s x 2 s = 6 running on average (16 is
    // more than twice that): 3/s, the lower bound it has.
    const out = analyze([replica(a, 0, 0.9, 6, 16, 3, 2)]);
    expect(out.saturatedReplicaRate).toBe(3);
  });
});

describe("a filling replica's flat-out rate (fillingRate: loaded from idle within the minute)", () => {
  // Saturated, its minute not steady (running now is more than twice the minute's mean), loaded from
  // idle `loadedS` ago (ModelState.idleAt).
  it.each([
    {
      // WVA's bursty scenario 45 s in: 246 running, the first batch finished in 33.7 s (0.75 of the
      // 45 s it has been loaded): Little's law, 246 / 33.7 = 7.3/s, not the 1 m rate's 3.1/s.
      name: 'a first batch that ran most of the loaded time gives running over service time',
      r: replica(a, 0, 0.95, 5, 246, 3.11, 33.7),
      loadedS: 45,
      want: 246 / 33.7,
    },
    {
      // Azure conversations 15 s in: the requests done ran 2.6 s (0.18 of 15 s), the short tail of
      // the mix; 256 / 2.64 = 97/s would be six times what it serves. The 1 m rate stands.
      name: 'finished requests that ran a small share of the loaded time give only the 1 m rate',
      r: replica(a, 0, 0.64, 5, 256, 11.9, 2.64),
      loadedS: 15,
      want: 11.9,
    },
    {
      name: 'a replica loaded for more than the minute is not filling: its 1 m rate stands',
      r: replica(a, 0, 0.95, 5, 246, 3.11, 33.7),
      loadedS: 90,
      want: 3.11,
    },
    {
      name: 'a replica never seen idle is not known to be filling',
      r: replica(a, 0, 0.95, 5, 246, 3.11, 33.7),
      loadedS: undefined,
      want: 3.11,
    },
  ])('$name', ({ r, loadedS, want }) => {
    const out = analyzeModel({
      namespace: NS,
      modelID: MODEL,
      variants: [state(a, 1)],
      metrics: metrics([r]),
      thresholdsByVariant: new Map([[a.key, DEFAULT_SATURATION]]),
      modelThresholds: DEFAULT_SATURATION,
      now: NOW,
      idleAt: loadedS === undefined ? undefined : new Map([[r.pod, NOW - loadedS * 1000]]),
    });
    expect(out.saturatedReplicaRate).toBeCloseTo(want);
  });
});

describe('model-level thresholds with per-variant overrides', () => {
  it('use the most conservative value: lowest thresholds, highest spare triggers', () => {
    const t = conservativeThresholds(
      [
        { kvCacheThreshold: 0.8, queueLengthThreshold: 5, kvSpareTrigger: 0.1, queueSpareTrigger: 3 },
        { kvCacheThreshold: 0.9, queueLengthThreshold: 4, kvSpareTrigger: 0.2, queueSpareTrigger: 1 },
      ],
      DEFAULT_SATURATION,
    );
    expect(t).toEqual({ kvCacheThreshold: 0.8, queueLengthThreshold: 4, kvSpareTrigger: 0.2, queueSpareTrigger: 3 });
  });
});

describe('thresholds whose spare trigger is not below its threshold: no step 2', () => {
  const b = variant('b');
  it.each<{ name: string; byVariant: [string, SaturationThresholds][]; kvs: number[]; problem: string }>([
    {
      name: 'KV trigger above the KV threshold, idle replicas',
      byVariant: [[a.key, { ...DEFAULT_SATURATION, kvSpareTrigger: 0.85 }]],
      kvs: [0.05, 0.05],
      problem: 'invalid thresholds: kvSpareTrigger (0.85) must be below kvCacheThreshold (0.8)',
    },
    {
      name: 'queue trigger equal to the queue threshold, every replica saturated',
      byVariant: [[a.key, { ...DEFAULT_SATURATION, queueLengthThreshold: 3 }]],
      kvs: [0.9, 0.95],
      problem: 'invalid thresholds: queueSpareTrigger (3) must be below queueLengthThreshold (3)',
    },
    {
      name: 'two valid variants whose conservative mix is not',
      byVariant: [
        [a.key, { ...DEFAULT_SATURATION, kvCacheThreshold: 0.7 }],
        [b.key, { ...DEFAULT_SATURATION, kvSpareTrigger: 0.75 }],
      ],
      kvs: [0.05, 0.05],
      problem:
        'invalid thresholds: kvSpareTrigger (0.75) must be below kvCacheThreshold (0.7): the model uses the highest trigger and the lowest threshold of its variants, kvSpareTrigger from ns/b, kvCacheThreshold from ns/a',
    },
  ])('$name', ({ byVariant, kvs, problem }) => {
    const out = analyzeModel({
      namespace: NS,
      modelID: MODEL,
      variants: byVariant.map(([key]) => state(key === a.key ? a : b, kvs.length)),
      metrics: metrics(kvs.map((kv, i) => replica(a, i, kv, 0))),
      thresholdsByVariant: new Map(byVariant),
      modelThresholds: DEFAULT_SATURATION,
      now: NOW,
    });
    expect(out.thresholdProblem).toBe(problem);
    expect(out.scaleUpNeeded).toBe(false);
    expect(out.notes.filter((n) => ['kv-spare-low', 'queue-spare-low', 'all-saturated'].includes(n.code))).toEqual([]);
  });

  it('says where each value came from when told', () => {
    const out = analyzeModel({
      namespace: NS,
      modelID: MODEL,
      variants: [state(a, 1)],
      metrics: metrics([replica(a, 0, 0.1, 0)]),
      thresholdsByVariant: new Map([[a.key, { ...DEFAULT_SATURATION, queueLengthThreshold: 2 }]]),
      modelThresholds: DEFAULT_SATURATION,
      now: NOW,
      thresholdOrigin: (_key, field) =>
        field === 'queueLengthThreshold' ? 'trigger metadata' : 'the built-in default',
    });
    expect(out.thresholdProblem).toBe(
      'invalid thresholds: queueSpareTrigger (3) must be below queueLengthThreshold (2) (queueSpareTrigger from the built-in default, queueLengthThreshold from trigger metadata)',
    );
  });

  it('usable thresholds: no problem', () => {
    expect(analyze([replica(a, 0, 0.1, 0)]).thresholdProblem).toBeUndefined();
  });
});

describe('data quality', () => {
  it('names the model_name values seen when modelID matches no series', () => {
    const out = analyzeModel({
      namespace: NS,
      modelID: MODEL,
      variants: [state(a, 2)],
      metrics: metrics([], { seenModelNames: ['meta/Llama-8B', 'other'] }),
      thresholdsByVariant: new Map([[a.key, DEFAULT_SATURATION]]),
      modelThresholds: DEFAULT_SATURATION,
      now: NOW,
    });
    expect(out.dataQuality).toBe('none');
    expect(out.noSeriesReason).toBe(
      `modelID "${MODEL}" matches no series in namespace ${NS}; model_name values seen: meta/Llama-8B, other`,
    );
  });

  it('a ready replica that does not report makes the data partial', () => {
    const out = analyzeModel({
      namespace: NS,
      modelID: MODEL,
      variants: [state(a, 3)],
      metrics: metrics(replicas(a, 2, 0.1, 0)),
      thresholdsByVariant: new Map([[a.key, DEFAULT_SATURATION]]),
      modelThresholds: DEFAULT_SATURATION,
      now: NOW,
    });
    expect(out.dataQuality).toBe('partial');
    expect(out.missingReason).toContain('1 ready replica(s) not reporting');
  });
});
