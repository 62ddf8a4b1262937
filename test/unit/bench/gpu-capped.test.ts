import { describe, expect, it } from 'vitest';
import { boundReplicas, cappedInventory, cappedTokenFleet, freeReplicas } from '../../../bench/lib/gpu-capped.js';
import { wvaBenchmarkHpa } from '../../../bench/lib/quality-hpa.js';
import type { PolicyObservation, PolicyOutput, ScalingPolicy } from '../../../bench/lib/quality-policies.js';
import { createTokenFleet } from '../../../bench/lib/token-fleet-factory.js';
import { runTokenPolicy, type TokenLoopSettings } from '../../../bench/lib/token-loop.js';
import {
  CYCLE_MS,
  GPU_CAPPED_SCENARIO,
  L4_CAP,
  L4_COST,
  MODEL,
  NS,
  WAIT_BUDGET_MS,
  WVA_SCENARIOS,
  loopVariants,
  poissonRequests,
  tokenPolicyRows,
  type PolicyName,
  type TokenScenario,
} from '../../../bench/lib/token-scenarios.js';
import { parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';
import type { VariantState } from '../../../src/engine/saturation-analyzer.js';

const CAPS = new Map([['L4', 2]]);

const state = (deployment: string, accelerator: string, current: number, ready = current): VariantState => ({
  variant: parseTriggerMetadata(NS, deployment, { modelID: MODEL, accelerator, maxReplicas: '8' }),
  current,
  ready,
});

describe('GPU cap bookkeeping', () => {
  it('pods that hold GPUs keep them; freed GPUs go to Pending replicas in order; uncapped types are not limited', () => {
    const deps = [
      { name: 'a', type: 'L4', replicas: 3 },
      { name: 'b', type: 'L4', replicas: 2 },
      { name: 'h', type: 'H100', replicas: 9 },
    ];
    // b already holds one GPU: a gets the other one, not both.
    expect(boundReplicas(deps, new Map([['b', 1]]), CAPS)).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
        ['h', 9],
      ]),
    );
    // b scales to 0: its GPU goes to a's Pending replicas.
    const next = boundReplicas(
      deps.map((d) => (d.name === 'b' ? { ...d, replicas: 0 } : d)),
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
      CAPS,
    );
    expect(next.get('a')).toBe(2);
    expect(next.get('b')).toBe(0);
  });

  it("the inventory shows the cap's GPUs taken and the replicas beyond it Unschedulable, the variant full", () => {
    const l4 = state('l4', 'L4', 5, 2);
    const h100 = state('h100', 'H100', 1);
    const inv = cappedInventory(CAPS, [l4, h100]);
    expect(inv.types.get('L4')).toMatchObject({ allocatable: 2, used: 2, nodeFree: [0, 0] });
    expect(inv.variants.get(l4.variant.key)).toMatchObject({ gpusPerReplica: 1, unschedulable: 3 });
    expect(inv.variants.get(l4.variant.key)?.fullReason).toContain('Unschedulable');
    // H100 is not capped: room for every replica its max allows.
    expect(inv.types.get('H100')?.allocatable).toBe(8);
    expect(inv.variants.get(h100.variant.key)?.unschedulable).toBe(0);
    expect(freeReplicas(CAPS, [state('l4', 'L4', 1), h100])).toEqual(
      new Map([
        [l4.variant.key, 1],
        [h100.variant.key, 7],
      ]),
    );
  });
});

/** Always asks for `n` replicas of every variant. */
const fixed = (n: number): ScalingPolicy => ({
  name: `fixed ${n}`,
  decide: (obs: PolicyObservation): PolicyOutput => ({
    values: new Map(obs.variants.map((s) => [s.variant.key, n])),
    target: 1,
    note: '',
  }),
});

