import { describe, expect, it } from 'vitest';
import { assembleModelMetrics, podKey, type SignalSet } from '../../../src/collector/assemble.js';
import type { TrackedModel } from '../../../src/collector/collector.js';
import { DeploymentPrefixMapper } from '../../../src/collector/pod-variant-mapper.js';

const model: TrackedModel = {
  namespace: 'ns',
  modelID: 'm',
  retentionMs: 600_000,
  deployments: [{ variantKey: 'ns/dep', deployment: 'dep' }],
};
const values = (entries: [string, number | undefined][]): Map<string, number | undefined> =>
  new Map(entries.map(([p, v]) => [podKey('ns', 'm', p), v]));

function signals(over: Partial<SignalSet>): SignalSet {
  return {
    kv: new Map(),
    waiting: new Map(),
    running: new Map(),
    rate: undefined,
    service: undefined,
    retention: undefined,
    gateway: undefined,
    seen: undefined,
    ...over,
  };
}

describe('assembleModelMetrics', () => {
  it('counts only pods in the instant signal as replicas: a pod deleted within the last minute is still in the windowed ones', () => {
    const [m] = assembleModelMetrics(
      [model],
      signals({
        // dep-x-4 was deleted: max_over_time and rate over 1 m still return its last samples.
        kv: values([
          ['dep-x-1', 0.5],
          ['dep-x-2', 0.5],
          ['dep-x-3', 0.5],
          ['dep-x-4', 0.2],
        ]),
        waiting: values([
          ['dep-x-1', 0],
          ['dep-x-2', 0],
          ['dep-x-3', 0],
          ['dep-x-4', 0],
        ]),
        running: values([
          ['dep-x-1', 9],
          ['dep-x-2', 9],
          ['dep-x-3', 9],
        ]),
        rate: values([
          ['dep-x-1', 1],
          ['dep-x-2', 1],
          ['dep-x-3', 1],
          ['dep-x-4', 1],
        ]),
        service: values([['dep-x-4', 2]]),
      }),
      new DeploymentPrefixMapper(),
      0,
    );
    expect(m?.replicas.map((r) => r.pod)).toEqual(['dep-x-1', 'dep-x-2', 'dep-x-3']);
  });

  it('keeps a live pod whose instant value is missing (NaN, failed target) as a replica with that value missing', () => {
    const [m] = assembleModelMetrics(
      [model],
      signals({ kv: values([['dep-x-1', 0.3]]), running: values([['dep-x-1', undefined]]) }),
      new DeploymentPrefixMapper(),
      0,
    );
    expect(m?.replicas).toEqual([
      {
        namespace: 'ns',
        modelID: 'm',
        pod: 'dep-x-1',
        variantKey: 'ns/dep',
        kvCacheUsage: 0.3,
        queueLength: undefined,
        running: undefined,
        requestRate: undefined,
        serviceSeconds: undefined,
      },
    ]);
  });

  it('names the pods of its Deployments that serve another model_name, unless another tracked model has that name', () => {
    const other: TrackedModel = {
      namespace: 'ns',
      modelID: 'n',
      retentionMs: 600_000,
      deployments: [{ variantKey: 'ns/dep-big', deployment: 'dep-big' }],
    };
    const seen = new Map([
      [
        'ns',
        new Map([
          ['typo', new Set(['dep-x-1', 'elsewhere-1'])],
          ['n', new Set(['dep-big-1'])],
        ]),
      ],
    ]);
    const [m, n] = assembleModelMetrics([model, other], signals({ seen }), new DeploymentPrefixMapper(), 0);
    // dep-big-1 also starts with "dep-": it serves the tracked model n, so it is not m's.
    expect(m?.misnamedPods).toEqual([{ pod: 'dep-x-1', variantKey: 'ns/dep', modelName: 'typo' }]);
    expect(m?.seenModelNames).toEqual(['n', 'typo']);
    expect(n?.misnamedPods).toEqual([]);
  });

  it('reads the latency signals in ms, and a pod without them as missing, never 0', () => {
    const [m] = assembleModelMetrics(
      [model],
      signals({
        running: values([
          ['dep-x-1', 3],
          ['dep-x-2', 0],
        ]),
        ttftMean: values([['dep-x-1', 0.25]]),
        ttftP95: values([['dep-x-1', 0.9]]),
        itlMean: values([['dep-x-1', 0.02]]),
        queueTime: values([['dep-x-1', 0.1]]),
        outputTokens: values([['dep-x-1', 180]]),
      }),
      new DeploymentPrefixMapper(),
      0,
    );
    const [a, b] = m?.replicas ?? [];
    expect(a).toMatchObject({ ttftMeanMs: 250, ttftP95Ms: 900, itlMeanMs: 20, queueTimeMeanMs: 100 });
    expect(a?.outputTokensPerRequest).toBe(180);
    expect([b?.ttftMeanMs, b?.ttftP95Ms, b?.itlMeanMs, b?.queueTimeMeanMs, b?.outputTokensPerRequest]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it.each([
    { case: 'a measured rate', arrivals: new Map([['ns/m', 4.5]]), want: 4.5 },
    { case: 'a measured zero (nothing arrived)', arrivals: new Map([['ns/m', 0]]), want: 0 },
    { case: 'a NaN part (missing)', arrivals: new Map([['ns/m', undefined]]), want: undefined },
    { case: 'no series of the model', arrivals: new Map([['ns/other', 2]]), want: undefined },
    { case: 'the signal failed', arrivals: undefined, want: undefined },
  ])("sets the gateway's arrival rate from the arrivals signal: $case", ({ arrivals, want }) => {
    const [m] = assembleModelMetrics([model], signals({ arrivals }), new DeploymentPrefixMapper(), 0);
    expect(m?.gatewayArrivalRate).toBe(want);
  });
});
