import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { modelKey } from '../../../src/domain/variant.js';
import { DecisionCache } from '../../../src/cache/decision-cache.js';
import { DecisionTrigger, type DecisionEvent } from '../../../src/cache/decision-trigger.js';
import { GlobalConfig } from '../../../src/cache/global-config.js';
import { VariantRegistry } from '../../../src/cache/variant-registry.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { gatewayQueueFromText } from '../../../src/collector/gateway-queue.js';
import { DemandProbe, GatewayDemandReader, type DemandReader } from '../../../src/engine/demand-probe.js';
import { Engine } from '../../../src/engine/engine.js';
import { MODEL, NOW, NS, StaticCollector, metrics, prev, variant } from './fixtures.js';

// Shape of a real EPP exposition: HELP/TYPE, several label sets per model (priority bands), other families.
const EPP_TEXT = `# HELP inference_extension_flow_control_queue_size [ALPHA] Current number of requests in the flow control queue.
# TYPE inference_extension_flow_control_queue_size gauge
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",model_name="${MODEL}",priority="0",target_model_name="${MODEL}"} 2
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",model_name="${MODEL}",priority="-10",target_model_name="${MODEL}"} 1
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",model_name="alias",priority="0",target_model_name="other/model"} 0
inference_extension_flow_control_queue_size{fairness_id="default",inference_pool="pool",model_name="x",priority="0",target_model_name="broken"} NaN
# HELP llm_d_epp_flow_control_queue_size Current number of requests in the flow control queue.
# TYPE llm_d_epp_flow_control_queue_size gauge
llm_d_epp_flow_control_queue_size{model_name="${MODEL}",priority="0",target_model_name="${MODEL}"} 3
# HELP inference_pool_ready_pods The number of ready pods.
# TYPE inference_pool_ready_pods gauge
inference_pool_ready_pods{name="pool"} 0
`;

const models = [
  { namespace: NS, modelID: MODEL },
  { namespace: NS, modelID: 'other/model' },
  { namespace: NS, modelID: 'broken' },
];

describe('gateway demand from EPP /metrics text (the one reader: collector/gateway-queue.ts)', () => {
  it('sums the queue gauge by target model, once (no double count of the renamed family); NaN makes it unknown', () => {
    const d = gatewayQueueFromText(EPP_TEXT, 'gw', models);
    expect([...d.entries()]).toEqual([
      [modelKey(NS, MODEL), 3],
      [modelKey(NS, 'other/model'), 0],
      [modelKey(NS, 'broken'), undefined],
    ]);
  });

  it('reads the newer llm_d_epp_ family when it is the only one, honouring its namespace label', () => {
    const text = `# TYPE llm_d_epp_flow_control_queue_size gauge\nllm_d_epp_flow_control_queue_size{namespace="prod",target_model_name="m"} 4\n`;
    expect([
      ...gatewayQueueFromText(text, 'gw', [
        { namespace: 'prod', modelID: 'm' },
        { namespace: NS, modelID: 'm' },
      ]),
    ]).toEqual([['prod/m', 4]]);
  });

  it('a series without a namespace label is the queue of that model name in every namespace', () => {
    const d = gatewayQueueFromText(EPP_TEXT, 'gw', [
      { namespace: 'prod', modelID: MODEL },
      { namespace: NS, modelID: MODEL },
    ]);
    expect([...d.entries()]).toEqual([
      [modelKey('prod', MODEL), 3],
      [modelKey(NS, MODEL), 3],
    ]);
  });
});

describe('GatewayDemandReader over real HTTP', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function serve(status: number, body: string): Promise<string> {
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  it('fetches and parses the gateway exposition', async () => {
    const reader = new GatewayDemandReader({ url: await serve(200, EPP_TEXT) });
    expect((await reader.readDemand(models)).get(modelKey(NS, MODEL))).toBe(3);
  });

  it('wakes a model outside the default namespace when the gateway series carry no namespace label', async () => {
    const prod = variant('llama', { namespace: 'prod', cost: 5 });
    const registry = new VariantRegistry();
    registry.upsert(prod);
    const decisions = new DecisionCache();
    decisions.set(prev(prod, 0));
    const reader = new GatewayDemandReader({ url: await serve(200, EPP_TEXT) });
    const probe = new DemandProbe({
      registry,
      decisions,
      trigger: new DecisionTrigger(),
      reader,
      requestRun: () => undefined,
      logger: silentLogger(),
      intervalMs: 250,
      clock: () => NOW,
    });
    expect(await probe.probeOnce()).toEqual([modelKey('prod', MODEL)]);
    expect(decisions.get(prod.key)?.desiredReplicas).toBe(1);
  });

  it('an HTTP error is an error, not zero demand', async () => {
    const reader = new GatewayDemandReader({ url: await serve(503, 'down') });
    await expect(reader.readDemand(models)).rejects.toThrow('answered HTTP 503');
  });
});

