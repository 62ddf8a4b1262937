import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrackedModel } from '../../../src/collector/collector.js';
import { buildSignalQueries, escapeRe2, exactAlternation, promqlString } from '../../../src/collector/promql.js';

/** Reads a PromQL double-quoted literal back (the inverse of promqlString) and compiles it anchored. */
function compileMatcher(literal: string): RegExp {
  const inner = literal
    .slice(1, -1)
    .replace(/\\(.)/g, (_, c: string) =>
      c === 'n' ? '\n' : c === 'r' ? '\r' : c === '\\' ? '\\' : c === '"' ? '"' : `\\${c}`,
    );
  // Prometheus anchors regexes fully; ours carry ^...$ as well. JS and RE2 agree on this subset.
  return new RegExp(inner, 'u');
}

function model(namespace: string, modelID: string, retentionMs = 600_000): TrackedModel {
  return { namespace, modelID, deployments: [], retentionMs };
}

describe('escaping model names for RE2 inside a PromQL string', () => {
  it('matches names with metacharacters exactly and nothing more', () => {
    const re = compileMatcher(exactAlternation(['a.b+c', 'Qwen/Qwen2.5-7B-Instruct']));
    expect(re.test('a.b+c')).toBe(true);
    expect(re.test('Qwen/Qwen2.5-7B-Instruct')).toBe(true);
    for (const other of ['aXb+c', 'a.b+cc', 'a.bbc', 'Qwen/Qwen2X5-7B-Instruct', 'xa.b+c', ''])
      expect(re.test(other)).toBe(false);
  });

  it('escapes every RE2 metacharacter and the string literal quoting', () => {
    expect(escapeRe2('a.b+c*d?(e)|[f]{g}^h$\\')).toBe('a\\.b\\+c\\*d\\?\\(e\\)\\|\\[f\\]\\{g\\}\\^h\\$\\\\');
    expect(promqlString('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });

  it('matches exactly the listed names for arbitrary text (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        fc.string({ maxLength: 12 }),
        (names, probe) => {
          const re = compileMatcher(exactAlternation(names));
          for (const n of names) expect(re.test(n)).toBe(true);
          expect(re.test(probe)).toBe(names.includes(probe));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an empty list matches nothing, not the empty label', () => {
    expect(compileMatcher(exactAlternation([])).test('')).toBe(false);
  });
});

describe('batched signal queries', () => {
  it('sends the same number of queries for 10 and 1,000 models', () => {
    const few = buildSignalQueries(Array.from({ length: 10 }, (_, i) => model(`ns${i % 3}`, `m${i}`)));
    const many = buildSignalQueries(Array.from({ length: 1000 }, (_, i) => model(`ns${i % 3}`, `m${i}`)));
    expect(few.map((q) => q.signal)).toEqual([
      'kv',
      'waiting',
      'running',
      'rate',
      'service',
      'kvNow',
      'waitingNow',
      'promptTokens',
      'cacheConfig',
      'retention',
      'gateway',
      'arrivals',
      'seen',
    ]);
    expect(many.length).toBe(few.length);
  });

  it('asks for the latency signals only for the models in SLO mode, in one query each', () => {
    const saturation = model('ns', 'plain');
    const slo = (id: string): TrackedModel => ({ ...model('team', id), latency: true });
    const queries = buildSignalQueries([saturation, slo('a'), slo('b')]);
    const latency = queries.filter((q) =>
      ['ttftMean', 'ttftP95', 'itlMean', 'queueTime', 'outputTokens'].includes(q.signal),
    );
    expect(latency.map((q) => q.signal)).toEqual(['ttftMean', 'ttftP95', 'itlMean', 'queueTime', 'outputTokens']);
    for (const q of latency) {
      expect(q.promql).toContain('model_name=~"^(?:a|b)$"');
      expect(q.promql).not.toContain('plain');
    }
  });

  it('adds one increase() query per distinct retention window, not per model', () => {
    const qs = buildSignalQueries([model('a', 'x', 600_000), model('a', 'y', 600_000), model('b', 'z', 300_000)]);
    const retention = qs.filter((q) => q.signal === 'retention');
    expect(retention.map((q) => q.retentionMs)).toEqual([300_000, 600_000]);
    expect(retention[0]?.promql).toContain('[300s]');
    expect(retention[0]?.promql).toContain('model_name=~"^(?:z)$"');
  });

  it('groups by namespace, model_name and pod, reads both KV metric names and sums finished reasons', () => {
    const qs = buildSignalQueries([model('prod', 'a.b+c')]);
    const byName = new Map(qs.map((q) => [q.signal, q.promql]));
    expect(byName.get('kv')).toBe(
      'max by (namespace, model_name, pod) (max_over_time(vllm:kv_cache_usage_perc{namespace=~"^(?:prod)$",model_name=~"^(?:a\\\\.b\\\\+c)$"}[1m]) or max_over_time(vllm:gpu_cache_usage_perc{namespace=~"^(?:prod)$",model_name=~"^(?:a\\\\.b\\\\+c)$"}[1m]))',
    );
    expect(byName.get('rate')).toContain('sum by (namespace, model_name, pod) (rate(vllm:request_success_total{');
    expect(byName.get('service')).toBe(
      'sum by (namespace, model_name, pod) (rate(vllm:request_inference_time_seconds_sum{namespace=~"^(?:prod)$",model_name=~"^(?:a\\\\.b\\\\+c)$"}[1m]))' +
        ' / sum by (namespace, model_name, pod) (rate(vllm:request_inference_time_seconds_count{namespace=~"^(?:prod)$",model_name=~"^(?:a\\\\.b\\\\+c)$"}[1m]))',
    );
    expect(byName.get('gateway')).toContain('namespace=~"^(?:|prod)$"');
    // Per-series irate, summed per model; the older counter name only from a gateway (job, instance)
    // without the current one, so one gateway is never counted twice.
    const gwSel = '{namespace=~"^(?:|prod)$",target_model_name=~"^(?:a\\\\.b\\\\+c)$"}';
    expect(byName.get('arrivals')).toBe(
      `sum by (namespace, target_model_name) (irate(inference_objective_request_total${gwSel}[1m]) or ` +
        `(irate(inference_model_request_total${gwSel}[1m]) unless on (job, instance) inference_objective_request_total))`,
    );
    expect(byName.get('seen')).toBe(
      'count by (namespace, model_name, pod) (vllm:num_requests_running{namespace=~"^(?:prod)$"})',
    );
    expect(qs.filter((q) => q.critical).map((q) => q.signal)).toEqual(['kv', 'waiting', 'running']);
  });
});