describe('capped fleet', () => {
  const sc: TokenScenario = {
    ...GPU_CAPPED_SCENARIO,
    variants: [{ deployment: 'l4', accelerator: 'L4', cost: L4_COST }],
    hpa: wvaBenchmarkHpa(1, 8),
  };
  const settings = (fleet = cappedTokenFleet(createTokenFleet, CAPS)): TokenLoopSettings => ({
    namespace: NS,
    modelID: MODEL,
    variants: loopVariants(sc, 30),
    requests: poissonRequests([{ fromS: 0, rps: 2 }], 240, 1000, 200, 1),
    durationMs: 240_000,
    seed: 1,
    cycleMs: CYCLE_MS,
    hpa: sc.hpa,
    waitBudgetMs: WAIT_BUDGET_MS,
    flowControl: true,
    fleet,
  });

  it('keeps replicas beyond the cap Pending (never ready, never serving) and counts them in the GPU cost', () => {
    let maxPods = 0;
    const base = cappedTokenFleet(createTokenFleet, CAPS);
    const watched: typeof base = (o) => {
      const f = base(o);
      return {
        ...f,
        step: (ms) => {
          f.step(ms);
          maxPods = Math.max(maxPods, f.model().pods.length);
        },
      };
    };
    const r = runTokenPolicy(fixed(5), settings(watched));
    // The HPA asked for 5 from the first cycle: 5 replicas for 4 minutes at the L4's cost, the 3 Pending included.
    expect(r.cycles.every((c) => c.desired === 5)).toBe(true);
    expect(r.figures.gpuCost).toBeCloseTo(5 * 4 * L4_COST, 6);
    expect(Math.max(...r.cycles.map((c) => c.ready))).toBe(2);
    expect(r.cycles.at(-1)).toMatchObject({ current: 5, ready: 2 });
    expect(maxPods).toBe(2);
  });

  it('binds a Pending replica once a GPU frees up; its start-up begins then', () => {
    const fleet = cappedTokenFleet(
      createTokenFleet,
      CAPS,
    )({
      namespace: NS,
      modelID: MODEL,
      variants: [
        { deployment: 'a', replicas: 2, startupDelayMs: 30_000, accelerator: 'L4' },
        { deployment: 'b', replicas: 1, startupDelayMs: 30_000, accelerator: 'L4' },
      ],
      seed: 1,
      flowControl: true,
      onRequestEvent: () => undefined,
    });
    fleet.step(60_000);
    expect(fleet.deploymentStatus(NS, 'a')).toEqual({ current: 2, ready: 2 });
    expect(fleet.deploymentStatus(NS, 'b')).toEqual({ current: 1, ready: 0 });
    fleet.setReplicas(NS, 'a', 1);
    fleet.step(15_000);
    expect(fleet.deploymentStatus(NS, 'b')).toEqual({ current: 1, ready: 0 });
    fleet.step(30_000);
    expect(fleet.deploymentStatus(NS, 'b')).toEqual({ current: 1, ready: 1 });
  });
});

describe('gpu-capped scenario', () => {
  const sc = GPU_CAPPED_SCENARIO;
  const caps = sc.gpuCaps ?? new Map<string, number>();
  const rows = tokenPolicyRows({
    startupS: 60,
    replicaRps: 1.14,
    peakPrefillTokensPerS: 1,
    slo: sc.slo,
    gpus: {
      caps,
      replicaRpsByAccelerator: new Map([
        ['L4', 1.14],
        ['H100', 18.85],
      ]),
    },
  });
  const settings: TokenLoopSettings = {
    namespace: NS,
    modelID: MODEL,
    variants: loopVariants(sc, 60),
    // The step to 30 req/s and five minutes of it: where the cap binds.
    requests: sc.requests(1),
    durationMs: 600_000,
    seed: 1,
    cycleMs: CYCLE_MS,
    hpa: sc.hpa,
    waitBudgetMs: WAIT_BUDGET_MS,
    flowControl: true,
    fleet: cappedTokenFleet(createTokenFleet, caps),
  };
  /** The highest value the policy gave each accelerator's variant over the run. */
  const peaks = (name: PolicyName): Map<string, number> => {
    const inner = rows[name]();
    const peak = new Map<string, number>();
    const recorder: ScalingPolicy = {
      name,
      ...(inner.behaviour ? { behaviour: inner.behaviour } : {}),
      decide: (obs) => {
        const out = inner.decide(obs);
        for (const s of obs.variants) {
          const a = s.variant.accelerator ?? '';
          peak.set(a, Math.max(peak.get(a) ?? 0, out.values.get(s.variant.key) ?? 0));
        }
        return out;
      },
    };
    runTokenPolicy(recorder, settings);
    return peak;
  };

  it('engine-placement never asks for more L4 replicas than the cluster has L4 GPUs, and grows on H100', () => {
    const placed = peaks('engine-placement');
    // Placement orders variants by cost per learned req/s: where the H100's learned rate makes it the
    // cheaper per request, it grows there before the L4s are full (so not exactly L4_CAP).
    expect(placed.get('L4')).toBeLessThanOrEqual(L4_CAP);
    expect(placed.get('H100')).toBeGreaterThan(1);
    // Without placement the same engine asks for L4 replicas that cannot be placed: the check above is not vacuous.
    expect(peaks('engine').get('L4')).toBeGreaterThan(L4_CAP);
  }, 60_000);

  it('WVA V2 with its GPU limiter and the oracles stay within the cap too', () => {
    for (const name of ['wva-v2', 'oracle-reactive', 'oracle-forecast'] as const)
      expect(peaks(name).get('L4'), name).toBeLessThanOrEqual(L4_CAP);
  }, 60_000);

  it('where nothing is capped, engine-placement decides as engine does', () => {
    const wva = WVA_SCENARIOS[0] as TokenScenario;
    const plain = tokenPolicyRows({ startupS: 60, replicaRps: 10, peakPrefillTokensPerS: 30_000 });
    const s: TokenLoopSettings = {
      namespace: NS,
      modelID: MODEL,
      variants: loopVariants(wva, 60),
      requests: wva.requests(1),
      durationMs: 300_000,
      seed: 1,
      cycleMs: CYCLE_MS,
      hpa: wva.hpa,
      waitBudgetMs: WAIT_BUDGET_MS,
      flowControl: true,
      fleet: createTokenFleet,
    };
    const a = runTokenPolicy(plain.engine(), s);
    const b = runTokenPolicy(plain['engine-placement'](), s);
    expect(b.decisions).toBe(a.decisions);
  }, 60_000);
});
