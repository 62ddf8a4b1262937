import { describe, expect, it } from 'vitest';
import { DecisionCache } from '../../../src/cache/decision-cache.js';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import { VariantRegistry, type RegistryChange } from '../../../src/cache/variant-registry.js';
import { parseSaturationConfig } from '../../../src/config/saturation-config.js';
import { toDesiredOptimizedAlloc, type Decision } from '../../../src/domain/decision.js';
import type { Variant } from '../../../src/domain/variant.js';

const decision = (variantKey: string, desiredReplicas: number): Decision => ({
  variantKey,
  namespace: 'ns',
  variantName: variantKey.split('/')[1] ?? '',
  modelID: 'm',
  accelerator: 'H100',
  desiredReplicas,
  currentReplicas: 1,
  reasons: ['r'],
  steps: ['s'],
  clamp: undefined,
  metricsAgeMs: 1,
  freshness: 'fresh',
  decidedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
});
const variant = (name: string, extra: Partial<Variant> = {}): Variant => ({
  key: `ns/${name}`,
  namespace: 'ns',
  name,
  modelID: 'm',
  accelerator: undefined,
  cost: 10,
  deployment: name,
  minReplicas: 0,
  maxReplicas: 10,
  saturation: {},
  scaleToZero: undefined,
  scaleToZeroRetentionMs: undefined,
  source: 'grpc',
  deleting: false,
  ...extra,
});

describe('DecisionCache', () => {
  it('stores frozen snapshots and returns the replaced one', () => {
    const c = new DecisionCache();
    const first = c.set(decision('ns/a', 1));
    expect(first.previous).toBeUndefined();
    expect(Object.isFrozen(first.current)).toBe(true);
    expect(Object.isFrozen(first.current.reasons)).toBe(true);
    const second = c.set(decision('ns/a', 2));
    expect(second.previous?.desiredReplicas).toBe(1);
    expect(c.get('ns/a')?.desiredReplicas).toBe(2);
    expect(() => {
      (first.current as { desiredReplicas: number }).desiredReplicas = 9;
    }).toThrow(TypeError);
    expect(c.list()).toHaveLength(1);
    expect(c.delete('ns/a')).toBe(true);
    expect(c.get('ns/a')).toBeUndefined();
  });

  it("converts a decision to WVA's desiredOptimizedAlloc", () => {
    expect(toDesiredOptimizedAlloc(decision('ns/a', 3))).toEqual({
      numReplicas: 3,
      accelerator: 'H100',
      lastRunTime: '2026-01-02T03:04:05.000Z',
    });
  });
});

describe('VariantRegistry', () => {
  it('sees the same overrides written in another order as no change (KEDA re-registers every poll)', () => {
    const r = new VariantRegistry();
    r.upsert(variant('c', { saturation: { kvCacheThreshold: 0.7, kvSpareTrigger: 0.1 } }));
    expect(r.upsert(variant('c', { saturation: { kvSpareTrigger: 0.1, kvCacheThreshold: 0.7 } }))).toBe('unchanged');
    expect(r.upsert(variant('c', { saturation: { kvSpareTrigger: 0.2, kvCacheThreshold: 0.7 } }))).toBe('updated');
  });

  it('upserts, reports unchanged, removes, and excludes deleting variants from ready()', () => {
    const r = new VariantRegistry();
    const changes: RegistryChange['type'][] = [];
    r.onChange((c) => changes.push(c.type));
    expect(r.upsert(variant('a'))).toBe('added');
    expect(r.upsert(variant('a'))).toBe('unchanged');
    expect(r.upsert(variant('a', { cost: 5 }))).toBe('updated');
    r.upsert(variant('b', { modelID: 'other' }));
    r.upsert(variant('b', { modelID: 'other', deleting: true })); // its object is being deleted
    expect(r.ready().map((v) => v.key)).toEqual(['ns/a']);
    expect(r.all()).toHaveLength(2);
    expect(r.remove('ns/b')).toBe(true);
    expect(r.remove('ns/b')).toBe(false);
    expect(changes).toEqual(['added', 'updated', 'added', 'updated', 'removed']);
  });

  it('groups ready variants by model, sorted by key', () => {
    const r = new VariantRegistry();
    r.upsert(variant('z'));
    r.upsert(variant('a'));
    r.upsert(variant('x', { modelID: 'other' }));
    expect([...r.byModel().entries()].map(([k, vs]) => [k, vs.map((v) => v.name)])).toEqual([
      ['ns/m', ['a', 'z']],
      ['ns/other', ['x']],
    ]);
    expect(r.variantsOfModel('ns', 'm').map((v) => v.name)).toEqual(['a', 'z']);
  });
});

describe('GlobalConfig', () => {
  it('swaps whole snapshots atomically and notifies', () => {
    const g = new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
    });
    const before = g.get();
    const seen: number[] = [];
    g.onChange((s) => seen.push(s.version));
    const after = g.update({ saturation: parseSaturationConfig({ default: 'kvCacheThreshold: 0.7' }) });
    expect(before.saturation.defaults).toEqual({});
    expect(after.saturation.defaults).toEqual({ kvCacheThreshold: 0.7 });
    expect(after.engineIntervalMs).toBe(15_000);
    expect(Object.isFrozen(after)).toBe(true);
    expect(seen).toEqual([2]);
  });
});
