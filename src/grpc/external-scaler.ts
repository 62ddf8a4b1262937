/**
 * KEDA's ExternalScaler, answered from the DecisionCache.
 *  - GetMetricSpec: validate metadata, register the variant, answer one metric with target 1. No I/O.
 *  - GetMetrics (hot path): one Map lookup and an encode. With no decision yet, ask the
 *    DecisionSource (coalesced engine run) within the deadline, else UNAVAILABLE with the reason so
 *    KEDA's `fallback` applies.
 *  - IsActive / StreamIsActive: active when the decision is above zero.
 *  - Every call but GetMetrics tells RegistrationExpiry that KEDA still asks about the variant.
 *  - At most `maxGrpcVariants` variants registered through GetMetricSpec at once (any client that
 *    reaches the port can register): a new one beyond that is UNAVAILABLE (KEDA's fallback applies)
 *    until registrations expire. Variants from informers or the variants file do not count.
 *  - GetMetrics and IsActive for a variant already registered do not re-read the metadata they are
 *    sent: GetMetrics is the hot path (a Map lookup), and KEDA sends the same trigger metadata to
 *    GetMetricSpec on every HPA poll, which re-registers a changed trigger; informers see changes
 *    themselves. Their metadata is read when the variant is not registered (first call, or expired).
 * Expected conditions never answer INTERNAL.
 */
import * as grpc from '@grpc/grpc-js';
import type { DecisionCache } from '../cache/decision-cache.js';
import type { VariantRegistry } from '../cache/variant-registry.js';
import { MetadataError, parseTriggerMetadata } from '../config/trigger-metadata.js';
import { isActive, type Decision } from '../domain/decision.js';
import { sameVariant, variantKey, type Variant } from '../domain/variant.js';
import type { DecisionSource } from '../engine/decision-source.js';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import type { ActiveStreams } from './active-streams.js';
import type { RegistrationExpiry } from './registration-expiry.js';
import type {
  ExternalScalerHandlers,
  GetMetricSpecResponse,
  GetMetricsRequest__Output,
  GetMetricsResponse,
  IsActiveResponse,
  ScaledObjectRef__Output,
} from './proto.js';

/** The one metric each variant exposes; KEDA prefixes it (`s0-…`) for the HPA and strips it back. */
export const METRIC_NAME = 'wva-desired-replicas';

export interface ExternalScalerDeps {
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly source: DecisionSource;
  readonly streams: ActiveStreams;
  readonly metrics: ScalerMetrics;
  readonly logger: Logger;
  /** Longest wait for a first decision (capped by the call's own deadline). */
  readonly firstDecisionDeadlineMs: number;
  /** Told of every call but GetMetrics, so variants KEDA no longer asks about can be forgotten. */
  readonly expiry?: Pick<RegistrationExpiry, 'touch'>;
  /** Most variants registered through gRPC at once (default DEFAULT_MAX_GRPC_VARIANTS). */
  readonly maxGrpcVariants?: number;
}

export const DEFAULT_MAX_GRPC_VARIANTS = 2000;

class CallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

type Method = 'GetMetricSpec' | 'GetMetrics' | 'IsActive' | 'StreamIsActive';

/** Pre-bound metric children, so the hot path does no label lookups. */
class MethodMetrics {
  private readonly ok;
  private readonly latency;
  constructor(
    private readonly metrics: ScalerMetrics,
    private readonly method: Method,
  ) {
    this.ok = metrics.grpcRequests.labels(method, 'OK');
    this.latency = metrics.grpcLatency.labels(method);
  }
  done(startNs: bigint, code: grpc.status): void {
    if (code === grpc.status.OK) this.ok.inc();
    else this.metrics.grpcRequests.labels(this.method, grpc.status[code] ?? String(code)).inc();
    this.latency.observe(Number(process.hrtime.bigint() - startNs) / 1e9);
  }
}

export class ExternalScalerService {
  private readonly m: Record<Method, MethodMetrics>;
  /** Keys of the variants this service registered and the registry still holds. */
  private readonly grpcRegistered = new Set<string>();

