import { describe, expect, it } from 'vitest';
import { parseSaturationConfig } from '../../../src/config/saturation-config.js';
import { loadSettings } from '../../../src/config/settings.js';
import { parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';

// The same words must mean the same thing in every place a user writes them: an environment
// variable, a ScaledObject trigger, the saturation ConfigMap.
const inSettings = {
  boolean: (raw: string) => loadSettings({ WVA_SCALE_TO_ZERO: raw }).WVA_SCALE_TO_ZERO,
  duration: (raw: string) => loadSettings({ WVA_SCALE_TO_ZERO_RETENTION: raw }).WVA_SCALE_TO_ZERO_RETENTION,
  wholeNumber: (raw: string) => loadSettings({ WVA_PROMETHEUS_RETRIES: raw }).WVA_PROMETHEUS_RETRIES,
};
const inMetadata = {
  boolean: (raw: string) => parseTriggerMetadata('ns', 'v', { modelID: 'm', scaleToZero: raw }).scaleToZero,
  duration: (raw: string) =>
    parseTriggerMetadata('ns', 'v', { modelID: 'm', scaleToZeroRetention: raw }).scaleToZeroRetentionMs,
  wholeNumber: (raw: string) => parseTriggerMetadata('ns', 'v', { modelID: 'm', minReplicas: raw }).minReplicas,
};
const inConfigMap = {
  boolean: (raw: string) => parseSaturationConfig({ default: `enable_scale_to_zero: "${raw}"` }).defaultScaleToZero,
  duration: (raw: string) => parseSaturationConfig({ default: `retention_period: "${raw}"` }).defaultRetentionMs,
};

describe('one set of scalar parsers', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['on', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['no', false],
    ['off', false],
    ['0', false],
  ])('boolean %j is %s in settings, trigger metadata and the ConfigMap', (raw, value) => {
    expect([inSettings.boolean(raw), inMetadata.boolean(raw), inConfigMap.boolean(raw)]).toEqual([value, value, value]);
  });

  it('a YAML boolean is the same as its text', () => {
    expect(parseSaturationConfig({ default: 'enable_scale_to_zero: on' }).defaultScaleToZero).toBe(true);
    expect(parseSaturationConfig({ default: 'enable_scale_to_zero: false' }).defaultScaleToZero).toBe(false);
  });

  it.each([
    ['1500ms', 1500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
  ])('duration %j is %d ms everywhere', (raw, ms) => {
    expect([inSettings.duration(raw), inMetadata.duration(raw), inConfigMap.duration(raw)]).toEqual([ms, ms, ms]);
  });

  it.each(['maybe', 'y'])('boolean %j is refused everywhere with the same expectation', (raw) => {
    const expected = 'expected true or false';
    expect(() => loadSettings({ WVA_SCALE_TO_ZERO: raw })).toThrow(expected);
    expect(() => inMetadata.boolean(raw)).toThrow(expected);
    expect(() => inConfigMap.boolean(raw)).toThrow(expected);
  });

  it('an empty value is not given everywhere: the default applies', () => {
    expect([inSettings.boolean(''), inMetadata.boolean(''), inConfigMap.boolean('')]).toEqual([
      false,
      undefined,
      undefined,
    ]);
    expect([inSettings.boolean('  '), inMetadata.boolean('  '), inConfigMap.boolean('  ')]).toEqual([
      false,
      undefined,
      undefined,
    ]);
    expect([inSettings.duration(''), inMetadata.duration(''), inConfigMap.duration('')]).toEqual([
      600_000,
      undefined,
      undefined,
    ]);
  });

  it.each(['10', '0s', '5 minutes', '500ms', '169h'])(
    'duration %j is refused everywhere with the same expectation',
    (raw) => {
      const expected = 'expected a duration from 1s to 168h, such as 500ms, 15s, 10m';
      expect(() => inSettings.duration(raw)).toThrow(expected);
      expect(() => inMetadata.duration(raw)).toThrow(expected);
      expect(() => inConfigMap.duration(raw)).toThrow(expected);
    },
  );

  it('whole numbers allow surrounding blanks and nothing else, in settings and metadata alike', () => {
    expect([inSettings.wholeNumber(' 4 '), inMetadata.wholeNumber(' 4 ')]).toEqual([4, 4]);
    for (const raw of ['1.5', '-1', '1e2', '0x10']) {
      expect(() => inSettings.wholeNumber(raw)).toThrow('a whole number from 0 to');
      expect(() => inMetadata.wholeNumber(raw)).toThrow('a whole number from 0 to');
    }
  });
});

describe('one rule for spare triggers at load: kvCacheThreshold >= kvSpareTrigger', () => {
  it('refuses a KV trigger above its threshold in trigger metadata and in the ConfigMap', () => {
    expect(() =>
      parseTriggerMetadata('ns', 'v', { modelID: 'm', kvCacheThreshold: '0.5', kvSpareTrigger: '0.6' }),
    ).toThrow('<= kvCacheThreshold (0.5)');
    expect(() => parseSaturationConfig({ default: 'kvCacheThreshold: 0.5\nkvSpareTrigger: 0.6' })).toThrow(
      'must not exceed kvCacheThreshold (0.5)',
    );
  });

  it('accepts a trigger equal to its threshold, and any queue pair, in both (the engine holds those models)', () => {
    const equal = { kvCacheThreshold: '0.5', kvSpareTrigger: '0.5', queueLengthThreshold: '2', queueSpareTrigger: '3' };
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', ...equal })).not.toThrow();
    const yaml = Object.entries(equal)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    expect(() => parseSaturationConfig({ default: yaml })).not.toThrow();
  });
});

describe('numbers are plain decimals within a stated range', () => {
  it.each(['0x10', '0b1', '0o7', 'Infinity', '1_000', '1e400'])('%j is not a number anywhere', (raw) => {
    expect(() => loadSettings({ WVA_MAX_SCALE_UP_RATE: raw })).toThrow('WVA_MAX_SCALE_UP_RATE');
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', variantCost: raw })).toThrow('variantCost');
    expect(() => parseSaturationConfig({ default: `queueLengthThreshold: "${raw}"` })).toThrow('queueLengthThreshold');
  });

  it('bounds replica counts: maxReplicas=1e20 or 100000000000000000000 is refused, naming the range', () => {
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', maxReplicas: '1e20' })).toThrow(
      'a whole number from 0 to 10000',
    );
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', maxReplicas: '100000000000000000000' })).toThrow(
      'a whole number from 0 to 10000',
    );
  });
});

describe('error texts quote a short prefix of a bad value', () => {
  it('a 100 KB value gives a short error that says how long the value was', () => {
    const huge = 'x'.repeat(100_000);
    for (const fn of [
      () => loadSettings({ WVA_ENGINE_INTERVAL: huge }),
      () => parseTriggerMetadata('ns', 'v', { modelID: 'm', variantCost: huge }),
      () => parseTriggerMetadata('ns', 'v', { modelID: 'm', [huge]: '1' }),
      () => parseTriggerMetadata('ns', 'v', { modelID: huge }),
      () => parseSaturationConfig({ default: `kvCacheThreshold: ${huge}` }),
    ]) {
      let message = '';
      try {
        fn();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(message.length).toBeLessThan(1200);
      expect(message).toContain('(100000 chars)');
    }
  });
});