describe('DemandProbe', () => {
  const cheap = variant('cheap', { cost: 5 });
  const pricey = variant('pricey', { cost: 20 });

  function setup(demand: Map<string, number | undefined>) {
    const registry = new VariantRegistry();
    registry.upsert(cheap);
    registry.upsert(pricey);
    const decisions = new DecisionCache();
    const trigger = new DecisionTrigger();
    const events: DecisionEvent[] = [];
    trigger.subscribe(cheap.key, (e) => events.push(e));
    let reads = 0;
    const reader: DemandReader = {
      readDemand: async () => {
        reads++;
        return demand;
      },
    };
    const runs: string[] = [];
    const probe = new DemandProbe({
      registry,
      decisions,
      trigger,
      reader,
      requestRun: (k) => runs.push(k),
      logger: silentLogger(),
      intervalMs: 250,
      clock: () => NOW,
    });
    return { registry, decisions, trigger, events, probe, runs, reads: () => reads };
  }

  it('wakes the cheapest variant of a model at zero at once: decision 1, active event, engine run', async () => {
    const t = setup(new Map([[modelKey(NS, MODEL), 2]]));
    t.decisions.set(prev(cheap, 0));
    t.decisions.set(prev(pricey, 0));
    expect(await t.probe.probeOnce()).toEqual([modelKey(NS, MODEL)]);
    expect(t.decisions.get(cheap.key)?.desiredReplicas).toBe(1);
    expect(t.decisions.get(cheap.key)?.reasons[0]).toBe(
      'scale from zero: 2 request(s) queued at the gateway (demand probe)',
    );
    expect(t.decisions.get(pricey.key)?.desiredReplicas).toBe(0);
    t.trigger.flush();
    expect(t.events.map((e) => [e.desiredReplicas, e.active])).toEqual([[1, true]]);
    expect(t.runs).toEqual([modelKey(NS, MODEL)]);
  });

  it('does not read the gateway while no model is at zero, and does nothing without demand', async () => {
    const t = setup(new Map([[modelKey(NS, MODEL), 0]]));
    t.decisions.set(prev(cheap, 2));
    t.decisions.set(prev(pricey, 0));
    expect(await t.probe.probeOnce()).toEqual([]);
    expect(t.reads()).toBe(0);
    t.decisions.set(prev(cheap, 0));
    expect(await t.probe.probeOnce()).toEqual([]);
    expect(t.reads()).toBe(1);
    expect(t.decisions.get(cheap.key)?.desiredReplicas).toBe(0);
  });

  it("the engine does not undo the probe's wake when its metrics cache still shows no demand", async () => {
    const t = setup(new Map([[modelKey(NS, MODEL), 1]]));
    t.decisions.set(prev(cheap, 0));
    t.decisions.set(prev(pricey, 0));
    const engine = new Engine({
      registry: t.registry,
      decisions: t.decisions,
      trigger: t.trigger,
      config: new GlobalConfig({
        engineIntervalMs: 15_000,
        maxScaleUpRate: 2,
        scaleToZero: { enabled: true, retentionMs: 600_000 },
      }),
      collector: new StaticCollector(metrics([], { gatewayQueue: 0, requestsOverRetention: 0 })),
      metrics: new ScalerMetrics(),
      logger: silentLogger(),
      clock: () => NOW,
    });
    // Before the wake the engine keeps the idle model at zero.
    await engine.runOnce();
    expect(t.decisions.get(cheap.key)?.desiredReplicas).toBe(0);
    await t.probe.probeOnce();
    await engine.runOnce(NOW + 1000);
    expect(t.decisions.get(cheap.key)?.desiredReplicas).toBe(1);
    expect(t.decisions.get(cheap.key)?.reasons).toContain('waking: holding the previous decision until replicas start');
  });
});
