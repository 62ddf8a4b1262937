import { describe, expect, it } from 'vitest';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { Variant } from '../../../src/domain/variant.js';
import { RegistrationExpiry } from '../../../src/grpc/registration-expiry.js';
import { silentLogger } from '../../../src/observability/logger.js';

function variant(name: string, source: Variant['source']): Variant {
  return {
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
    source,
    deleting: false,
  };
}

describe('RegistrationExpiry', () => {
  const setup = () => {
    let now = 0;
    const open = new Set<string>();
    const registry = new VariantRegistry();
    const expiry = new RegistrationExpiry({
      registry,
      ttlMs: 1000,
      isStreamOpen: (k) => open.has(k),
      logger: silentLogger(),
      now: () => now,
    });
    return { registry, expiry, open, advance: (ms: number) => (now += ms) };
  };

  it('removes only grpc registrations, at the TTL since the last touch', () => {
    const { registry, expiry, advance } = setup();
    for (const [n, src] of [
      ['g', 'grpc'],
      ['so', 'scaledobject'],
      ['va', 'variantautoscaling'],
      ['file', 'static'],
    ] as const) {
      registry.upsert(variant(n, src));
      expiry.touch(`ns/${n}`);
    }
    advance(999);
    expect(expiry.sweep()).toEqual([]);
    advance(1);
    expect(expiry.sweep()).toEqual(['ns/g']);
    advance(10_000);
    expect(expiry.sweep()).toEqual([]);
    expect(
      registry
        .all()
        .map((v) => v.key)
        .sort(),
    ).toEqual(['ns/file', 'ns/so', 'ns/va']);
  });

  it('a touch restarts the TTL; an open stream holds it; an untracked registration starts at the first sweep', () => {
    const { registry, expiry, open, advance } = setup();
    registry.upsert(variant('a', 'grpc'));
    registry.upsert(variant('b', 'grpc'));
    registry.upsert(variant('c', 'grpc'));
    expiry.touch('ns/a');
    expiry.touch('ns/b');
    open.add('ns/b');
    expect(expiry.sweep()).toEqual([]); // c: first seen now
    advance(800);
    expiry.touch('ns/a');
    advance(800);
    expect(expiry.sweep()).toEqual(['ns/c']);
    open.delete('ns/b');
    expect(expiry.sweep()).toEqual(['ns/b']);
    advance(200);
    expect(expiry.sweep()).toEqual(['ns/a']);
  });
});