  constructor(private readonly deps: ExternalScalerDeps) {
    deps.registry.onChange((c) => {
      if (c.type === 'removed' || c.variant.source !== 'grpc') this.grpcRegistered.delete(c.variant.key);
    });
    this.m = {
      GetMetricSpec: new MethodMetrics(deps.metrics, 'GetMetricSpec'),
      GetMetrics: new MethodMetrics(deps.metrics, 'GetMetrics'),
      IsActive: new MethodMetrics(deps.metrics, 'IsActive'),
      StreamIsActive: new MethodMetrics(deps.metrics, 'StreamIsActive'),
    };
  }

  /** The handler map for grpc.Server.addService, typed by the generated service definition. */
  handlers(): ExternalScalerHandlers {
    return {
      GetMetricSpec: this.getMetricSpec,
      GetMetrics: this.getMetrics,
      IsActive: this.isActive,
      StreamIsActive: this.streamIsActive,
    };
  }

  private readonly getMetricSpec = (
    call: grpc.ServerUnaryCall<ScaledObjectRef__Output, GetMetricSpecResponse>,
    callback: grpc.sendUnaryData<GetMetricSpecResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    try {
      this.register(call.request);
      this.m.GetMetricSpec.done(start, grpc.status.OK);
      callback(null, { metricSpecs: [{ metricName: METRIC_NAME, targetSize: 1, targetSizeFloat: 1 }] });
    } catch (err) {
      this.fail('GetMetricSpec', start, err, callback);
    }
  };

  private readonly getMetrics = (
    call: grpc.ServerUnaryCall<GetMetricsRequest__Output, GetMetricsResponse>,
    callback: grpc.sendUnaryData<GetMetricsResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    const ref = call.request.scaledObjectRef;
    const metricName = call.request.metricName === '' ? METRIC_NAME : call.request.metricName;
    const decision = ref ? this.deps.decisions.get(variantKey(ref.namespace, ref.name)) : undefined;
    if (decision) {
      this.m.GetMetrics.done(start, grpc.status.OK);
      callback(null, metricsResponse(metricName, decision));
      return;
    }
    this.firstDecision(ref, call).then(
      (d) => {
        this.m.GetMetrics.done(start, grpc.status.OK);
        callback(null, metricsResponse(metricName, d));
      },
      (err: unknown) => this.fail('GetMetrics', start, err, callback),
    );
  };

  private readonly isActive = (
    call: grpc.ServerUnaryCall<ScaledObjectRef__Output, IsActiveResponse>,
    callback: grpc.sendUnaryData<IsActiveResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    const ref = call.request;
    const key = variantKey(ref.namespace, ref.name);
    const decision = this.deps.decisions.get(key);
    if (decision) {
      this.deps.expiry?.touch(key);
      this.m.IsActive.done(start, grpc.status.OK);
      callback(null, { result: isActive(decision) });
      return;
    }
    this.firstDecision(ref, call).then(
      (d) => {
        this.m.IsActive.done(start, grpc.status.OK);
        callback(null, { result: isActive(d) });
      },
      (err: unknown) => this.fail('IsActive', start, err, callback),
    );
  };

