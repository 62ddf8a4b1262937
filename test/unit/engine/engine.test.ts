import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { ModelMetrics } from '../../../src/domain/metrics.js';
import { modelKey } from '../../../src/domain/variant.js';
import { DecisionCache } from '../../../src/cache/decision-cache.js';
import { DecisionTrigger, type DecisionEvent } from '../../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import type { MetricsCollector, TrackedModel } from '../../../src/collector/collector.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Engine } from '../../../src/engine/engine.js';
import { MODEL, NOW, NS, metrics, replicas, variant } from './fixtures.js';

class FakeCollector implements MetricsCollector {
  readonly backend = 'fake';
  readonly byModel = new Map<string, ModelMetrics>();
  readonly fetches: (readonly TrackedModel[])[] = [];
  /** While set, fetch waits for it (to hold a run in progress). */
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  onFetch: ((models: readonly TrackedModel[]) => void) | undefined;

  async fetch(models: readonly TrackedModel[]): Promise<void> {
    this.fetches.push(models);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      this.onFetch?.(models);
    } finally {
      this.inFlight--;
    }
  }
  getModelMetrics(namespace: string, modelID: string): ModelMetrics | undefined {
    return this.byModel.get(modelKey(namespace, modelID));
  }
  async close(): Promise<void> {}
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(opts: { fetchEachCycle?: boolean; logger?: ReturnType<typeof silentLogger> } = {}) {
  const registry = new VariantRegistry();
  const decisions = new DecisionCache();
  const trigger = new DecisionTrigger();
  const config = new GlobalConfig({
    engineIntervalMs: 15_000,
    maxScaleUpRate: 2,
    scaleToZero: { enabled: false, retentionMs: 600_000 },
  });
  const collector = new FakeCollector();
  const scalerMetrics = new ScalerMetrics();
  let now = NOW;
  const engine = new Engine({
    registry,
    decisions,
    trigger,
    config,
    collector,
    metrics: scalerMetrics,
    logger: opts.logger ?? silentLogger(),
    clock: () => now,
    fetchEachCycle: opts.fetchEachCycle,
  });
  const events: DecisionEvent[] = [];
  trigger.subscribeAll((e) => events.push(e));
  return {
    registry,
    decisions,
    trigger,
    config,
    collector,
    scalerMetrics,
    engine,
    events,
    setNow: (n: number) => (now = n),
  };
}

const a = variant('a');
const b = variant('b', { cost: 20 });
const other = variant('o', { modelID: 'other/model' });

afterEach(() => {
  vi.useRealTimers();
});

