/**
 * The cluster's vLLM fleet: every Running and Ready pod of a Deployment whose pod template is
 * annotated `wva-scaler.dev/model: <model_name>` is an emulated vLLM replica of that model (the
 * fleet emulator in src/sim/fleet), with the `namespace` and `pod` labels Prometheus' Kubernetes
 * discovery would add. It polls the API server (500 ms) with the admin kubeconfig.
 *
 *   GET  /metrics, /gateway/metrics, /healthz   the fleet's own endpoints (on --port)
 *   POST /load?namespace=&deployment=&rps=       offered load of the Deployment's model
 *   POST /gateway?namespace=&model=&queued=      requests held at the gateway (raised to queued)
 *   GET  /state                                  the fleet's snapshot (JSON)
 * The control endpoints listen on --control-port.
 *
 * Optional template annotations: `wva-scaler.dev/max-batch`, `wva-scaler.dev/service-time-ms`,
 * `wva-scaler.dev/kv-per-request`.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { VllmFleet, type FleetVariantSpec } from '../../../src/sim/fleet/index.js';

export const MODEL_ANNOTATION = 'wva-scaler.dev/model';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    port: { type: 'string' },
    'control-port': { type: 'string' },
  },
});
if (!values.kubeconfig || !values.port || !values['control-port']) {
  throw new Error('fleet-daemon: --kubeconfig, --port and --control-port are required');
}

const kc = new KubeConfig();
kc.loadFromFile(values.kubeconfig);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
// flowControl: requests wait at the gateway while no replica can take them, as llm-d's EPP does.
const fleet = new VllmFleet({ models: [], port: Number(values.port), flowControl: {} });

function numberAnnotation(d: V1Deployment, key: string): number | undefined {
  const raw = d.spec?.template.metadata?.annotations?.[key];
  return raw === undefined ? undefined : Number(raw);
}

function variantOf(d: V1Deployment): FleetVariantSpec {
  const spec: FleetVariantSpec = { deployment: d.metadata?.name ?? '', replicas: 0 };
  const maxBatch = numberAnnotation(d, 'wva-scaler.dev/max-batch');
  const serviceTimeMs = numberAnnotation(d, 'wva-scaler.dev/service-time-ms');
  const kvPerRequest = numberAnnotation(d, 'wva-scaler.dev/kv-per-request');
  // The scenarios size their load for one replica serving about 8 req/s (16 at once, 2 s each, KV
  // 0.8 when full): the token fleet's own defaults (an H100 serving an 8B model) serve far more.
  spec.maxBatch = maxBatch ?? 16;
  spec.serviceTimeMs = serviceTimeMs ?? 2000;
  spec.kvPerRequest = kvPerRequest ?? 0.05;
  return spec;
}

function selects(d: V1Deployment, pod: V1Pod): boolean {
  const want = d.spec?.selector.matchLabels ?? {};
  const have = pod.metadata?.labels ?? {};
  return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => have[k] === v);
}

function runningAndReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase !== 'Running') return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

let lastError = '';
async function sync(): Promise<void> {
  const [deployments, pods] = await Promise.all([
    apps.listDeploymentForAllNamespaces(),
    core.listPodForAllNamespaces(),
  ]);
  for (const d of deployments.items) {
    const model = d.spec?.template.metadata?.annotations?.[MODEL_ANNOTATION];
    const ns = d.metadata?.namespace;
    if (!model || !ns) continue;
    const names = pods.items
      .filter((p) => p.metadata?.namespace === ns && selects(d, p) && runningAndReady(p))
      .map((p) => p.metadata?.name ?? '')
      .sort();
    fleet.adoptPods(ns, model, variantOf(d), names);
  }
}

async function loop(): Promise<void> {
  for (;;) {
    try {
      await sync();
      lastError = '';
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (text !== lastError) console.error(`fleet-daemon: sync failed (retrying): ${text}`);
      lastError = text;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function control(url: URL): { status: number; body: unknown } {
  const q = (k: string): string => {
    const v = url.searchParams.get(k);
    if (v === null || v === '') throw new Error(`missing query parameter "${k}"`);
    return v;
  };
  if (url.pathname === '/state') return { status: 200, body: fleet.snapshot() };
  if (url.pathname === '/load') {
    const ns = q('namespace');
    const deployment = q('deployment');
    const model = fleet.modelOf(ns, deployment);
    if (!model)
      return {
        status: 404,
        body: {
          error: `no vLLM Deployment ${ns}/${deployment} (annotate its pod template ${MODEL_ANNOTATION} and wait for a Ready pod)`,
        },
      };
    fleet.setArrivalRate(ns, model, Number(q('rps')));
    return { status: 200, body: { namespace: ns, model, rps: Number(q('rps')) } };
  }
  if (url.pathname === '/gateway') {
    const ns = q('namespace');
    const model = q('model');
    const queued = Number(q('queued'));
    const now = fleet.snapshot().models.find((m) => m.namespace === ns && m.modelID === model)?.gatewayQueue ?? 0;
    if (queued > now) fleet.enqueueAtGateway(ns, model, queued - now);
    return { status: 200, body: { namespace: ns, model, queued: Math.max(queued, now) } };
  }
  return { status: 404, body: { error: 'endpoints: POST /load, POST /gateway, GET /state' } };
}

await fleet.start();
createServer((req, res) => {
  let out: { status: number; body: unknown };
  try {
    out = control(new URL(req.url ?? '/', 'http://control'));
  } catch (err) {
    out = { status: 400, body: { error: err instanceof Error ? err.message : String(err) } };
  }
  res.writeHead(out.status, { 'content-type': 'application/json' }).end(`${JSON.stringify(out.body)}\n`);
}).listen(Number(values['control-port']), '127.0.0.1');
console.log(
  `fleet-daemon: metrics ${fleet.metricsUrl()}, gateway ${fleet.gatewayUrl()}, control http://127.0.0.1:${values['control-port']}`,
);
void loop();
