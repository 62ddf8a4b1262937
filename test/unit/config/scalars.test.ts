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
  duration: (raw: string) => parseTriggerMetadata('ns', 'v', { modelID: 'm', scaleToZeroRetention: raw }).scaleToZeroRetentionMs,
  wholeNumber: (raw: string) => parseTriggerMetadata('ns', 'v', { modelID: 'm', minReplicas: raw }).minReplicas,
};
const inConfigMap = {
  boolean: (raw: string) => parseSaturationConfig({ default: `enable_scale_to_zero: "${raw}"` }).defaultScaleToZero,
  duration: (raw: string) => parseSaturationConfig({ default: `retention_period: "${raw}"` }).defaultRetentionMs,
};

describe('one set of scalar parsers', () => {
  it.each([
    ['true', true], ['TRUE', true], ['yes', true], ['on', true], ['1', true],
    ['false', false], ['False', false], ['no', false], ['off', false], ['0', false],
  ])('boolean %j is %s in settings, trigger metadata and the ConfigMap', (raw, value) => {
    expect([inSettings.boolean(raw), inMetadata.boolean(raw), inConfigMap.boolean(raw)]).toEqual([value, value, value]);
  });

  it('a YAML boolean is the same as its text', () => {
    expect(parseSaturationConfig({ default: 'enable_scale_to_zero: on' }).defaultScaleToZero).toBe(true);
    expect(parseSaturationConfig({ default: 'enable_scale_to_zero: false' }).defaultScaleToZero).toBe(false);
  });

  it.each([['500ms', 500], ['90s', 90_000], ['10m', 600_000], ['1h30m', 5_400_000]])(
    'duration %j is %d ms everywhere',
    (raw, ms) => {
      expect([inSettings.duration(raw), inMetadata.duration(raw), inConfigMap.duration(raw)]).toEqual([ms, ms, ms]);
    },
  );

  it.each(['maybe', 'y', ''])('boolean %j is refused everywhere with the same expectation', (raw) => {
    const expected = 'expected true or false';
    expect(() => loadSettings({ WVA_SCALE_TO_ZERO: raw === '' ? ' ' : raw })).toThrow(expected);
    expect(() => inMetadata.boolean(raw)).toThrow(expected);
    expect(() => inConfigMap.boolean(raw)).toThrow(expected);
  });

  it.each(['10', '0s', '5 minutes'])('duration %j is refused everywhere with the same expectation', (raw) => {
    const expected = 'expected a duration above zero such as 500ms, 15s, 10m';
    expect(() => inSettings.duration(raw)).toThrow(expected);
    expect(() => inMetadata.duration(raw)).toThrow(expected);
    expect(() => inConfigMap.duration(raw)).toThrow(expected);
  });

  it('whole numbers allow surrounding blanks and nothing else, in settings and metadata alike', () => {
    expect([inSettings.wholeNumber(' 4 '), inMetadata.wholeNumber(' 4 ')]).toEqual([4, 4]);
    for (const raw of ['1.5', '-1', '1e2']) {
      expect(() => inSettings.wholeNumber(raw)).toThrow('a whole number >= 0');
      expect(() => inMetadata.wholeNumber(raw)).toThrow('a whole number >= 0');
    }
  });
});

describe('one rule for spare triggers at load: kvCacheThreshold >= kvSpareTrigger', () => {
  it('refuses a KV trigger above its threshold in trigger metadata and in the ConfigMap', () => {
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', kvCacheThreshold: '0.5', kvSpareTrigger: '0.6' })).toThrow('<= kvCacheThreshold (0.5)');
    expect(() => parseSaturationConfig({ default: 'kvCacheThreshold: 0.5\nkvSpareTrigger: 0.6' })).toThrow('must not exceed kvCacheThreshold (0.5)');
  });

  it('accepts a trigger equal to its threshold, and any queue pair, in both (the engine holds those models)', () => {
    const equal = { kvCacheThreshold: '0.5', kvSpareTrigger: '0.5', queueLengthThreshold: '2', queueSpareTrigger: '3' };
    expect(() => parseTriggerMetadata('ns', 'v', { modelID: 'm', ...equal })).not.toThrow();
    const yaml = Object.entries(equal).map(([k, v]) => `${k}: ${v}`).join('\n');
    expect(() => parseSaturationConfig({ default: yaml })).not.toThrow();
  });
});
