import { describe, expect, it } from 'vitest';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import {
  parseSaturationConfig,
  resolveThresholdOrigins,
  resolveThresholds,
  SaturationConfigError,
} from '../../../src/config/saturation-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { SaturationConfigMapHandler } from '../../../src/kube/saturation-configmap.js';

describe("effective thresholds: DESIGN's rule kvCacheThreshold >= kvSpareTrigger, once merged", () => {
  it.each<{ name: string; data: Record<string, string>; entry: string; message: string }>([
    {
      name: 'per-model KV trigger over the default entry threshold',
      data: { default: 'kvCacheThreshold: 0.7', llama: 'model_id: meta/llama-8b\nkvSpareTrigger: 0.75' },
      entry: 'llama',
      message:
        'kvSpareTrigger (0.75) must not exceed kvCacheThreshold (0.7) (kvSpareTrigger from entry "llama", kvCacheThreshold from the default entry)',
    },
    {
      name: 'per-model KV threshold under the built-in trigger',
      data: { llama: 'model_id: meta/llama-8b\nkvCacheThreshold: 0.05' },
      entry: 'llama',
      message:
        'kvSpareTrigger (0.1) must not exceed kvCacheThreshold (0.05) (kvSpareTrigger from the built-in default, kvCacheThreshold from entry "llama")',
    },
    {
      name: 'both in the default entry',
      data: { default: 'kvCacheThreshold: 0.1\nkvSpareTrigger: 0.2' },
      entry: 'default',
      message: 'kvSpareTrigger (0.2) must not exceed kvCacheThreshold (0.1) (both from the default entry)',
    },
  ])('rejects $name, naming the entry and where each value came from', ({ data, entry, message }) => {
    let err: unknown;
    try {
      parseSaturationConfig(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SaturationConfigError);
    const e = err as SaturationConfigError;
    expect([e.entry, e.key]).toEqual([entry, 'kvSpareTrigger']);
    expect(e.message).toContain(`saturation config entry "${entry}": ${message}`);
  });

  // DESIGN's validation, like WVA's, allows these; they leave no load per replica, so the engine
  // holds such a model with the reason instead of scaling it up forever (capacity-targets tests).
  it.each<{ name: string; data: Record<string, string> }>([
    { name: 'the built-in defaults', data: {} },
    {
      name: 'a per-model queue threshold under the built-in queue trigger',
      data: { llama: 'model_id: meta/llama-8b\nqueueLengthThreshold: 2' },
    },
    { name: 'a KV trigger equal to its threshold', data: { default: 'kvCacheThreshold: 0.5\nkvSpareTrigger: 0.5' } },
    {
      name: 'thresholds of 0',
      data: { default: 'kvCacheThreshold: 0\nkvSpareTrigger: 0\nqueueLengthThreshold: 0\nqueueSpareTrigger: 0' },
    },
    {
      name: 'a per-model entry raising the queue trigger under a raised default threshold',
      data: { default: 'queueLengthThreshold: 10', m: 'model_id: x\nqueueSpareTrigger: 9' },
    },
    {
      name: 'a per-model entry lowering the KV threshold and its trigger together',
      data: { m: 'model_id: x\nkvCacheThreshold: 0.05\nkvSpareTrigger: 0.01' },
    },
  ])('accepts $name', ({ data }) => {
    expect(() => parseSaturationConfig(data)).not.toThrow();
  });

  it('names where each effective value came from', () => {
    const config = parseSaturationConfig({
      default: 'kvCacheThreshold: 0.9',
      llama: 'model_id: meta/llama-8b\nqueueLengthThreshold: 8',
    });
    expect(resolveThresholdOrigins(config, 'ns', 'meta/llama-8b', { kvSpareTrigger: 0.2 })).toEqual({
      kvCacheThreshold: 'the default entry',
      queueLengthThreshold: 'entry "llama"',
      kvSpareTrigger: 'trigger metadata',
      queueSpareTrigger: 'the built-in default',
    });
  });
});

describe('saturation ConfigMap: an update whose merged thresholds break the rule', () => {
  it('is rejected, logged naming entry and fields, counted, and the last good config stays', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: { write: (l: string) => lines.push(l) },
    });
    const metrics = new ScalerMetrics();
    const global = new GlobalConfig({
      engineIntervalMs: 15_000,
      maxScaleUpRate: 2,
      scaleToZero: { enabled: false, retentionMs: 600_000 },
    });
    const handler = new SaturationConfigMapHandler<object>('wva-saturation-scaling-config', global, metrics, logger);
    const cm = (rv: string, data: Record<string, string>) => ({
      metadata: { name: 'wva-saturation-scaling-config', resourceVersion: rv },
      data,
    });

    handler.onUpsert(cm('1', { llama: 'model_id: meta/llama-8b\nqueueLengthThreshold: 6' }));
    const good = global.get();
    expect(resolveThresholds(good.saturation, 'ns', 'meta/llama-8b').queueLengthThreshold).toBe(6);

    handler.onUpsert(cm('2', { llama: 'model_id: meta/llama-8b\nkvCacheThreshold: 0.05' }));
    expect(global.get()).toBe(good);
    expect((await metrics.configErrors.get()).values.find((v) => v.labels['source'] === 'configmap')?.value).toBe(1);
    expect(lines.join('\n')).toContain(
      'saturation config entry \\"llama\\": kvSpareTrigger (0.1) must not exceed kvCacheThreshold (0.05)',
    );
  });
});
