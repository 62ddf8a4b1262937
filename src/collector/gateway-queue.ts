/**
 * The gateway (EPP) flow-control queue gauge, under both of its names: llm-d's EPP exports it as
 * `llm_d_epp_…` and marks the upstream `inference_extension_…` name deprecated, and a gateway may
 * export both while that lasts. Every reader (both collectors, the demand probe) takes, per
 * gateway exposition, the first name present in this order, so a queue is never counted twice.
 */
export const GATEWAY_QUEUE_METRICS = ['inference_extension_flow_control_queue_size', 'llm_d_epp_flow_control_queue_size'] as const;

/** The name to read from one exposition: the first of GATEWAY_QUEUE_METRICS it has samples of. */
export function preferredGatewayQueueMetric(namesPresent: ReadonlySet<string>): string | undefined {
  return GATEWAY_QUEUE_METRICS.find((n) => namesPresent.has(n));
}
