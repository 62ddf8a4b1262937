/**
 * The gateway (EPP) flow-control queue per model, read one way by every reader (both collectors
 * and the demand probe); the gateway's request counter (arrivals) is summed per model by the same
 * rule (gatewaySumByModel) and named here beside it.
 *
 * The gauge has two names: llm-d's EPP exports it as `llm_d_epp_…` and marks the upstream
 * `inference_extension_…` name deprecated, and a gateway may export both while that lasts. Per
 * gateway exposition the first name present in GATEWAY_QUEUE_METRICS is read, so a queue is never
 * counted twice. A series belongs to the model named by its `target_model_name`; a series without
 * a `namespace` label applies to that model name in every namespace (a gateway often has none).
 * A model's queue is the sum of its series (flow-control bands, pools); a NaN part makes it
 * missing (never under-report a queue), and a model with no series has no entry (absent, not 0).
 */
import { modelKey } from '../domain/variant.js';
import { parseExposition, type TextSample } from './text-format.js';

export const GATEWAY_QUEUE_METRICS = [
  'inference_extension_flow_control_queue_size',
  'llm_d_epp_flow_control_queue_size',
] as const;

/** The metric families a gateway exposition is parsed for. */
export const GATEWAY_QUEUE_WANTED: ReadonlySet<string> = new Set<string>(GATEWAY_QUEUE_METRICS);

/** The name to read from one exposition: the first of GATEWAY_QUEUE_METRICS it has samples of. */
export function preferredGatewayQueueMetric(namesPresent: ReadonlySet<string>): string | undefined {
  return GATEWAY_QUEUE_METRICS.find((n) => namesPresent.has(n));
}

/**
 * EPP's request counter (labels model_name, target_model_name): the current name first, then the
 * one before the InferenceModel → InferenceObjective rename (gateway-api-inference-extension,
 * site-src/guides/metrics.md lists `inference_model_request_total`; its e2e `verifyMetrics` expects
 * `inference_objective_request_total`). EPP exports one of them; per exposition the first present
 * is read, as for the queue, so a gateway exporting both is not counted twice.
 */
export const GATEWAY_ARRIVAL_METRICS = ['inference_objective_request_total', 'inference_model_request_total'] as const;

/** The name to read from one exposition: the first of GATEWAY_ARRIVAL_METRICS it has samples of. */
export function preferredGatewayArrivalMetric(namesPresent: ReadonlySet<string>): string | undefined {
  return GATEWAY_ARRIVAL_METRICS.find((n) => namesPresent.has(n));
}

export interface GatewayModel {
  readonly namespace: string;
  readonly modelID: string;
}

export interface GatewaySeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | undefined;
}

/**
 * Sum by model key (`namespace/modelID`) of the series of one gateway metric (the queue, or the
 * arrival rate per series): a NaN part makes the model missing, a model without series has no entry.
 */
export function gatewaySumByModel(
  series: Iterable<GatewaySeries>,
  models: readonly GatewayModel[],
): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const s of series) {
    const name = s.labels.target_model_name;
    if (name === undefined) continue;
    const ns = s.labels.namespace;
    for (const m of models) {
      if (m.modelID !== name || (ns !== undefined && ns !== '' && ns !== m.namespace)) continue;
      const mk = modelKey(m.namespace, m.modelID);
      const prev = out.get(mk);
      out.set(mk, s.value === undefined || (out.has(mk) && prev === undefined) ? undefined : (prev ?? 0) + s.value);
    }
  }
  return out;
}

/** Queue by model key from the samples of one gateway exposition (either name, never both). */
export function gatewayQueueFromSamples(
  samples: readonly TextSample[],
  models: readonly GatewayModel[],
): Map<string, number | undefined> {
  const metric = preferredGatewayQueueMetric(new Set(samples.map((s) => s.name)));
  return gatewaySumByModel(
    samples.filter((s) => s.name === metric),
    models,
  );
}

/** Queue by model key from a gateway's /metrics text (`source` names it in parse errors). */
export function gatewayQueueFromText(
  text: string,
  source: string,
  models: readonly GatewayModel[],
): Map<string, number | undefined> {
  return gatewayQueueFromSamples(parseExposition(text, source, GATEWAY_QUEUE_WANTED), models);
}
