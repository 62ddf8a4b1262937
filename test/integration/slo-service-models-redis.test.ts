/**
 * SLO mode's learned service models through a real Debian redis-server: what one engine learned is
 * what a second engine (a restarted scaler, or a new leader) starts from, and an engine without a
 * reachable Redis still learns on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../src/cache/global-config.js';
import { LearnedStateStore } from '../../src/cache/learned-state-store.js';
import { MultiLayerCache } from '../../src/cache/multi-layer-cache.js';
import { RedisConnection } from '../../src/cache/redis-connection.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { parseSaturationConfig } from '../../src/config/saturation-config.js';
import type { ReplicaMetrics } from '../../src/domain/metrics.js';
import { Engine } from '../../src/engine/engine.js';
import { parseServiceModel, type ServiceModelState } from '../../src/engine/slo/service-model.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';
import { RedisServer } from '../helpers/redis.js';
import { MODEL, NOW, NS, StaticCollector, metrics, variant } from '../unit/engine/fixtures.js';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server.stop();
});

const v = variant('h100', { maxReplicas: 20 });

function replica(i: number): ReplicaMetrics {
  return {
    namespace: NS,
    modelID: MODEL,
    pod: `h100-${i}`,
    variantKey: v.key,
    kvCacheUsage: 0.1,
    kvCacheUsageNow: 0.1,
    queueLength: 0,
    queueLengthNow: 0,
    running: 40,
    requestRate: 4,
    serviceSeconds: undefined,
    kvCapacityTokens: 400_000,
    promptTokensPerRequest: 1000,
    outputTokensPerRequest: 200,
    itlMeanMs: 12,
    ttftMeanMs: 60,
    queueTimeMeanMs: 5,
  };
}

async function engineWithRedis(): Promise<{ engine: Engine; decisions: DecisionCache; close: () => Promise<void> }> {
  const logger = silentLogger();
  const redis = new RedisConnection({ url: server.url, logger, probeIntervalMs: 50, commandTimeoutMs: 150 });
  expect(await redis.waitUntilUp(5_000)).toBe(true);
  const store = new LearnedStateStore<ServiceModelState>({
    cache: new MultiLayerCache<ServiceModelState>({
      name: 'service-models',
      redis,
      localTtlMs: 1_000,
      redisTtlMs: 60_000,
      parse: parseServiceModel,
      logger,
    }),
    connection: redis,
    writeIntervalMs: 0,
    logger,
  });
  const registry = new VariantRegistry();
  registry.upsert(v);
  const decisions = new DecisionCache();
  const engine = new Engine({
    registry,
    decisions,
    trigger: new DecisionTrigger(),
    config: new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
      saturation: parseSaturationConfig({ default: 'sloMode: true\ntargetTTFT: 2000\ntargetITL: 50' }),
    }),
    collector: new StaticCollector(metrics([replica(0), replica(1)], { collectedAt: NOW })),
    metrics: new ScalerMetrics(),
    logger,
    clock: () => NOW,
    serviceModels: store,
  });
  return { engine, decisions, close: () => redis.close() };
}

describe('learned service models in the shared store', () => {
  it('a second engine starts from what the first learned', async () => {
    const a = await engineWithRedis();
    for (let i = 0; i < 3; i++) await a.engine.runOnce(NOW + i * 15_000);
    const learned = a.decisions.get(v.key)?.serviceModel?.samples;
    expect(learned).toBe(12); // 3 cycles x 2 replicas x (ITL + prefill)
    // The write is fire and forget: let it land.
    await new Promise((r) => setTimeout(r, 200));
    await a.close();

    const b = await engineWithRedis();
    await b.engine.runOnce(NOW + 45_000);
    // Loaded 12, then this cycle's 4.
    expect(b.decisions.get(v.key)?.serviceModel?.samples).toBe(16);
    await b.close();
  });

  it('with Redis down, learns on its own and keeps deciding', async () => {
    const c = await engineWithRedis();
    await server.stop();
    await c.engine.runOnce(NOW);
    expect(c.decisions.get(v.key)?.serviceModel?.samples).toBe(4);
    await c.close();
    await server.start();
  });
});
