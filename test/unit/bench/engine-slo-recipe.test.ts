import { describe, expect, it } from 'vitest';
import { resolveSlo } from '../../../src/config/saturation-config.js';
import { EngineSloPolicy, engineSloConfig } from '../../../bench/lib/quality-recipes.js';
import { decisionConfig } from '../../../bench/lib/quality-scenarios.js';
import { CHAT_SLO, POLICY_NAMES, tokenPolicyRows } from '../../../bench/lib/token-scenarios.js';

describe('engine-slo recipe', () => {
  it("is the engine recipe with the default entry in SLO mode at the scenario's targets", () => {
    const c = engineSloConfig(decisionConfig, { ttftMs: 1500, itlMs: 40 });
    expect(resolveSlo(c.saturation, 'any', 'any-model')).toEqual({ ttftMs: 1500, itlMs: 40 });
    expect(c.maxScaleUpRate).toBe(decisionConfig.maxScaleUpRate);
  });

  it('is a row of the token bench and exposes its learned models (none before any decision)', () => {
    expect(POLICY_NAMES).toContain('engine-slo');
    const row = tokenPolicyRows({ startupS: 60, replicaRps: 1, peakPrefillTokensPerS: 30_000 })['engine-slo']();
    expect(row.name).toBe('engine-slo');
    expect(new EngineSloPolicy(decisionConfig, CHAT_SLO).learnedServiceModels().size).toBe(0);
  });
});
