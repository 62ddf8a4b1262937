/**
 * Plays KEDA and the HPA against a scaler over real gRPC, for the demo and the benches:
 *  - GetMetricSpec once per ScaledObject, then every polling interval GetMetrics and IsActive.
 *  - HPA with metricType AverageValue and target 1: desired = ceil(value / target), the default
 *    10 % tolerance, a scale-down stabilization window (the max recommendation over the window),
 *    clamped to [minReplicaCount, maxReplicaCount].
 *  - KEDA activation: at 0 replicas and active -> max(1, min); inactive longer than cooldownPeriod
 *    with minReplicaCount 0 -> 0. With `push`, a StreamIsActive stream wakes a variant at once.
 *  - On a failed GetMetrics the replica count is held (KEDA's fallback is configured per object).
 */
import * as grpc from '@grpc/grpc-js';
import {
  loadExternalScalerProto,
  type GetMetricsResponse__Output as GetMetricsResponse,
  type IsActiveResponse__Output as IsActiveResponse,
} from '../grpc/proto.js';

export interface EmulatedScaledObject {
  readonly namespace: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly minReplicaCount: number;
  readonly maxReplicaCount: number;
  /** Hold a StreamIsActive stream (trigger type external-push). */
  readonly push: boolean;
}

export interface KedaEmulatorOptions {
  readonly address: string;
  readonly scaledObjects: readonly EmulatedScaledObject[];
  /** Applies a replica count to the workload (the emulated Deployment controller). */
  readonly apply: (so: EmulatedScaledObject, replicas: number) => void;
  /** Current replicas of the workload. */
  readonly current: (so: EmulatedScaledObject) => number;
  readonly pollingIntervalMs: number;
  readonly cooldownPeriodMs: number;
  readonly scaleDownStabilizationMs: number;
  readonly tolerance?: number;
  readonly clock?: () => number;
  /** Called when a stream push activated a variant (for activation latency measurements). */
  readonly onPush?: (so: EmulatedScaledObject, at: number) => void;
}

export interface ScaledObjectView {
  readonly so: EmulatedScaledObject;
  metricValue: number | undefined;
  active: boolean | undefined;
  lastError: string | undefined;
  lastActiveAt: number;
  readonly recommendations: { at: number; replicas: number }[];
}

type Unary = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

export class KedaEmulator {
  private readonly client: grpc.Client;
  private readonly views: ScaledObjectView[];
  private readonly streams: grpc.ClientReadableStream<IsActiveResponse>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly clock: () => number;

  constructor(private readonly opts: KedaEmulatorOptions) {
    const { Client } = loadExternalScalerProto();
    this.client = new Client(opts.address, grpc.credentials.createInsecure());
    this.clock = opts.clock ?? Date.now;
    this.views = opts.scaledObjects.map((so) => ({
      so,
      metricValue: undefined,
      active: undefined,
      lastError: undefined,
      lastActiveAt: this.clock(),
      recommendations: [],
    }));
  }

  get scaledObjects(): readonly ScaledObjectView[] {
    return this.views;
  }

  async start(): Promise<void> {
    for (const v of this.views) await this.call('GetMetricSpec', this.ref(v.so));
    for (const v of this.views) if (v.so.push) this.openStream(v);
    await this.pollOnce();
    this.timer = setInterval(() => void this.pollOnce(), this.opts.pollingIntervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.streams) s.cancel();
    this.client.close();
  }

  /** One polling round for every ScaledObject (KEDA's scale loop + one HPA sync). */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all(this.views.map((v) => this.pollOne(v)));
    } finally {
      this.polling = false;
    }
  }

  private async pollOne(v: ScaledObjectView): Promise<void> {
    const now = this.clock();
    try {
      const res = (await this.call('GetMetrics', {
        scaledObjectRef: this.ref(v.so),
        metricName: 'wva-desired-replicas',
      })) as GetMetricsResponse;
      const mv = res.metricValues[0];
      v.metricValue = mv ? (mv.metricValueFloat !== 0 ? mv.metricValueFloat : mv.metricValue) : undefined;
      v.active = ((await this.call('IsActive', this.ref(v.so))) as IsActiveResponse).result;
      v.lastError = undefined;
    } catch (err) {
      v.lastError = (err as grpc.ServiceError).details ?? String(err);
      return; // hold
    }
    if (v.active) v.lastActiveAt = now;
    const current = this.opts.current(v.so);
    const { minReplicaCount: min, maxReplicaCount: max } = v.so;
    if (current === 0) {
      if (v.active) this.opts.apply(v.so, Math.max(1, min, Math.min(max, Math.ceil(v.metricValue ?? 1))));
      return;
    }
    if (!v.active && min === 0 && now - v.lastActiveAt >= this.opts.cooldownPeriodMs) {
      this.opts.apply(v.so, 0);
      v.recommendations.length = 0;
      return;
    }
    // HPA: AverageValue with target 1 -> usage ratio = (value / current) / 1.
    const value = v.metricValue ?? current;
    const ratio = value / current;
    const tolerance = this.opts.tolerance ?? 0.1;
    let recommended = Math.abs(ratio - 1) <= tolerance ? current : Math.ceil(value);
    recommended = Math.min(max, Math.max(Math.max(1, min), recommended));
    v.recommendations.push({ at: now, replicas: recommended });
    while (v.recommendations.length > 0 && (v.recommendations[0]?.at ?? now) < now - this.opts.scaleDownStabilizationMs)
      v.recommendations.shift();
    // Scale-down stabilization: the highest recommendation within the window wins.
    const stabilized = recommended < current ? Math.max(...v.recommendations.map((r) => r.replicas)) : recommended;
    if (stabilized !== current) this.opts.apply(v.so, Math.min(max, stabilized));
  }

  private openStream(v: ScaledObjectView): void {
    const fn = (this.client as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<IsActiveResponse>>)[
      'StreamIsActive'
    ];
    if (!fn) return;
    const s = fn.call(this.client, this.ref(v.so));
    s.on('data', (m: IsActiveResponse) => {
      if (!m.result) return;
      const at = this.clock();
      v.active = true;
      v.lastActiveAt = at;
      this.opts.onPush?.(v.so, at);
      if (this.opts.current(v.so) === 0) this.opts.apply(v.so, Math.max(1, v.so.minReplicaCount));
    });
    s.on('error', () => undefined);
    this.streams.push(s);
  }

  private ref(so: EmulatedScaledObject): { name: string; namespace: string; scalerMetadata: Record<string, string> } {
    return { name: so.name, namespace: so.namespace, scalerMetadata: { ...so.metadata } };
  }

  private call(method: string, req: unknown): Promise<unknown> {
    const fn = (this.client as unknown as Record<string, Unary>)[method];
    if (!fn) return Promise.reject(new Error(`no method ${method}`));
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  }
}