describe('Engine loop', () => {
  it('never overlaps itself: runs requested during a run coalesce into one follow-up run', async () => {
    const t = setup({ fetchEachCycle: true });
    t.registry.upsert(a);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics(replicas(a, 2, 0.3, 0)));
    const gate = deferred();
    t.collector.gate = gate.promise;

    const first = t.engine.runOnce();
    const more = [t.engine.runOnce(), t.engine.runModel(modelKey(NS, MODEL)), t.engine.runOnce()];
    await Promise.resolve();
    expect(t.collector.fetches).toHaveLength(1);
    gate.resolve();
    const reports = await Promise.all([first, ...more]);

    expect(t.collector.fetches).toHaveLength(2); // the first run and ONE follow-up
    expect(t.collector.maxInFlight).toBe(1);
    expect(t.engine.stats.maxConcurrent).toBe(1);
    expect(t.engine.stats.cycles).toBe(2);
    // Every coalesced caller got the follow-up run's report.
    expect(reports[1]).toBe(reports[2]);
    expect(reports[2]).toBe(reports[3]);
    expect(reports[0]).not.toBe(reports[1]);
  });

  it('requestDecision during a run is coalesced, fetches a model with no metrics, and answers', async () => {
    const t = setup();
    t.registry.upsert(a);
    t.registry.upsert(other);
    const gate = deferred();
    t.collector.gate = gate.promise;
    t.collector.onFetch = (models) => {
      for (const m of models)
        t.collector.byModel.set(modelKey(m.namespace, m.modelID), {
          ...metrics(replicas(a, 1, 0.3, 0)),
          modelID: m.modelID,
          replicas: m.modelID === MODEL ? replicas(a, 1, 0.3, 0) : replicas(other, 1, 0.3, 0),
        });
    };
    const signal = new AbortController().signal;
    const p1 = t.engine.requestDecision(a.key, signal);
    const p2 = t.engine.requestDecision(other.key, signal);
    const p3 = t.engine.requestDecision(a.key, signal);
    gate.resolve();
    const [r1, r2, r3] = await Promise.all([p1, p2, p3]);
    expect(r1.ok && r1.decision.desiredReplicas).toBe(1);
    expect(r2.ok && r2.decision.variantKey).toBe(other.key);
    expect(r3.ok).toBe(true);
    expect(t.engine.stats.cycles).toBe(2); // a's run, then one run for both queued requests
    expect(t.collector.maxInFlight).toBe(1);
  });

  it('requestDecision explains why there is no decision', async () => {
    const t = setup();
    const signal = new AbortController().signal;
    expect(await t.engine.requestDecision('ns/nope', signal)).toEqual({
      ok: false,
      reason: 'variant ns/nope not registered',
    });
    t.registry.upsert(a);
    const r = await t.engine.requestDecision(a.key, signal);
    expect(r).toEqual({ ok: false, reason: `no metrics for model ${MODEL} in ns ${NS} yet` });
    expect(t.collector.fetches).toHaveLength(1); // it tried to fetch the model on demand
  });

  it('requestDecision gives up when its signal aborts, without stopping the run', async () => {
    const t = setup();
    t.registry.upsert(a);
    const gate = deferred();
    t.collector.gate = gate.promise;
    const ac = new AbortController();
    const p = t.engine.requestDecision(a.key, ac.signal);
    ac.abort(new Error('deadline'));
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain('before the deadline (deadline)');
    gate.resolve();
    await t.engine.idle();
    expect(t.engine.stats.cycles).toBe(1);
  });

  it('publishes trigger events only when a desired count changes', async () => {
    const t = setup();
    t.registry.upsert(a);
    t.registry.upsert(b);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics([...replicas(a, 2, 0.6, 1), ...replicas(b, 1, 0.6, 1)]));
    await t.engine.runOnce();
    t.trigger.flush();
    expect(t.events.map((e) => [e.variantKey, e.desiredReplicas, e.active])).toEqual([
      [a.key, 2, true],
      [b.key, 1, true],
    ]);

    await t.engine.runOnce(NOW + 15_000);
    t.trigger.flush();
    expect(t.events).toHaveLength(2); // same answer: nothing published

    // b's replica saturates: one more replica goes to the cheaper variant a; b does not change.
    t.collector.byModel.set(
      modelKey(NS, MODEL),
      metrics([...replicas(a, 2, 0.78, 1), ...replicas(b, 1, 0.78, 1)], { collectedAt: NOW + 25_000 }),
    );
    await t.engine.runOnce(NOW + 30_000);
    t.trigger.flush();
    expect(t.events.slice(2).map((e) => [e.variantKey, e.desiredReplicas])).toEqual([[a.key, 3]]);
    const text = await t.scalerMetrics.registry.metrics();
    expect(text).toContain(
      'wva_desired_replicas{variant_name="a",namespace="ns",accelerator_type="H100",model_id="meta/llama-8b"} 3',
    );
    expect(text).toContain(
      'wva_desired_ratio{variant_name="a",namespace="ns",accelerator_type="H100",model_id="meta/llama-8b"} 1.5',
    );
    expect(text).toMatch(/wva_replica_scaling_total\{[^}]*variant_name="a"[^}]*direction="up",reason="scale-up"\} 1/);
  });

  it("deletes a removed variant's decision and its gauges", async () => {
    const t = setup();
    t.registry.upsert(a);
    t.registry.upsert(b);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics([...replicas(a, 2, 0.6, 1), ...replicas(b, 1, 0.6, 1)]));
    await t.engine.runOnce();
    expect(t.decisions.get(b.key)).toBeDefined();
    t.registry.remove(b.key);
    expect(t.decisions.get(b.key)).toBeUndefined();
    expect(t.decisions.get(a.key)).toBeDefined();
    expect(await t.scalerMetrics.registry.metrics()).not.toContain('variant_name="b"');
  });

  it('says loudly, once per change, when modelID matches no series', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const t = setup({ logger });
    const withStatus = new Engine({
      registry: t.registry,
      decisions: t.decisions,
      trigger: t.trigger,
      config: t.config,
      collector: t.collector,
      metrics: t.scalerMetrics,
      logger,
      clock: () => NOW,
      replicaStatus: { get: () => ({ current: 2, ready: 2 }) },
    });
    t.registry.upsert(a);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics([], { seenModelNames: ['meta/Llama-8B-Instruct'] }));
    await withStatus.runOnce();
    await withStatus.runOnce();
    const warnings = lines.filter((l) => l.includes('modelID matches no series'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('model_name values seen: meta/Llama-8B-Instruct');
    expect(await t.scalerMetrics.registry.metrics()).toContain(
      'wva_scaler_model_metrics_missing{namespace="ns",model_id="meta/llama-8b"} 1',
    );
    const r = await withStatus.requestDecision(a.key, new AbortController().signal);
    expect(!r.ok && r.reason).toContain('matches no series');

    t.collector.byModel.set(modelKey(NS, MODEL), metrics(replicas(a, 2, 0.3, 1)));
    await withStatus.runOnce();
    expect(await t.scalerMetrics.registry.metrics()).toContain(
      'wva_scaler_model_metrics_missing{namespace="ns",model_id="meta/llama-8b"} 0',
    );
  });

  it('logs unusable thresholds as an error once per change, and holds the model', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const t = setup({ logger });
    const broken = variant('a', { saturation: { queueLengthThreshold: 2 } });
    t.registry.upsert(broken);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics(replicas(broken, 2, 0.05, 0)));
    await t.engine.runOnce();
    await t.engine.runOnce();
    expect(t.decisions.get(broken.key)?.desiredReplicas).toBe(2);
    expect(t.decisions.get(broken.key)?.reasons.join(' | ')).toContain(
      'hold: invalid thresholds: queueSpareTrigger (3) must be below queueLengthThreshold (2)',
    );
    const errors = lines.filter((l) => l.includes('saturation thresholds unusable'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('queueSpareTrigger (3) must be below queueLengthThreshold (2)');

    t.registry.upsert(variant('a', { saturation: { queueLengthThreshold: 6 } }));
    await t.engine.runOnce();
    expect(lines.filter((l) => l.includes('saturation thresholds usable again'))).toHaveLength(1);
  });

  it('runs at start and then every engineIntervalMs', async () => {
    vi.useFakeTimers();
    const t = setup();
    t.registry.upsert(a);
    t.collector.byModel.set(modelKey(NS, MODEL), metrics(replicas(a, 1, 0.3, 0)));
    t.engine.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.engine.stats.cycles).toBe(1);
    await vi.advanceTimersByTimeAsync(14_999);
    expect(t.engine.stats.cycles).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.engine.stats.cycles).toBe(2);
    // A config update runs at once, then the new interval applies.
    t.config.update({ engineIntervalMs: 1_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.engine.stats.cycles).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.engine.stats.cycles).toBe(4);
    await t.engine.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.engine.stats.cycles).toBe(4);
  });
});
