/**
 * The SLO learner on the token fleet: what the observer hands the engine (the fleet's own histograms
 * and counters) teaches it, within a few minutes, a model whose capacity at the target is the one the
 * fleet's true α/β/γ give (src/sim/fleet/profiles.ts). Under a steady load the replicas run at one
 * operating point, where α and β trade off along a ridge: what the model predicts there (and the
 * capacity) is learned before α and β apart.
 */
import { describe, expect, it } from 'vitest';
import { EngineSloPolicy } from '../../../bench/lib/quality-recipes.js';
import { decisionConfig } from '../../../bench/lib/quality-scenarios.js';
import { wvaBenchmarkHpa } from '../../../bench/lib/quality-hpa.js';
import { createTokenFleet } from '../../../bench/lib/token-fleet-factory.js';
import { runTokenPolicy } from '../../../bench/lib/token-loop.js';
import {
  CHAT_SLO,
  CYCLE_MS,
  MODEL,
  NS,
  WAIT_BUDGET_MS,
  loopVariants,
  poissonRequests,
} from '../../../bench/lib/token-scenarios.js';
import { ACCELERATOR_PROFILES } from '../../../src/sim/fleet/profiles.js';
import { maxRateWithin } from '../../../src/engine/slo/latency-model.js';

describe('SLO learner on the token fleet', () => {
  it("learns the H100's capacity at the target within 15 % and becomes confident", () => {
    const durationS = 300;
    const sc = {
      name: 'steady',
      trace: 'steady',
      requests: (seed: number) => poissonRequests([{ fromS: 0, rps: 12 }], durationS, 1000, 200, seed),
      durationMs: durationS * 1000,
      hpa: wvaBenchmarkHpa(1, 10),
      hpaName: 'wva',
      accelerator: 'H100' as const,
      slo: CHAT_SLO,
    };
    const policy = new EngineSloPolicy(decisionConfig, CHAT_SLO);
    runTokenPolicy(policy, {
      namespace: NS,
      modelID: MODEL,
      variants: loopVariants(sc, 60),
      requests: sc.requests(1),
      durationMs: sc.durationMs,
      seed: 1,
      cycleMs: CYCLE_MS,
      hpa: sc.hpa,
      waitBudgetMs: WAIT_BUDGET_MS,
      flowControl: true,
      fleet: createTokenFleet,
    });
    const learned = [...policy.learnedServiceModels().values()][0];
    const truth = ACCELERATOR_PROFILES.H100;
    expect(learned?.confident).toBe(true);
    if (!learned) return;
    const w = { promptTokens: 1000, outputTokens: 200, maxBatch: 256 };
    const t = { ttftMs: 2000, itlMs: 50 };
    const exact = maxRateWithin(
      { alpha: truth.alphaMs, beta: truth.betaMsPerToken, gamma: truth.gammaMsPerKvToken },
      w,
      t,
    );
    expect(Math.abs(maxRateWithin(learned, w, t) - exact) / exact).toBeLessThan(0.15);
    // The parameters themselves: the right order of magnitude, never negative.
    expect(learned.alpha / truth.alphaMs).toBeGreaterThan(0.5);
    expect(learned.alpha / truth.alphaMs).toBeLessThan(2);
    expect(learned.beta / truth.betaMsPerToken).toBeGreaterThan(0.5);
    expect(learned.beta / truth.betaMsPerToken).toBeLessThan(2);
    expect(learned.gamma).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
