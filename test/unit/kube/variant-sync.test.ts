import { describe, expect, it } from 'vitest';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { Variant } from '../../../src/domain/variant.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { MappedVariant } from '../../../src/kube/scaledobject-variant.js';
import { VariantSync } from '../../../src/kube/variant-sync.js';

type Obj = {
  metadata: { name: string; namespace: string };
  ours?: boolean;
  bad?: boolean;
  deferred?: boolean;
  cost?: number;
};
const obj = (name: string, more: Partial<Obj> = {}): Obj => ({
  metadata: { name, namespace: 'ns' },
  ours: true,
  ...more,
});

function variant(name: string, source: Variant['source'] = 'scaledobject', cost = 10): Variant {
  return {
    key: `ns/${name}`,
    namespace: 'ns',
    name,
    modelID: 'm',
    accelerator: undefined,
    cost,
    deployment: name,
    minReplicas: 0,
    maxReplicas: 10,
    saturation: {},
    scaleToZero: undefined,
    scaleToZeroRetentionMs: undefined,
    source,
    deleting: false,
  };
}
const map = (o: Obj): MappedVariant =>
  o.deferred
    ? { kind: 'deferred', key: `ns/${o.metadata.name}`, why: 'env' }
    : o.bad
      ? { kind: 'invalid', key: `ns/${o.metadata.name}`, error: 'bad' }
      : o.ours
        ? { kind: 'variant', variant: variant(o.metadata.name, 'scaledobject', o.cost ?? 10) }
        : { kind: 'ignored' };

describe('VariantSync', () => {
  it('upserts, removes on delete, and removes an object that stops being ours or turns invalid', () => {
    const registry = new VariantRegistry();
    const invalid: string[] = [];
    const sync = new VariantSync<Obj>(registry, 'scaledobject', map, silentLogger(), (k) => invalid.push(k));
    sync.onUpsert(obj('a'));
    sync.onUpsert(obj('b'));
    expect(registry.all().map((v) => v.key)).toEqual(['ns/a', 'ns/b']);
    sync.onUpsert(obj('a', { ours: false }));
    sync.onUpsert(obj('b', { bad: true }));
    sync.onUpsert(obj('b', { bad: true }));
    expect(registry.size).toBe(0);
    expect(invalid).toEqual(['ns/b']); // reported once per distinct error
    sync.onUpsert(obj('c'));
    sync.onDelete(obj('c'));
    expect(registry.size).toBe(0);
  });

  it("a deferred object (FromEnv it cannot resolve) drops its own variant, is no config error, and leaves GetMetricSpec's alone", () => {
    const registry = new VariantRegistry();
    const invalid: string[] = [];
    const sync = new VariantSync<Obj>(registry, 'scaledobject', map, silentLogger(), (k) => invalid.push(k));
    sync.onUpsert(obj('a'));
    sync.onUpsert(obj('a', { deferred: true }));
    expect(registry.get('ns/a')).toBeUndefined();
    registry.upsert(variant('a', 'grpc'));
    sync.onUpsert(obj('a', { deferred: true }));
    expect(registry.get('ns/a')?.source).toBe('grpc');
    expect(invalid).toEqual([]);
  });

  it('never removes or overwrites variants of other sources', () => {
    const registry = new VariantRegistry();
    registry.upsert(variant('g', 'grpc'));
    registry.upsert(variant('s', 'scaledobject'));
    const vaSync = new VariantSync<Obj>(
      registry,
      'variantautoscaling',
      (o) => ({ kind: 'variant', variant: variant(o.metadata.name, 'variantautoscaling', 99) }),
      silentLogger(),
      undefined,
      ['scaledobject'],
    );
    vaSync.onDelete(obj('g'));
    vaSync.onUpsert(obj('s'));
    vaSync.onResync([]);
    expect(registry.get('ns/g')?.source).toBe('grpc');
    expect(registry.get('ns/s')).toMatchObject({ source: 'scaledobject', cost: 10 });
  });

  it('resync reconciles: adds what is missing, removes what the cache no longer has', () => {
    const registry = new VariantRegistry();
    const sync = new VariantSync<Obj>(registry, 'scaledobject', map, silentLogger());
    registry.upsert(variant('ghost'));
    registry.upsert(variant('a', 'scaledobject', 1));
    sync.onResync([obj('a', { cost: 2 }), obj('b')]);
    expect(
      registry
        .all()
        .map((v) => [v.key, v.cost])
        .sort(),
    ).toEqual([
      ['ns/a', 2],
      ['ns/b', 10],
    ]);
  });
});
