import { describe, expect, it } from 'vitest';
import { MemoryCache, NoOpCache, replicaKey } from '../../../src/cache/metrics-cache.js';
import type { ModelMetrics, ReplicaMetrics } from '../../../src/domain/metrics.js';

function replica(pod: string, variantKey: string | undefined, kv = 0.5): ReplicaMetrics {
  return {
    namespace: 'ns',
    modelID: 'm',
    pod,
    variantKey,
    kvCacheUsage: kv,
    queueLength: 0,
    running: 1,
    requestRate: 1,
    serviceSeconds: 2,
  };
}
function model(collectedAt: number, replicas: ReplicaMetrics[], modelID = 'm'): ModelMetrics {
  return {
    namespace: 'ns',
    modelID,
    replicas,
    requestsOverRetention: 3,
    gatewayQueue: 0,
    collectedAt,
    seenModelNames: [modelID],
  };
}

describe('MemoryCache', () => {
  it('uses the documented key', () => {
    expect(replicaKey('ns', 'Qwen/Qwen2.5')).toBe('replica:ns/Qwen/Qwen2.5');
  });

  it('keeps serving a value past its TTL as stale (needsRefresh), then drops it once unavailable', () => {
    let now = 1_000_000;
    const cache = new MemoryCache({ ttlMs: 30_000, max: 100, now: () => now });
    cache.setModel(model(now, [replica('a-1', 'ns/a')]));
    expect(cache.getModel('ns', 'm')).toMatchObject({ freshness: 'fresh', needsRefresh: false, ageMs: 0 });
    now += 31_000;
    expect(cache.getModel('ns', 'm')).toMatchObject({ freshness: 'fresh', needsRefresh: true });
    now += 60_000;
    const stale = cache.getModel('ns', 'm');
    expect(stale?.freshness).toBe('stale');
    expect(stale?.value.replicas[0]?.kvCacheUsage).toBe(0.5);
    now += 300_000;
    expect(cache.getModel('ns', 'm')).toBeUndefined();
  });

  it('invalidating a variant drops every model whose replicas included its pods, and only those', () => {
    const cache = new MemoryCache({ ttlMs: 30_000, max: 100 });
    const t = Date.now();
    cache.setModel(model(t, [replica('a-1', 'ns/a'), replica('b-1', 'ns/b')]));
    cache.setModel(model(t, [], 'other'));
    cache.invalidateVariant('ns/a');
    expect(cache.getModel('ns', 'm')).toBeUndefined(); // its replica list held the variant's pods
    expect(cache.getModel('ns', 'other')).toBeDefined();
    // A variant whose pods left the model at the last fetch still invalidates it (its pods may come back).
    cache.setModel(model(t, [replica('a-1', 'ns/a'), replica('b-1', 'ns/b')]));
    cache.setModel(model(t + 1, [replica('a-1', 'ns/a')]));
    cache.invalidateVariant('ns/b');
    expect(cache.getModel('ns', 'm')).toBeUndefined();
  });

  it('is bounded and cleans up unusable entries', () => {
    let now = 0;
    const cache = new MemoryCache({ ttlMs: 1000, max: 3, now: () => now });
    for (let i = 0; i < 5; i++) cache.setModel(model(now, [], `m${i}`));
    expect(cache.size).toBe(3);
    expect(cache.getModel('ns', 'm0')).toBeUndefined();
    now = 400_000;
    expect(cache.cleanup()).toBe(3);
    expect(cache.size).toBe(0);
  });

  it('rejects a bad configuration with a clear message', () => {
    expect(() => new MemoryCache({ ttlMs: 0, max: 1 })).toThrow(/TTL must be > 0/);
  });
});

describe('NoOpCache', () => {
  it('never returns anything', () => {
    const cache = new NoOpCache();
    cache.setModel(model(Date.now(), [replica('a-1', 'ns/a')]));
    expect(cache.getModel('ns', 'm')).toBeUndefined();
  });
});
