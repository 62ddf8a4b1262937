/**
 * WVA v0.9 in the saturation ConfigMap: `<modelID>#<namespace>` keys, the V2 knobs and the
 * `limiters:` list, accepted with their WVA meaning or refused naming what is wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  parseSaturationConfig,
  resolvePriority,
  resolveThresholds,
  resolveV2,
} from '../../../src/config/saturation-config.js';

describe('WVA v0.9 per-model keys', () => {
  it('`<modelID>#<namespace>` names the model and namespace', () => {
    const c = parseSaturationConfig({ default: '', 'ibm/granite-13b#production': 'kvCacheThreshold: 0.9\n' });
    expect(resolveThresholds(c, 'production', 'ibm/granite-13b').kvCacheThreshold).toBe(0.9);
    expect(resolveThresholds(c, 'lab', 'ibm/granite-13b').kvCacheThreshold).toBe(0.8);
  });
  it('refuses fields that contradict the key', () => {
    expect(() => parseSaturationConfig({ 'a/b#prod': 'model_id: other\n' })).toThrow(/model_id.*a\/b in prod/);
  });
});

describe('WVA v0.9 V2 knobs', () => {
  it("WVA's shipped default loads: analyzers, scaleUpThreshold, scaleDownBoundary", () => {
    const c = parseSaturationConfig({
      default: `analyzers:
  - name: saturation
    score: 1.0
scaleUpThreshold: 0.85
scaleDownBoundary: 0.70
kvCacheThreshold: 0.80
queueLengthThreshold: 5
kvSpareTrigger: 0.1
queueSpareTrigger: 3
`,
    });
    const t = resolveThresholds(c, 'ns', 'm');
    // V2 ignores kvSpareTrigger: the per-replica KV target is kvCacheThreshold x scaleUpThreshold.
    expect(t.kvCacheThreshold - t.kvSpareTrigger).toBeCloseTo(0.8 * 0.85);
    expect(resolveV2(c, 'ns', 'm')).toEqual({ scaleUpThreshold: 0.85, scaleDownBoundary: 0.7, priority: undefined });
  });
  it('priority per model, default 1', () => {
    const c = parseSaturationConfig({ default: 'priority: 2\n', 'a#ns': 'priority: 5\n' });
    expect(resolvePriority(c, 'ns', 'a')).toBe(5);
    expect(resolvePriority(c, 'ns', 'b')).toBe(2);
    expect(resolvePriority(parseSaturationConfig({}), 'ns', 'b')).toBe(1);
  });
  it.each<{ name: string; data: Record<string, string>; error: RegExp }>([
    { name: 'priority 0', data: { default: 'priority: 0\n' }, error: /priority.*0\.00001/ },
    { name: 'priority negative', data: { default: 'priority: -1\n' }, error: /priority/ },
    { name: 'scaleUpThreshold above 1', data: { default: 'scaleUpThreshold: 1.5\n' }, error: /scaleUpThreshold/ },
    { name: 'scaleDownBoundary 1', data: { default: 'scaleDownBoundary: 1\n' }, error: /scaleDownBoundary/ },
    {
      name: 'boundary not below threshold',
      data: { default: 'scaleUpThreshold: 0.7\nscaleDownBoundary: 0.8\n' },
      error: /below scaleUpThreshold/,
    },
    {
      name: 'another analyzer',
      data: { default: 'analyzers:\n  - name: throughput\n' },
      error: /only \{name: saturation\}/,
    },
    { name: 'analyzerName other', data: { default: 'analyzerName: queueing-model\n' }, error: /analyzerName/ },
    { name: 'enableLimiter on a model entry', data: { 'a#ns': 'enableLimiter: true\n' }, error: /default entry only/ },
    { name: 'limiters on a model entry', data: { 'a#ns': 'limiters: []\n' }, error: /default entry only/ },
    { name: 'enableLimiter not a boolean', data: { default: 'enableLimiter: maybe\n' }, error: /enableLimiter/ },
  ])('refuses $name with a clear error', ({ data, error }) => {
    expect(() => parseSaturationConfig(data)).toThrow(error);
  });
});

describe('WVA v0.9 limiters', () => {
  it('parses cluster and namespace quotas, -1 and 0, and the gpu-inventory entry', () => {
    const c = parseSaturationConfig({
      default: `enableLimiter: true
limiters:
  - type: gpu-inventory
  - type: quota
    name: cluster-quota
    scope: cluster
    quotas: { H100: 16, A100: 0, L40S: -1 }
  - type: quota
    name: namespace-quota
    scope: namespace
    exclude: [kube-system]
    namespaceQuotas:
      team-a: { H100: 8 }
      default: { H100: 2 }
`,
    });
    expect(c.limiter?.enabled).toBe(true);
    const [cluster, ns] = c.limiter?.quotas ?? [];
    expect(cluster?.scope === 'cluster' && Object.fromEntries(cluster.quotas)).toEqual({ H100: 16, A100: 0, L40S: -1 });
    expect(ns?.scope === 'namespace' && [...ns.exclude]).toEqual(['kube-system']);
  });
  it('enableLimiter: false turns placement off', () => {
    expect(parseSaturationConfig({ default: 'enableLimiter: false\n' }).limiter?.enabled).toBe(false);
  });
  it.each([
    { name: 'unknown type', body: '  - type: reservation\n', error: /"quota" or "gpu-inventory"/ },
    { name: 'no name', body: '  - type: quota\n    scope: cluster\n', error: /name/ },
    { name: 'bad scope', body: '  - type: quota\n    name: q\n    scope: region\n', error: /"cluster" or "namespace"/ },
    {
      name: 'quotas on namespace scope',
      body: '  - type: quota\n    name: q\n    scope: namespace\n    quotas: { H100: 1 }\n',
      error: /no quotas on a namespace-scoped quota/,
    },
    {
      name: 'cap below -1',
      body: '  - type: quota\n    name: q\n    scope: cluster\n    quotas: { H100: -2 }\n',
      error: /-1 \(unlimited\), 0 \(denied\)/,
    },
    {
      name: 'cap above MaxQuotaValue',
      body: '  - type: quota\n    name: q\n    scope: cluster\n    quotas: { H100: 2000000 }\n',
      error: /1048576/,
    },
    {
      name: 'duplicate names',
      body: '  - { type: quota, name: q, scope: cluster }\n  - { type: quota, name: q, scope: cluster }\n',
      error: /a name no other entry uses/,
    },
  ])('refuses $name', ({ body, error }) => {
    expect(() => parseSaturationConfig({ default: `limiters:\n${body}` })).toThrow(error);
  });
});
