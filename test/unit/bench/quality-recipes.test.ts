import { describe, expect, it } from 'vitest';
import { parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';
import type { VariantState } from '../../../src/engine/saturation-analyzer.js';
import { HpaEmulator, wvaBenchmarkHpa } from '../../../bench/lib/quality-hpa.js';
import type { PolicyObservation } from '../../../bench/lib/quality-policies.js';
import {
  LlmdKedaEppPolicy,
  LlmdKedaTokenPolicy,
  WVA_V2_DEFAULTS,
  WvaV2Policy,
  wvaV2Analyze,
  wvaV2Replica,
  wvaV2Targets,
  type K2History,
} from '../../../bench/lib/quality-recipes.js';
import type { TokenPodView, TokenView } from '../../../bench/lib/token-observer.js';

const NS = 'ns';
const variant = (name: string, cost: number, max = 10) =>
  parseTriggerMetadata(NS, name, {
    modelID: 'm',
    variantCost: String(cost),
    minReplicas: '1',
    maxReplicas: String(max),
  });

const pod = (over: Partial<TokenPodView> = {}): TokenPodView => ({
  pod: 'p0',
  deployment: 'h100',
  accelerator: 'H100',
  kvPeak: 0.5,
  waitingPeak: 0,
  kvCapacityTokens: 100_000,
  avgPromptTokens: 1000,
  avgOutputTokens: 200,
  completionRps: undefined,
  avgTtftMs: undefined,
  avgItlMs: undefined,
  ...over,
});

const view = (pods: TokenPodView[], over: Partial<TokenView> = {}): TokenView => ({
  pods,
  sumKvUsage: pods.reduce((n, p) => n + p.kvPeak, 0),
  gatewayQueue: 0,
  gatewayQueuedTokens: 0,
  inflightTokens: 0,
  runningRequests: 0,
  ...over,
});

describe('WVA V2: one replica', () => {
  it.each([
    {
      name: 'no queue: demand = KV tokens in use; k2 derived from the engine parameters is above k1',
      pod: pod(),
      want: { demand: 50_000, effective: 80_000 },
    },
    {
      name: 'a local queue is charged avg input + avg output per waiting request',
      pod: pod({ waitingPeak: 3 }),
      want: { demand: 50_000 + 3 * 1200, effective: 80_000 },
    },
    {
      name: 'a queue at the threshold exposes k2 = tokens in use',
      pod: pod({ waitingPeak: 5, kvPeak: 0.6 }),
      want: { demand: 60_000 + 5 * 1200, effective: 60_000 },
    },
    {
      name: 'without token averages: k1 (no charge for the queue)',
      pod: pod({ waitingPeak: 2, avgPromptTokens: undefined, avgOutputTokens: undefined }),
      want: { demand: 50_000, effective: 80_000 },
    },
  ])('$name', ({ pod: p, want }) => {
    const r = wvaV2Replica(p, WVA_V2_DEFAULTS, new Map());
    expect(r && { demand: r.demand, effective: r.effective }).toEqual(want);
  });

  it('keeps observed k2 as a rolling average of 10 and uses it when the queue is short', () => {
    const history: K2History = new Map();
    for (let i = 1; i <= 12; i++) wvaV2Replica(pod({ waitingPeak: 5, kvPeak: i / 100 }), WVA_V2_DEFAULTS, history);
    expect(history.get('H100')).toHaveLength(10);
    // 3 % .. 12 % of 100,000 tokens: mean 7,500.
    expect(wvaV2Replica(pod(), WVA_V2_DEFAULTS, history)?.effective).toBe(7500);
  });

  it('skips a replica without cache_config_info', () => {
    expect(wvaV2Replica(pod({ kvCapacityTokens: 0 }), WVA_V2_DEFAULTS, new Map())).toBeUndefined();
  });
});

describe('WVA V2: model', () => {
  const h100 = variant('h100', 30);
  const l4 = variant('l4', 5, 2);
  const states = (h: [number, number], l: [number, number]): VariantState[] => [
    { variant: h100, current: h[0], ready: h[1] },
    { variant: l4, current: l[0], ready: l[1] },
  ];

  it('RC = demand / 0.85 − anticipated supply, several replicas at once, cheapest variant first', () => {
    // Two H100 pods at KV 0.9 = 180,000 tokens of demand; capacity 80,000 each.
    const pods = [pod({ pod: 'a', kvPeak: 0.9 }), pod({ pod: 'b', kvPeak: 0.9 })];
    const lPod = pod({ pod: 'c', deployment: 'l4', kvPeak: 0.9, kvCapacityTokens: 20_000 });
    const a = wvaV2Analyze(view([...pods, lPod]), states([2, 2], [1, 1]), WVA_V2_DEFAULTS, new Map());
    expect(a.totalDemand).toBeCloseTo(198_000);
    expect(a.totalSupply).toBe(176_000);
    expect(a.requiredCapacity).toBeCloseTo(198_000 / 0.85 - 176_000);
    // 56,941 tokens: the L4 (16,000 each) takes its one free slot, the H100s the rest (ceil(40,941 / 80,000)).
    expect(wvaV2Targets(a, states([2, 2], [1, 1]))).toEqual(
      new Map([
        [h100.key, 3],
        [l4.key, 2],
      ]),
    );
  });

  it('counts pending replicas in the anticipated supply, not in the supply', () => {
    const a = wvaV2Analyze(
      view([pod({ kvPeak: 0.9 })]),
      [{ variant: h100, current: 2, ready: 1 }],
      WVA_V2_DEFAULTS,
      new Map(),
    );
    expect(a.totalSupply).toBe(80_000);
    expect(a.totalAnticipatedSupply).toBe(160_000);
    expect(a.requiredCapacity).toBe(0);
  });

  it('adds the flow-control queue: its size x (avg input + avg output)', () => {
    const a = wvaV2Analyze(
      view([pod({ kvPeak: 0 })], { gatewayQueue: 10, gatewayQueuedTokens: 15_000 }),
      [{ variant: h100, current: 1, ready: 1 }],
      WVA_V2_DEFAULTS,
      new Map(),
    );
    expect(a.totalDemand).toBe(10 * 1200);
  });

  it('SC = supply − demand / 0.70 comes off the most expensive variant, keeping the last replica', () => {
    const pods = [pod({ pod: 'a', kvPeak: 0.05 }), pod({ pod: 'b', kvPeak: 0.05 }), pod({ pod: 'c', kvPeak: 0.05 })];
    const s: VariantState[] = [{ variant: h100, current: 3, ready: 3 }];
    const a = wvaV2Analyze(view(pods), s, WVA_V2_DEFAULTS, new Map());
    expect(a.spareCapacity).toBeCloseTo(240_000 - 15_000 / 0.7);
    expect(wvaV2Targets(a, s).get(h100.key)).toBe(1);
  });

  it('as a policy: desired replicas with AverageValue target 1', () => {
    const obs = observation([{ variant: h100, current: 1, ready: 1 }], view([pod({ kvPeak: 0.95 })]));
    const out = new WvaV2Policy().decide(obs);
    expect(out.target).toBe(1);
    expect(out.values.get(h100.key)).toBe(2);
  });
});

function observation(variants: VariantState[], tokens: TokenView): PolicyObservation {
  return {
    now: 0,
    namespace: NS,
    modelID: 'm',
    variants,
    metrics: {
      namespace: NS,
      modelID: 'm',
      replicas: [],
      requestsOverRetention: undefined,
      gatewayQueue: tokens.gatewayQueue,
      collectedAt: 0,
      seenModelNames: ['m'],
    },
    sumWaiting: 0,
    offeredRps: 0,
    peakOfferedRps: () => 0,
    tokens,
  };
}

describe("llm-d's KEDA recipes through the HPA", () => {
  const v = variant('h100', 30);
  const one: VariantState[] = [{ variant: v, current: 2, ready: 2 }];
  const replicas = (policy: LlmdKedaEppPolicy | LlmdKedaTokenPolicy, tokens: TokenView): number => {
    const out = policy.decide(observation(one, tokens));
    const hpa = new HpaEmulator({ ...wvaBenchmarkHpa(1, 10), ...policy.behaviour });
    const metric = (values: ReadonlyMap<string, number>, target: number) => ({ value: values.get(v.key) ?? 0, target });
    return hpa.syncMetrics(0, 2, [
      metric(out.values, out.target),
      ...(out.otherTriggers ?? []).map((o) => metric(o.values, o.target)),
    ]);
  };

  it.each([
    {
      name: 'EPP queue 5 (threshold 1) asks for 5, doubling allowed per 15 s: 4',
      tokens: view([], { gatewayQueue: 5 }),
      want: 4,
    },
    { name: 'running 40 (threshold 16) asks for 3', tokens: view([], { runningRequests: 40 }), want: 3 },
    { name: 'idle asks for 0: a fresh HPA has no earlier recommendation to hold, so min 1', tokens: view([]), want: 1 },
  ])('keda-epp: $name', ({ tokens, want }) => {
    expect(replicas(new LlmdKedaEppPolicy(), tokens)).toBe(want);
  });

  it.each([
    {
      name: 'prefill backlog 6 s (threshold 1.5) asks for 4, one pod per 180 s: 3',
      tokens: view([], { inflightTokens: 60_000 }),
      want: 3,
    },
    {
      name: 'sum KV 1.5 (threshold 0.8) asks for 2: no change',
      tokens: view([pod({ kvPeak: 0.75 }), pod({ pod: 'q', kvPeak: 0.75 })]),
      want: 2,
    },
  ])('keda-token: $name', ({ tokens, want }) => {
    expect(replicas(new LlmdKedaTokenPolicy(10_000), tokens)).toBe(want);
  });
});
