import { describe, expect, it } from 'vitest';
import { MetadataError, METADATA_KEYS, parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';

const base = { modelID: 'meta-llama/Llama-3.1-8B-Instruct' };
const parse = (extra: Record<string, string>) => parseTriggerMetadata('ns', 'so-name', { ...base, ...extra });

describe('parseTriggerMetadata', () => {
  it('applies defaults with only modelID', () => {
    const v = parse({});
    expect(v).toMatchObject({
      key: 'ns/so-name',
      namespace: 'ns',
      name: 'so-name',
      modelID: base.modelID,
      accelerator: undefined,
      cost: 10,
      deployment: 'so-name',
      minReplicas: 0,
      maxReplicas: 100,
      saturation: {},
      scaleToZero: undefined,
      scaleToZeroRetentionMs: undefined,
      source: 'grpc',
      deleting: false,
    });
  });

  it.each([
    ['accelerator', 'H100', { accelerator: 'H100' }],
    ['variantCost', '2.5', { cost: 2.5 }],
    ['deployment', 'llama-8b-h100', { deployment: 'llama-8b-h100' }],
    ['kvCacheThreshold', '0.85', { saturation: { kvCacheThreshold: 0.85 } }],
    ['queueLengthThreshold', '7', { saturation: { queueLengthThreshold: 7 } }],
    ['kvSpareTrigger', '0.05', { saturation: { kvSpareTrigger: 0.05 } }],
    ['queueSpareTrigger', '0', { saturation: { queueSpareTrigger: 0 } }],
    ['minReplicas', '2', { minReplicas: 2 }],
    ['maxReplicas', '8', { maxReplicas: 8 }],
    ['scaleToZero', 'true', { scaleToZero: true }],
    ['scaleToZero', 'FALSE', { scaleToZero: false }],
    ['scaleToZero', 'yes', { scaleToZero: true }],
    ['scaleToZeroRetention', '10m', { scaleToZeroRetentionMs: 600_000 }],
    ['scaleToZeroRetention', '1m30s', { scaleToZeroRetentionMs: 90_000 }],
  ])('reads %s=%s', (key, value, expected) => {
    expect(parse({ [key]: value })).toMatchObject(expected);
  });

  it.each([
    ['variantCost', '0', 'above 0'],
    ['variantCost', '-3', 'above 0'],
    ['variantCost', 'cheap', 'above 0'],
    ['variantCost', 'Infinity', 'above 0'],
    ['deployment', 'Llama_8B', 'DNS-1123 subdomain'],
    ['kvCacheThreshold', '1.2', '[0, 1]'],
    ['kvCacheThreshold', '-0.1', '[0, 1]'],
    ['kvCacheThreshold', 'high', '[0, 1]'],
    ['queueLengthThreshold', '-1', '[0, 1000000]'],
    ['queueLengthThreshold', 'NaN', '[0, 1000000]'],
    ['kvSpareTrigger', '2', '[0, 1]'],
    ['queueSpareTrigger', '-2', '[0, 1000000]'],
    ['minReplicas', '1.5', 'whole number'],
    ['minReplicas', '-1', 'whole number'],
    ['maxReplicas', 'ten', 'whole number'],
    ['maxReplicas', '0', '>= 1'],
    ['scaleToZero', 'maybe', 'true or false'],
    ['scaleToZeroRetention', '10', 'duration'],
    ['scaleToZeroRetention', '0s', 'duration'],
    ['scaleToZeroRetention', '5 minutes', 'duration'],
    ['kvCacheThreshhold', '0.8', 'a known key'],
  ])('rejects %s=%j naming the key, the value and what is expected', (key, value, expected) => {
    let err: unknown;
    try {
      parse({ [key]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetadataError);
    const me = err as MetadataError;
    expect(me.key).toBe(key);
    expect(me.message).toContain(`${key}=${JSON.stringify(value)}`);
    expect(me.message).toContain(expected);
  });

  it('requires modelID; an empty value is one not given', () => {
    expect(() => parseTriggerMetadata('ns', 'n', {})).toThrow(/modelID=<missing>.*required/);
    expect(() => parseTriggerMetadata('ns', 'n', { modelID: '' })).toThrow(/modelID=<missing>.*required/);
    expect(() => parseTriggerMetadata('ns', 'n', { modelID: '   ' })).toThrow(/modelID=<missing>.*required/);
  });

  it('takes any empty value as not given: the default applies', () => {
    expect(parse({ variantCost: '', maxReplicas: ' ', scaleToZero: '', kvCacheThresholdFromEnv: '' })).toMatchObject({
      cost: 10,
      maxReplicas: 100,
      scaleToZero: undefined,
      saturation: {},
    });
  });

  it('checks cross-field rules', () => {
    expect(() => parse({ kvCacheThreshold: '0.5', kvSpareTrigger: '0.6' })).toThrow(
      /kvSpareTrigger="0.6".*<= kvCacheThreshold \(0.5\)/,
    );
    expect(() => parse({ minReplicas: '5', maxReplicas: '3' })).toThrow(/maxReplicas="3".*>= minReplicas \(5\)/);
    expect(parse({ minReplicas: '150' }).maxReplicas).toBe(150);
  });

  it('requires a namespace and a name', () => {
    expect(() => parseTriggerMetadata('', 'n', base)).toThrow(/namespace/);
    expect(() => parseTriggerMetadata('ns', '', base)).toThrow(/name/);
  });

  it("accepts and ignores KEDA's own keys", () => {
    const v = parse({
      scalerAddress: 'wva-scaler.keda:9090',
      enableTLS: 'true',
      unsafeSsl: 'false',
      caCert: 'x',
      tlsClientCert: 'y',
      tlsClientKey: 'z',
    });
    expect(v.modelID).toBe(base.modelID);
  });

  // KEDA resolves `<key>FromEnv` from the scale target's container and forwards the value under
  // the same key (pkg/scalers/external_scaler.go, parseExternalScalerMetadata).
  describe('<key>FromEnv, as KEDA forwards it', () => {
    it('reads the resolved value as the key itself', () => {
      const v = parseTriggerMetadata('ns', 'n', {
        modelIDFromEnv: 'Qwen/Qwen2.5-7B',
        variantCostFromEnv: '3',
        acceleratorFromEnv: 'L4',
      });
      expect(v).toMatchObject({ modelID: 'Qwen/Qwen2.5-7B', cost: 3, accelerator: 'L4' });
    });

    it('names the FromEnv key when its value is bad', () => {
      expect(() => parse({ variantCostFromEnv: 'cheap' })).toThrow(
        /variantCostFromEnv="cheap": expected a number above 0/,
      );
      expect(() => parse({ minReplicas: '4', maxReplicasFromEnv: '2' })).toThrow(
        /maxReplicasFromEnv="2".*>= minReplicas \(4\)/,
      );
    });

    it('refuses a key given both ways', () => {
      expect(() => parse({ modelIDFromEnv: 'other' })).toThrow(
        /modelIDFromEnv="other": expected either modelID or modelIDFromEnv, not both/,
      );
    });

    it('refuses an unknown FromEnv key and, when modelID is missing, says FromEnv would do', () => {
      expect(() => parse({ kvCacheThreshholdFromEnv: '0.8' })).toThrow(
        /kvCacheThreshholdFromEnv="0.8": expected a known key/,
      );
      expect(() => parseTriggerMetadata('ns', 'n', {})).toThrow(
        /modelIDFromEnv naming a variable set in the scale target's container/,
      );
    });
  });

  it('declares every documented key', () => {
    expect(Object.keys(METADATA_KEYS).sort()).toEqual([
      'accelerator',
      'deployment',
      'kvCacheThreshold',
      'kvSpareTrigger',
      'maxReplicas',
      'minReplicas',
      'modelID',
      'queueLengthThreshold',
      'queueSpareTrigger',
      'scaleToZero',
      'scaleToZeroRetention',
      'sloMode',
      'targetITL',
      'targetTTFT',
      'variantCost',
    ]);
  });
});
