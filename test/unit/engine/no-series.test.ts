import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { modelKey } from '../../../src/domain/variant.js';
import { DecisionCache } from '../../../src/cache/decision-cache.js';
import { DecisionTrigger } from '../../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import { MemoryCache } from '../../../src/cache/metrics-cache.js';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { MetricsCollector } from '../../../src/collector/collector.js';
import { ScrapeCollector } from '../../../src/collector/scrape-collector.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { Engine, type EngineDeps } from '../../../src/engine/engine.js';
import { FixtureServer } from '../collector/fixture-server.js';
import { MODEL, NOW, NS, StaticCollector, metrics, prev, variant } from './fixtures.js';

function engineWith(collector: MetricsCollector, extra: Partial<EngineDeps> = {}) {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const registry = new VariantRegistry();
  const decisions = new DecisionCache();
  const engine = new Engine({
    registry,
    decisions,
    trigger: new DecisionTrigger(),
    collector,
    metrics: new ScalerMetrics(),
    logger,
    clock: () => NOW,
    config: new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
    }),
    ...extra,
  });
  const warnings = () =>
    lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level >= 40)
      .map((l) => l.msg);
  return { engine, registry, decisions, warnings };
}

describe('standalone (no Kubernetes): a modelID that matches no series', () => {
  let server: FixtureServer;
  beforeEach(async () => {
    server = new FixtureServer();
    await server.start();
  });
  afterEach(async () => server.stop());

  // As a new user would: pods of Deployment llama-70b serve "meta-llama/Llama-3-70B", the trigger says llama-3-70b.
  const llama = variant('llama-70b', {
    namespace: 'default',
    modelID: 'llama-3-70b',
    deployment: 'llama-70b',
    minReplicas: 1,
  });
  const exposition =
    ['running', 'waiting']
      .map((m) => `vllm:num_requests_${m}{model_name="meta-llama/Llama-3-70B",pod="llama-70b-7d9f8-abcde"} 0`)
      .join('\n') + '\nvllm:kv_cache_usage_perc{model_name="meta-llama/Llama-3-70B",pod="llama-70b-7d9f8-abcde"} 0.1\n';

  it('says so, naming the model_name its pods report, instead of waking forever', async () => {
    server.route('/metrics', { body: exposition });
    const collector = new ScrapeCollector(
      { targets: [server.url('/metrics')], timeoutMs: 1000, concurrency: 1, defaultNamespace: 'default' },
      {
        cache: new MemoryCache({ ttlMs: 60_000, max: 100, now: () => NOW }),
        logger: pino({ level: 'silent' }),
        now: () => NOW,
      },
    );
    const t = engineWith(collector, { fetchEachCycle: true });
    t.registry.upsert(llama);
    const mk = modelKey('default', 'llama-3-70b');
    for (let i = 0; i < 3; i++) {
      const report = await t.engine.runOnce(NOW);
      expect(report.unavailable.get(mk)).toContain('model_name values seen: meta-llama/Llama-3-70B');
      expect(report.unavailable.get(mk)).toContain('llama-70b-7d9f8-abcde "meta-llama/Llama-3-70B"');
    }
    expect(t.warnings()).toEqual(['modelID matches no series']);
    // With a decision to hold (e.g. made before the pods were renamed), the hold says why.
    t.decisions.set(prev(llama, 1));
    await t.engine.runOnce(NOW);
    const reasons = t.decisions.get(llama.key)?.reasons.join(' | ') ?? '';
    expect(reasons).toContain('matches no series');
    expect(reasons).not.toContain('waking');
  });
});

describe('a model waking from zero: no series yet is expected, not a misconfiguration', () => {
  it('no warning while its replicas start, and the hold says they are starting', async () => {
    const a = variant('a');
    const t = engineWith(new StaticCollector(metrics([], { seenModelNames: ['other/model'] })), {
      replicaStatus: { get: () => ({ current: 1, ready: 0 }) },
    });
    t.registry.upsert(a);
    t.decisions.set(prev(a, 1));
    await t.engine.runOnce(NOW);
    expect(t.warnings()).toEqual([]);
    expect(t.decisions.get(a.key)?.desiredReplicas).toBe(1);
    expect(t.decisions.get(a.key)?.reasons).toContain(
      `hold: no replica of model ${MODEL} in ns ${NS} reports metrics yet (1 starting)`,
    );
  });
});
