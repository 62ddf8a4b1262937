import { describe, expect, it } from 'vitest';
import { parseSaturationConfig, resolveSlo, SaturationConfigError } from '../../../src/config/saturation-config.js';
import { MetadataError, parseTriggerMetadata } from '../../../src/config/trigger-metadata.js';

const M = 'meta/llama-8b';

describe('SLO fields in the saturation config', () => {
  type Row = {
    name: string;
    data: Record<string, string>;
    ns: string;
    want: { ttftMs: number; itlMs: number } | undefined;
  };
  it.each<Row>([
    { name: 'nothing given: saturation mode', data: { default: 'kvCacheThreshold: 0.8' }, ns: 'a', want: undefined },
    {
      name: 'default entry turns it on for every model',
      data: { default: 'sloMode: true\ntargetTTFT: 2000\ntargetITL: 50' },
      ns: 'a',
      want: { ttftMs: 2000, itlMs: 50 },
    },
    {
      name: 'targets without sloMode: saturation mode',
      data: { default: 'targetTTFT: 2000\ntargetITL: 50' },
      ns: 'a',
      want: undefined,
    },
    {
      name: 'per-model entry merges field by field over default',
      data: {
        default: 'targetTTFT: 2000\ntargetITL: 50',
        llama: `model_id: ${M}\nsloMode: "yes"\ntargetTTFT: 800`,
      },
      ns: 'a',
      want: { ttftMs: 800, itlMs: 50 },
    },
    {
      name: "WVA v0.9's <modelID>#<namespace> key applies in its namespace only",
      data: { [`${M}#prod`]: 'sloMode: on\ntargetTTFT: 1500\ntargetITL: 40' },
      ns: 'prod',
      want: { ttftMs: 1500, itlMs: 40 },
    },
    {
      name: '<modelID>#<namespace> key in another namespace',
      data: { [`${M}#prod`]: 'sloMode: on\ntargetTTFT: 1500\ntargetITL: 40' },
      ns: 'dev',
      want: undefined,
    },
    {
      name: 'per-model entry turns it off under a default that is on',
      data: { default: 'sloMode: true\ntargetTTFT: 2000\ntargetITL: 50', llama: `model_id: ${M}\nsloMode: false` },
      ns: 'a',
      want: undefined,
    },
  ])('$name', ({ data, ns, want }) => {
    expect(resolveSlo(parseSaturationConfig(data), ns, M)).toEqual(want);
  });

  it.each<{ name: string; data: Record<string, string>; entry: string; field: string; message: RegExp }>([
    {
      name: 'sloMode without targetITL',
      data: { default: 'sloMode: true\ntargetTTFT: 2000' },
      entry: 'default',
      field: 'targetITL',
      message: /sloMode is true but targetITL is not set/,
    },
    {
      name: 'per-model sloMode without any target',
      data: { llama: `model_id: ${M}\nsloMode: true` },
      entry: 'llama',
      field: 'targetTTFT',
      message: /entry "llama": sloMode is true but targetTTFT is not set/,
    },
    {
      name: 'a zero target',
      data: { default: 'sloMode: true\ntargetTTFT: 0\ntargetITL: 50' },
      entry: 'default',
      field: 'targetTTFT',
      message: /targetTTFT=0 is invalid: expected a number above 0/,
    },
    {
      name: 'a target with a unit',
      data: { default: 'targetITL: 50ms' },
      entry: 'default',
      field: 'targetITL',
      message: /targetITL="?50ms"? is invalid/,
    },
    {
      name: 'a sloMode that is not a boolean',
      data: { default: 'sloMode: maybe' },
      entry: 'default',
      field: 'sloMode',
      message: /sloMode="?maybe"? is invalid: expected true or false/,
    },
  ])('refuses $name, naming entry, key and value', ({ data, entry, field, message }) => {
    let err: unknown;
    try {
      parseSaturationConfig(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SaturationConfigError);
    const e = err as SaturationConfigError;
    expect(e.entry).toBe(entry);
    expect(e.key).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('trigger metadata merges over the config', () => {
    const config = parseSaturationConfig({ default: 'sloMode: true\ntargetTTFT: 2000\ntargetITL: 50' });
    expect(resolveSlo(config, 'a', M, { targetTTFT: 500 })).toEqual({ ttftMs: 500, itlMs: 50 });
    expect(resolveSlo(config, 'a', M, { sloMode: false })).toBeUndefined();
  });
});

describe('SLO keys in trigger metadata', () => {
  it('parses them onto the variant', () => {
    const v = parseTriggerMetadata('ns', 'so', { modelID: M, sloMode: 'true', targetTTFT: '1500', targetITL: '40' });
    expect(v.slo).toEqual({ sloMode: true, targetTTFT: 1500, targetITL: 40 });
  });
  it('gives no slo when no key is given', () => {
    expect(parseTriggerMetadata('ns', 'so', { modelID: M }).slo).toBeUndefined();
  });
  it.each([
    [{ sloMode: 'true', targetTTFT: '1500' }, 'targetITL'],
    [{ sloMode: 'true' }, 'targetTTFT'],
    [{ targetTTFT: '-1' }, 'targetTTFT'],
    [{ targetITL: 'fast' }, 'targetITL'],
  ] as const)('refuses %o naming %s', (meta, key) => {
    let err: unknown;
    try {
      parseTriggerMetadata('ns', 'so', { modelID: M, ...meta });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as MetadataError).key).toBe(key);
  });
});