  private readonly streamIsActive = (
    call: grpc.ServerWritableStream<ScaledObjectRef__Output, IsActiveResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    let variant: Variant;
    try {
      variant = this.register(call.request);
    } catch (err) {
      const { code, message } = this.classify(err);
      this.m.StreamIsActive.done(start, code);
      call.emit('error', { code, details: message, metadata: new grpc.Metadata() });
      return;
    }
    const decision = this.deps.decisions.get(variant.key);
    this.deps.streams.attach(call, variant.key, decision ? isActive(decision) : undefined);
    this.m.StreamIsActive.done(start, grpc.status.OK);
    if (!decision) {
      // Ask for a first decision in the background; it reaches the stream through the trigger.
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), this.deps.firstDecisionDeadlineMs);
      call.once('cancelled', () => ac.abort());
      this.deps.source
        .requestDecision(variant.key, ac.signal)
        .catch((err: unknown) =>
          this.deps.logger.debug({ err, variant: variant.key }, 'first decision for stream failed'),
        )
        .finally(() => clearTimeout(timer));
    }
  };

  /** Parses and registers the variant; unchanged registrations cost one parse and a comparison. */
  private register(ref: ScaledObjectRef__Output): Variant {
    // A variant the ScaledObject informer registered is the authority, and its metadata may lack
    // `modelID` (WVA's llm-d.ai/model-id annotation gives it, which KEDA does not forward).
    const informed = this.deps.registry.get(variantKey(ref.namespace, ref.name));
    if (informed && informed.source !== 'grpc') {
      this.deps.expiry?.touch(informed.key);
      return informed;
    }
    const variant = parseTriggerMetadata(ref.namespace, ref.name, ref.scalerMetadata ?? {});
    this.deps.expiry?.touch(variant.key);
    const known = this.deps.registry.get(variant.key);
    // Informers (ScaledObject, VariantAutoscaling) see the same trigger plus min/maxReplicaCount and
    // are the authority for what they registered. GetMetricSpec runs on every poll: no churn.
    if (known && (known.source !== 'grpc' || sameVariant(known, variant))) return known;
    const max = this.deps.maxGrpcVariants ?? DEFAULT_MAX_GRPC_VARIANTS;
    if (!known && this.grpcRegistered.size >= max) {
      throw new CallError(
        grpc.status.UNAVAILABLE,
        `cannot register ${variant.key}: ${max} variants are already registered through GetMetricSpec (WVA_MAX_GRPC_VARIANTS); unused ones expire`,
      );
    }
    const result = this.deps.registry.upsert(variant);
    this.grpcRegistered.add(variant.key);
    if (result !== 'unchanged')
      this.deps.logger.info({ variant: variant.key, modelID: variant.modelID, result }, 'variant registered');
    return variant;
  }

  /** Registers from the request if needed, then waits for a first decision within the deadline. */
  private async firstDecision(
    ref: ScaledObjectRef__Output | null,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): Promise<Decision> {
    if (!ref) throw new CallError(grpc.status.INVALID_ARGUMENT, 'scaledObjectRef is required');
    const variant = this.register(ref);
    const ac = new AbortController();
    // grpc-js hands the server a Date or epoch milliseconds (Infinity without a deadline). Answer
    // 50 ms before KEDA's deadline so it gets UNAVAILABLE with the reason, not DEADLINE_EXCEEDED.
    const callDeadlineMs = Number(call.getDeadline());
    const callBudget = Number.isFinite(callDeadlineMs) ? callDeadlineMs - Date.now() - 50 : Number.POSITIVE_INFINITY;
    const budget = Math.max(0, Math.min(this.deps.firstDecisionDeadlineMs, callBudget));
    const timer = setTimeout(() => ac.abort(), budget);
    const onCancel = (): void => ac.abort();
    call.once('cancelled', onCancel);
    try {
      const outcome = await this.deps.source.requestDecision(variant.key, ac.signal);
      if (outcome.ok) return outcome.decision;
      throw new CallError(grpc.status.UNAVAILABLE, `no decision yet for ${variant.key}: ${outcome.reason}`);
    } finally {
      clearTimeout(timer);
      call.off('cancelled', onCancel);
    }
  }

  private classify(err: unknown): { code: grpc.status; message: string } {
    if (err instanceof MetadataError) return { code: grpc.status.INVALID_ARGUMENT, message: err.message };
    if (err instanceof CallError) return { code: err.code, message: err.message };
    return {
      code: grpc.status.INTERNAL,
      message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }

  private fail<T>(method: Method, start: bigint, err: unknown, callback: grpc.sendUnaryData<T>): void {
    const { code, message } = this.classify(err);
    this.m[method].done(start, code);
    if (code === grpc.status.INTERNAL) this.deps.logger.error({ err, method }, 'unexpected error');
    else this.deps.logger.debug({ method, code: grpc.status[code], message }, 'call refused');
    callback({ code, details: message, name: 'Error', message, metadata: new grpc.Metadata() }, null);
  }
}

function metricsResponse(metricName: string, d: Decision): GetMetricsResponse {
  return {
    metricValues: [{ metricName, metricValue: Math.round(d.desiredReplicas), metricValueFloat: d.desiredReplicas }],
  };
}
