import { describe, expect, it } from 'vitest';
import { CacheKeys, CacheKeyError, escapeRedisGlob } from '../../../src/cache/cache-keys.js';
import { decodeEnvelope, encodeEnvelope } from '../../../src/cache/redis-envelope.js';
import { parseDecision } from '../../../src/cache/shared-decisions.js';
import type { Decision } from '../../../src/domain/decision.js';

describe('CacheKeys', () => {
  it('builds every key as wva:<kind>:<namespace>/<name> (the namespace ends at the first /)', () => {
    expect(CacheKeys.decision('prod/llama-8b-h100')).toBe('wva:decision:prod/llama-8b-h100');
    expect(CacheKeys.decision('prod/meta-llama/Llama-3.1-8B')).toBe('wva:decision:prod/meta-llama/Llama-3.1-8B');
    expect(CacheKeys.lock('wva-system', 'engine')).toBe('wva:lock:wva-system/engine');
  });

  it('gives the prefix of every key of a kind', () => {
    expect(CacheKeys.prefix('decision')).toBe('wva:decision:');
    expect(CacheKeys.decision('prod/m').startsWith(CacheKeys.prefix('decision'))).toBe(true);
    expect(CacheKeys.lock('prod', 'm').startsWith(CacheKeys.prefix('decision'))).toBe(false);
  });

  it('rejects bad parts with an error naming the part and what is expected', () => {
    expect(() => CacheKeys.decision('no-slash')).toThrow(CacheKeyError);
    expect(() => CacheKeys.decision('no-slash')).toThrow(/variant key "no-slash": expected namespace\/name/);
    expect(() => CacheKeys.lock('Prod', 'm')).toThrow(/namespace "Prod": expected a Kubernetes namespace/);
    expect(() => CacheKeys.lock('prod', '')).toThrow(/name "": expected a non-empty name/);
    expect(() => CacheKeys.decision('prod/a b')).toThrow(/without whitespace/);
    expect(() => CacheKeys.build('bogus' as 'decision', 'ns', 'n')).toThrow(/kind "bogus": expected one of decision/);
  });

  it('escapes Redis glob characters so a prefix matches literally', () => {
    expect(escapeRedisGlob('wva:decision:ns/a*b?[c]\\')).toBe('wva:decision:ns/a\\*b\\?\\[c\\]\\\\');
  });
});

describe('versioned JSON envelope', () => {
  const num = (raw: unknown): number | undefined => (typeof raw === 'number' ? raw : undefined);

  it('round-trips a value with its version and time', () => {
    const text = encodeEnvelope(3, 1234);
    expect(JSON.parse(text)).toEqual({ v: 1, value: 3, storedAt: 1234 });
    expect(decodeEnvelope(text, num)).toEqual({ ok: true, value: 3, storedAt: 1234 });
  });

  it('treats unknown versions, bad JSON and invalid values as misses with a reason', () => {
    expect(decodeEnvelope('{"v":2,"value":3,"storedAt":1}', num)).toEqual({
      ok: false,
      reason: 'unknown envelope version 2 (expected 1)',
    });
    expect(decodeEnvelope('{"value":3,"storedAt":1}', num)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown envelope version/),
    });
    expect(decodeEnvelope('not json', num)).toEqual({ ok: false, reason: 'not JSON' });
    expect(decodeEnvelope('[1]', num)).toEqual({ ok: false, reason: 'not an envelope object' });
    expect(decodeEnvelope('{"v":1,"value":"3","storedAt":1}', num)).toEqual({
      ok: false,
      reason: 'value failed validation',
    });
    expect(decodeEnvelope('{"v":1,"storedAt":1}', num)).toEqual({ ok: false, reason: 'no value' });
    expect(decodeEnvelope('{"v":1,"value":3}', num)).toEqual({ ok: false, reason: 'storedAt is not a number' });
  });
});

describe('parseDecision (decisions read back from Redis)', () => {
  const decision: Decision = {
    variantKey: 'prod/llama-h100',
    namespace: 'prod',
    variantName: 'llama-h100',
    modelID: 'meta/llama',
    accelerator: undefined,
    desiredReplicas: 3,
    currentReplicas: 2,
    reasons: ['KV spare low (0.05 < 0.10)'],
    steps: ['step 1'],
    clamp: undefined,
    metricsAgeMs: 1200,
    freshness: 'fresh',
    decidedAt: 1_700_000_000_000,
  };

  it("keeps SLO mode's service model view, and drops a malformed one", () => {
    const serviceModel = { alpha: 7.3, beta: 0.03, gamma: 4e-5, samples: 40, confident: true, ratePerReplica: 15 };
    expect(parseDecision(JSON.parse(JSON.stringify({ ...decision, serviceModel })))?.serviceModel).toEqual(
      serviceModel,
    );
    expect(parseDecision({ ...decision, serviceModel: { alpha: 'x' } })?.serviceModel).toBeUndefined();
    expect(CacheKeys.service('prod/llama-h100')).toBe('wva:service:prod/llama-h100');
  });

  it('round-trips through JSON, restoring undefined fields that JSON drops', () => {
    const back = parseDecision(JSON.parse(JSON.stringify(decision)));
    expect(back).toEqual(decision);
    expect(back && 'accelerator' in back).toBe(true);
  });

  it('keeps the model load a follower needs for the next growth rate, and drops a bad one', () => {
    const withLoad: Decision = { ...decision, modelWaiting: 40, modelCompletions: 12.5 };
    expect(parseDecision(JSON.parse(JSON.stringify(withLoad)))).toEqual(withLoad);
    const bad = parseDecision({ ...JSON.parse(JSON.stringify(decision)), modelWaiting: -1, modelCompletions: 'x' });
    expect(bad).toEqual(decision);
  });

  it('rejects a decision with a missing or wrong field', () => {
    const json = JSON.parse(JSON.stringify(decision)) as Record<string, unknown>;
    for (const [field, bad] of [
      ['desiredReplicas', -1],
      ['desiredReplicas', 1.5],
      ['variantKey', 'noslash'],
      ['freshness', 'old'],
      ['reasons', [1]],
      ['decidedAt', 'x'],
      ['accelerator', 5],
    ] as const) {
      expect(parseDecision({ ...json, [field]: bad }), `${field}=${JSON.stringify(bad)}`).toBeUndefined();
    }
    const { modelID: _drop, ...withoutModel } = json;
    expect(parseDecision(withoutModel)).toBeUndefined();
    expect(parseDecision(null)).toBeUndefined();
  });
});
