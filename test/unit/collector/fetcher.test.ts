import { describe, expect, it } from 'vitest';
import type { MetricsCollector, TrackedModel } from '../../../src/collector/collector.js';
import { MetricsFetcher } from '../../../src/collector/fetcher.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';

/** A collector whose fetches end only when the test says so. */
class ManualCollector implements MetricsCollector {
  readonly backend = 'manual';
  calls: string[][] = [];
  active = 0;
  maxActive = 0;
  fail = false;
  private resolvers: (() => void)[] = [];
  async fetch(models: readonly TrackedModel[]): Promise<void> {
    this.calls.push(models.map((m) => m.modelID));
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await new Promise<void>((r) => this.resolvers.push(r));
    this.active--;
    if (this.fail) throw new Error('prometheus down');
  }
  finishAll(): void {
    for (const r of this.resolvers.splice(0)) r();
  }
  getModelMetrics(): undefined {
    return undefined;
  }
  async close(): Promise<void> {}
}

const m = (id: string): TrackedModel => ({ namespace: 'ns', modelID: id, deployments: [], retentionMs: 1 });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('MetricsFetcher', () => {
  it('never overlaps itself: a slow fetch delays the next tick', async () => {
    const c = new ManualCollector();
    const f = new MetricsFetcher({ collector: c, models: () => [m('a')], intervalMs: 5, logger: silentLogger() });
    f.start();
    await tick(60); // many intervals pass while the first fetch hangs
    expect(c.calls.length).toBe(1);
    c.finishAll();
    await tick(30);
    expect(c.calls.length).toBeGreaterThanOrEqual(2);
    expect(c.maxActive).toBe(1);
    const stopping = f.stop();
    c.finishAll();
    await stopping;
  });

  it('logs and counts errors instead of throwing them', async () => {
    const c = new ManualCollector();
    c.fail = true;
    const metrics = new ScalerMetrics();
    const f = new MetricsFetcher({
      collector: c,
      models: () => [m('a')],
      intervalMs: 1000,
      logger: silentLogger(),
      metrics,
    });
    const p = f.fetchNow();
    c.finishAll();
    await expect(p).resolves.toMatchObject({ ok: false, error: 'prometheus down' });
    expect(await metrics.registry.getSingleMetricAsString('wva_scaler_metrics_fetch_errors_total')).toContain(
      'backend="manual"} 1',
    );
  });

  it('fetchNow joins a fetch in flight that covers every model, else queues one follow-up for all callers', async () => {
    const c = new ManualCollector();
    let models = [m('a')];
    const f = new MetricsFetcher({ collector: c, models: () => models, intervalMs: 60_000, logger: silentLogger() });
    const first = f.fetchNow();
    expect(f.fetchNow()).toBe(first);
    models = [m('a'), m('b')];
    const second = f.fetchNow();
    const third = f.fetchNow();
    expect(third).toBe(second);
    c.finishAll();
    await first;
    await tick();
    c.finishAll();
    await second;
    expect(c.calls).toEqual([['a'], ['a', 'b']]);
  });
});
