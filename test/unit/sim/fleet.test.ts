import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { VllmFleet, type FleetOptions, type FleetSnapshot } from '../../../src/sim/fleet/index.js';
import { waitFor } from '../../helpers/ports.js';

const NS = 'llm';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

const started: VllmFleet[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.stop()));
});

function fleet(
  overrides: Partial<FleetOptions> = {},
  variant: Partial<FleetOptions['models'][number]['variants'][number]> = {},
  arrivalRate = 4,
): VllmFleet {
  return new VllmFleet({
    realtime: false,
    seed: 42,
    models: [
      {
        namespace: NS,
        modelID: MODEL,
        arrivalRate,
        variants: [{ deployment: 'llama-8b-h100', replicas: 2, ...variant }],
      },
    ],
    ...overrides,
  });
}

async function serve(f: VllmFleet): Promise<VllmFleet> {
  await f.start();
  started.push(f);
  return f;
}

async function get(url: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

function model(s: FleetSnapshot) {
  const m = s.models[0];
  if (!m) throw new Error('no model in snapshot');
  return m;
}

/** Sample lines (name, labels, value) by a small strict parser of the text format. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\} (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

describe('VllmFleet exposition', () => {
  it('serves /metrics that parse-prometheus-text-format reads, with HELP and TYPE for every family', async () => {
    const f = await serve(fleet());
    f.step(10_000);
    const res = await get(f.metricsUrl());
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain; version=0.0.4');
    const families = parsePrometheusTextFormat(res.text);
    const byName = new Map(families.map((fam) => [fam.name, fam]));
    for (const [name, type] of [
      ['vllm:num_requests_running', 'GAUGE'],
      ['vllm:num_requests_waiting', 'GAUGE'],
      ['vllm:kv_cache_usage_perc', 'GAUGE'],
      ['vllm:request_success_total', 'COUNTER'],
      ['vllm:prompt_tokens_total', 'COUNTER'],
      ['vllm:generation_tokens_total', 'COUNTER'],
      ['vllm:e2e_request_latency_seconds', 'HISTOGRAM'],
      ['vllm:time_to_first_token_seconds', 'HISTOGRAM'],
      ['vllm:cache_config_info', 'GAUGE'],
    ] as const) {
      const fam = byName.get(name);
      expect(fam, name).toBeDefined();
      expect(fam?.type, name).toBe(type);
      expect(fam?.help.length, name).toBeGreaterThan(0);
    }
    // Every family name appears exactly once (family-major output across pods).
    expect(new Set(families.map((x) => x.name)).size).toBe(families.length);
    // Two pods: each has its series, with namespace/pod labels added.
    const running = byName.get('vllm:num_requests_running')?.metrics ?? [];
    expect(running).toHaveLength(2);
    for (const s of running) {
      expect(s.labels).toMatchObject({ engine: '0', model_name: MODEL, namespace: NS });
      expect(s.labels?.pod).toMatch(/^llama-8b-h100-[0-9a-f]{10}-[a-z0-9]{5}$/);
    }
    const success = byName.get('vllm:request_success_total')?.metrics ?? [];
    expect(new Set(success.map((s) => s.labels?.finished_reason))).toEqual(new Set(['stop', 'length', 'abort']));
    // parse-prometheus-text-format flattens labeled histograms (drops labels, _count and _sum),
    // so check each pod's histogram with the strict line parser: cumulative buckets, +Inf = count.
    const parsed = samples(res.text);
    for (const pod of new Set(running.map((s) => s.labels?.pod))) {
      const of = (suffix: string) =>
        parsed.filter((s) => s.name === `vllm:e2e_request_latency_seconds${suffix}` && s.labels.pod === pod);
      const buckets = of('_bucket');
      expect(buckets.length).toBe(22);
      for (let i = 1; i < buckets.length; i++)
        expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
      expect(buckets.at(-1)?.labels.le).toBe('+Inf');
      expect(buckets.at(-1)?.value).toBe(of('_count')[0]?.value);
      expect(of('_count')[0]?.value).toBeGreaterThan(0);
      expect(of('_sum')[0]?.value).toBeGreaterThan(0);
      expect(parsed.some((s) => s.name === 'vllm:e2e_request_latency_seconds_created' && s.labels.pod === pod)).toBe(
        true,
      );
    }
  });

  it('writes HELP then TYPE before each family and quotes and escapes label values', async () => {
    const odd = 'org/model "quoted" \\ back';
    const f = await serve(
      new VllmFleet({
        realtime: false,
        seed: 1,
        models: [{ namespace: NS, modelID: odd, arrivalRate: 1, variants: [{ deployment: 'odd', replicas: 1 }] }],
      }),
    );
    const text = (await get(f.metricsUrl())).text;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line.startsWith('# HELP ')) {
        const name = line.split(' ')[2];
        expect(lines[i + 1]).toMatch(new RegExp(`^# TYPE ${name?.replace(/[:]/g, ':')} (gauge|counter|histogram)$`));
      }
    }
    const parsed = samples(text);
    const running = parsed.find((s) => s.name === 'vllm:num_requests_running');
    expect(running?.labels.model_name).toBe('org/model \\"quoted\\" \\\\ back');
    // The library unescapes it back to the original.
    const fam = parsePrometheusTextFormat(text).find((x) => x.name === 'vllm:num_requests_running');
    expect(fam?.metrics[0]?.labels?.model_name).toBe(odd);
  });

  it('serves one pod per pod URL, with its own series only', async () => {
    const f = await serve(fleet());
    f.step(3_000);
    const urls = f.podUrls();
    expect(urls).toHaveLength(2);
    const pods = model(f.snapshot()).pods;
    for (const url of urls) {
      const res = await get(url);
      expect(res.status).toBe(200);
      const families = parsePrometheusTextFormat(res.text);
      const running = families.find((x) => x.name === 'vllm:num_requests_running')?.metrics ?? [];
      expect(running).toHaveLength(1);
      const pod = pods.find((p) => p.pod === running[0]?.labels?.pod);
      expect(pod).toBeDefined();
      expect(url).toContain(`/pods/${NS}/${pod?.pod}/metrics`);
      expect(Number(running[0]?.value)).toBe(pod?.running);
    }
    expect((await get(`${f.baseUrl}/pods/${NS}/nope/metrics`)).status).toBe(404);
  });

  it('emits vllm:gpu_cache_usage_perc instead of vllm:kv_cache_usage_perc in legacy mode', async () => {
    const legacy = await serve(fleet({ legacyKvMetricName: true }));
    const modern = await serve(fleet());
    legacy.step(2_000);
    modern.step(2_000);
    const names = async (f: VllmFleet) =>
      new Set(parsePrometheusTextFormat((await get(f.metricsUrl())).text).map((x) => x.name));
    const l = await names(legacy);
    const m = await names(modern);
    expect(l.has('vllm:gpu_cache_usage_perc')).toBe(true);
    expect(l.has('vllm:kv_cache_usage_perc')).toBe(false);
    expect(m.has('vllm:kv_cache_usage_perc')).toBe(true);
    expect(m.has('vllm:gpu_cache_usage_perc')).toBe(false);
  });

  it('counts completed requests as finished_reason="stop" and matches the snapshot', async () => {
    const f = await serve(fleet());
    f.step(30_000);
    const parsed = samples((await get(f.metricsUrl())).text);
    const stop = parsed.filter((s) => s.name === 'vllm:request_success_total' && s.labels.finished_reason === 'stop');
    const total = stop.reduce((a, s) => a + s.value, 0);
    expect(total).toBe(model(f.snapshot()).completed);
    expect(total).toBeGreaterThan(50);
    // Each pod's inference-time sum in its snapshot is the histogram's _sum on /metrics.
    const sums = parsed.filter((s) => s.name === 'vllm:request_inference_time_seconds_sum');
    const pods = model(f.snapshot()).pods;
    expect(sums.length).toBe(pods.length);
    for (const p of pods) expect(sums.find((s) => s.labels.pod === p.pod)?.value).toBeCloseTo(p.inferenceSeconds, 6);
    expect(pods.reduce((a, p) => a + p.inferenceSeconds, 0)).toBeGreaterThan(0);
  });
});

describe('VllmFleet queueing', () => {
  it('grows replica queues when arrivals exceed capacity', () => {
    // Capacity: 1 pod × 4 slots / 1 s = 4 req/s; arrivals 20 req/s.
    const f = fleet({}, { replicas: 1, maxBatch: 4, serviceTimeMs: 1000 }, 20);
    f.step(5_000);
    const early = model(f.snapshot());
    f.step(5_000);
    const late = model(f.snapshot());
    expect(early.pods[0]?.running).toBe(4);
    expect(early.waiting).toBeGreaterThan(20);
    expect(late.waiting).toBeGreaterThan(early.waiting + 20);
    expect(late.waitP95Ms).toBeGreaterThan(1000);
    expect(late.maxQueue).toBeGreaterThanOrEqual(late.waiting);
  });

  it('does not queue when capacity exceeds arrivals', () => {
    const f = fleet({}, { replicas: 4, maxBatch: 16, serviceTimeMs: 500 }, 5);
    f.step(20_000);
    const m = model(f.snapshot());
    expect(m.waiting).toBe(0);
    // vLLM admits a request between engine steps: an arrival waits for the step in progress (ms), no more.
    expect(m.waitP95Ms).toBeLessThan(50);
    expect(m.completed).toBeGreaterThan(60);
  });

  it('raises KV usage with the number of running requests', () => {
    const light = fleet({}, { replicas: 1, kvPerRequest: 0.05, maxBatch: 16 }, 1);
    const heavy = fleet({}, { replicas: 1, kvPerRequest: 0.05, maxBatch: 16 }, 6);
    light.step(10_000);
    heavy.step(10_000);
    const lp = model(light.snapshot()).pods[0];
    const hp = model(heavy.snapshot()).pods[0];
    expect(hp?.running).toBeGreaterThan(lp?.running ?? 0);
    expect(hp?.kvUsage).toBeGreaterThan(lp?.kvUsage ?? 0);
    // KV usage is the share of KV blocks the running requests hold (token level, not per request).
    for (const p of [lp, hp]) expect(p?.kvUsage).toBeCloseTo((p?.kvBlocksUsed ?? 0) / (p?.numGpuBlocks ?? 1), 6);
  });

  it('runs what fits in the KV blocks, queues the rest and never uses more blocks than it has', () => {
    // kvPerRequest 0.25: a mean request holds a quarter of the cache, so about 4 run at once.
    const f = fleet({}, { replicas: 1, kvPerRequest: 0.25, maxBatch: 16 }, 50);
    f.step(5_000);
    const p = model(f.snapshot()).pods[0];
    expect(p?.running).toBeGreaterThanOrEqual(1);
    expect(p?.running).toBeLessThanOrEqual(8);
    expect(p?.kvBlocksUsed).toBeLessThanOrEqual(p?.numGpuBlocks ?? 0);
    expect(p?.kvUsage).toBeGreaterThan(0.5);
    expect(p?.waiting).toBeGreaterThan(100);
  });

  it('spreads arrivals to the least-loaded ready replica across variants', () => {
    const f = new VllmFleet({
      realtime: false,
      seed: 3,
      models: [
        {
          namespace: NS,
          modelID: MODEL,
          arrivalRate: 12,
          variants: [
            { deployment: 'llama-a100', replicas: 1, serviceTimeMs: 1000 },
            { deployment: 'llama-h100', replicas: 2, serviceTimeMs: 1000 },
          ],
        },
      ],
    });
    f.step(10_000);
    const pods = model(f.snapshot()).pods;
    expect(pods).toHaveLength(3);
    const loads = pods.map((p) => p.running + p.waiting);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    expect(new Set(pods.map((p) => p.deployment))).toEqual(new Set(['llama-a100', 'llama-h100']));
  });
});

describe('VllmFleet scaling and the gateway', () => {
  it('keeps new pods pending for startupDelayMs, serving no metrics, then ready', async () => {
    const f = await serve(fleet({}, { replicas: 1, startupDelayMs: 5_000 }));
    f.setReplicas(NS, 'llama-8b-h100', 3);
    expect(f.deploymentStatus(NS, 'llama-8b-h100')).toEqual({ current: 3, ready: 1 });
    expect(f.podUrls()).toHaveLength(1);
    const pending = model(f.snapshot()).pods.filter((p) => !p.ready);
    expect(pending).toHaveLength(2);
    expect((await get(`${f.baseUrl}/pods/${NS}/${pending[0]?.pod}/metrics`)).status).toBe(503);
    const before = parsePrometheusTextFormat((await get(f.metricsUrl())).text).find(
      (x) => x.name === 'vllm:num_requests_running',
    );
    expect(before?.metrics).toHaveLength(1);

    f.step(4_900);
    expect(f.deploymentStatus(NS, 'llama-8b-h100')).toEqual({ current: 3, ready: 1 });
    f.step(200);
    expect(f.deploymentStatus(NS, 'llama-8b-h100')).toEqual({ current: 3, ready: 3 });
    expect(f.podUrls()).toHaveLength(3);
    expect((await get(`${f.baseUrl}/pods/${NS}/${pending[0]?.pod}/metrics`)).status).toBe(200);
    const after = parsePrometheusTextFormat((await get(f.metricsUrl())).text).find(
      (x) => x.name === 'vllm:num_requests_running',
    );
    expect(after?.metrics).toHaveLength(3);
  });

  it('fills the gateway queue at zero replicas and drains it after scale-up', async () => {
    const f = await serve(fleet({}, { replicas: 0, startupDelayMs: 2_000 }, 5));
    f.step(4_000);
    f.enqueueAtGateway(NS, MODEL, 3);
    const queued = model(f.snapshot()).gatewayQueue;
    expect(queued).toBeGreaterThan(10);
    const gw = parsePrometheusTextFormat((await get(f.gatewayUrl())).text);
    const q = gw.find((x) => x.name === 'inference_extension_flow_control_queue_size');
    expect(q?.type).toBe('GAUGE');
    expect(q?.metrics[0]?.labels).toMatchObject({ target_model_name: MODEL, namespace: NS });
    expect(Number(q?.metrics[0]?.value)).toBe(queued);
    // Nothing ready: /metrics has no samples.
    expect(samples((await get(f.metricsUrl())).text)).toHaveLength(0);

    f.setReplicas(NS, 'llama-8b-h100', 2);
    f.step(1_000);
    expect(model(f.snapshot()).gatewayQueue).toBeGreaterThan(queued); // still starting up
    f.step(1_100);
    const m = model(f.snapshot());
    expect(m.gatewayQueue).toBe(0);
    expect(m.running + m.waiting).toBeGreaterThan(queued);
    expect(m.waitMaxMs).toBeGreaterThanOrEqual(2_000);
    const after = parsePrometheusTextFormat((await get(f.gatewayUrl())).text);
    expect(after[0]?.metrics[0]?.value).toBe('0');
  });

  it("exports EPP's request counter per model: every arrival since start, growing through a stats reset", async () => {
    const f = await serve(fleet({}, { replicas: 1 }, 5));
    const counter = async () => {
      const family = parsePrometheusTextFormat((await get(f.gatewayUrl())).text).find(
        (x) => x.name === 'inference_objective_request_total',
      );
      expect(family?.type).toBe('COUNTER');
      expect(family?.help).toBe(
        '[ALPHA] Counter of inference objective requests broken out for each model and target model.',
      );
      expect(family?.metrics).toHaveLength(1);
      expect(family?.metrics[0]?.labels).toEqual({ model_name: MODEL, namespace: NS, target_model_name: MODEL });
      return Number(family?.metrics[0]?.value);
    };
    expect(await counter()).toBe(0);
    // Each step: what happens, then the counter equals the arrivals since start and never went down.
    const steps: { what: string; act: () => void }[] = [
      { what: 'Poisson arrivals', act: () => f.step(4_000) },
      { what: 'requests injected at the gateway', act: () => f.enqueueAtGateway(NS, MODEL, 3) },
      { what: 'a stats reset', act: () => f.resetStats() },
      { what: 'arrivals after the reset', act: () => f.step(4_000) },
    ];
    let last = 0;
    for (const s of steps) {
      s.act();
      const value = await counter();
      expect(value, s.what).toBe(model(f.snapshot()).arrivalsTotal);
      expect(value, s.what).toBeGreaterThanOrEqual(last);
      last = value;
    }
    // The reset cleared the statistics' arrivals, not the counter.
    expect(model(f.snapshot()).arrivals).toBeLessThan(last);
    expect(last).toBeGreaterThan(3);
  });

  it('requeues the requests of pods removed by scale-down, removing the newest pods', () => {
    const f = fleet({}, { replicas: 3, serviceTimeMs: 5_000 }, 10);
    f.step(3_000);
    const before = model(f.snapshot());
    const inFlight = before.running + before.waiting;
    f.setReplicas(NS, 'llama-8b-h100', 1);
    const after = model(f.snapshot());
    expect(after.pods.map((p) => p.pod)).toEqual([before.pods[0]?.pod]);
    expect(after.running + after.waiting).toBe(inFlight);
    expect(after.requeued).toBeGreaterThan(0);
    expect(f.deploymentStatus(NS, 'llama-8b-h100')).toEqual({ current: 1, ready: 1 });
  });

  it('follows setArrivalRate', () => {
    const f = fleet({}, { replicas: 4 }, 0);
    f.step(10_000);
    expect(model(f.snapshot()).arrivals).toBe(0);
    f.setArrivalRate(NS, MODEL, 10);
    f.step(10_000);
    const arrivals = model(f.snapshot()).arrivals;
    expect(arrivals).toBeGreaterThan(60);
    expect(arrivals).toBeLessThan(140);
  });
});

describe('VllmFleet gateway flow control (EPP saturation detector)', () => {
  // 1 replica x 16 slots x 0.05 KV: KV reaches 0.8 with a full batch, so the replica is saturated
  // exactly when it cannot start another request.
  const overloaded = (flowControl: FleetOptions['flowControl']) =>
    fleet(
      flowControl === undefined ? {} : { flowControl },
      { replicas: 1, maxBatch: 16, kvPerRequest: 0.05, serviceTimeMs: 1_000, startupDelayMs: 5_000 },
      40,
    );

  it('holds requests at the gateway while every replica is saturated, instead of queueing them on a replica', () => {
    const held = overloaded({});
    const sticky = overloaded(undefined);
    held.step(10_000);
    sticky.step(10_000);
    const h = model(held.snapshot());
    const s = model(sticky.snapshot());
    // The replica never queues past the detector's waiting threshold (5): with token-level KV a full
    // batch holds less than 0.8 of the cache most of the time, so the queue threshold is what binds.
    expect(h.waiting).toBeLessThanOrEqual(5);
    // A full batch is 16; longer-than-mean requests can leave no blocks for the 16th.
    expect(h.running).toBeGreaterThanOrEqual(14);
    expect(h.running).toBeLessThanOrEqual(16);
    expect(h.gatewayQueue).toBeGreaterThan(200);
    expect(s.gatewayQueue).toBe(0);
    expect(s.waiting).toBeGreaterThan(200);
    // Same arrivals either way: flow control moves the queue, it does not drop requests.
    expect(h.arrivals).toBe(s.arrivals);
    expect(h.gatewayQueue + h.running + h.waiting + h.completed).toBe(h.arrivals);
  });

  it('lets a replica queue up to queueDepthThreshold when KV is not the limit', () => {
    const f = fleet(
      { flowControl: { queueDepthThreshold: 3, kvCacheUtilThreshold: 1 } },
      { replicas: 1, maxBatch: 4, kvPerRequest: 0.05, serviceTimeMs: 1_000 },
      20,
    );
    f.step(5_000);
    const m = model(f.snapshot());
    expect(m.running).toBe(4);
    expect(m.waiting).toBe(3);
    expect(m.gatewayQueue).toBeGreaterThan(20);
  });

  it('releases held requests oldest first to a replica that becomes ready, so new capacity drains the backlog', () => {
    const held = overloaded({});
    const sticky = overloaded(undefined);
    for (const f of [held, sticky]) {
      f.step(10_000);
      f.setReplicas(NS, 'llama-8b-h100', 4);
      f.setArrivalRate(NS, MODEL, 10);
      f.step(20_000);
    }
    const h = model(held.snapshot());
    const s = model(sticky.snapshot());
    // With flow control the three new replicas take the held backlog; without it the first replica keeps its queue.
    expect(h.gatewayQueue + h.waiting).toBe(0);
    expect(s.pods[0]?.waiting).toBeGreaterThan(0);
    expect(h.completed).toBeGreaterThan(s.completed);
    expect(h.waitMaxMs).toBeLessThan(s.waitMaxMs);
  });

  it('rejects bad thresholds naming the field and what is expected', () => {
    expect(() => fleet({ flowControl: { queueDepthThreshold: 0 } })).toThrow(
      /flowControl\.queueDepthThreshold 0 must be an integer ≥ 1/,
    );
    expect(() => fleet({ flowControl: { kvCacheUtilThreshold: 1.5 } })).toThrow(
      /flowControl\.kvCacheUtilThreshold 1\.5 must be in \(0, 1\]/,
    );
  });
});

describe('VllmFleet determinism and validation', () => {
  function run(seed: number): FleetSnapshot {
    const f = fleet({ seed }, { replicas: 1, maxBatch: 4, startupDelayMs: 1_000 }, 8);
    f.step(5_000);
    f.setReplicas(NS, 'llama-8b-h100', 3);
    f.step(5_000);
    f.setReplicas(NS, 'llama-8b-h100', 2);
    f.step(5_000);
    return f.snapshot();
  }

  it('gives identical results for the same seed and different ones for another', () => {
    const a = run(11);
    const b = run(11);
    const c = run(12);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('rejects bad specs with errors that name the field and what is expected', () => {
    const bad =
      (variant: Record<string, unknown>, extra: Partial<FleetOptions> = {}) =>
      () =>
        new VllmFleet({
          realtime: false,
          models: [
            {
              namespace: NS,
              modelID: MODEL,
              arrivalRate: 1,
              variants: [{ deployment: 'd', replicas: 1, ...variant }],
            },
          ],
          ...extra,
        });
    expect(bad({ replicas: -1 })).toThrow(/models\[0\]\.variants\[0\]\.replicas -1 must be an integer ≥ 0/);
    expect(bad({ kvPerRequest: 2 })).toThrow(/kvPerRequest 2 must be in \(0, 1\]/);
    expect(bad({ deployment: 'Bad_Name' })).toThrow(/must be a Kubernetes name/);
    expect(bad({}, { tickMs: 0 })).toThrow(/tickMs 0 must be/);
    const f = fleet();
    expect(() => f.setReplicas(NS, 'missing', 1)).toThrow(/unknown deployment llm\/missing/);
    expect(() => f.setArrivalRate(NS, 'nope', 1)).toThrow(/unknown model llm\/nope/);
    expect(f.deploymentStatus(NS, 'missing')).toBeUndefined();
  });
});

describe('VllmFleet realtime mode', () => {
  it('advances the clock by itself once started, scaled by timeScale, and stops with stop()', async () => {
    const f = await serve(fleet({ realtime: true, timeScale: 20, tickMs: 50 }, {}, 20));
    expect(f.nowMs).toBe(0);
    await waitFor(() => f.nowMs >= 2_000 && model(f.snapshot()).completed > 0, 10_000, 'realtime fleet to advance');
    await f.stop();
    const frozen = f.nowMs;
    await new Promise((r) => setTimeout(r, 150));
    expect(f.nowMs).toBe(frozen);
  });
});

describe('VllmFleet at scale', () => {
  it('snapshots and exposes 1,000 models × 10 pods', async () => {
    const models = Array.from({ length: 1000 }, (_, i) => ({
      namespace: `ns-${i % 10}`,
      modelID: `org/model-${i}`,
      arrivalRate: 2,
      variants: [{ deployment: `model-${i}`, replicas: 10 }],
    }));
    const f = await serve(new VllmFleet({ realtime: false, seed: 5, models, histograms: false }));
    f.step(1_000);
    const snap = f.snapshot();
    expect(snap.totals.pods).toBe(10_000);
    expect(snap.totals.readyPods).toBe(10_000);
    const text = (await get(f.metricsUrl())).text;
    const running = samples(text).filter((s) => s.name === 'vllm:num_requests_running');
    expect(running).toHaveLength(10_000);
    expect(running.reduce((a, s) => a + s.value, 0)).toBe(snap.totals.running);
  });
});
