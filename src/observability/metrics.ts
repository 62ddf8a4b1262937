/**
 * Every Prometheus metric the scaler exports, on one prom-client Registry instance (no global
 * registry), built by main.ts and passed to the components that update it. Names follow WVA where
 * they mean the same (`wva_desired_replicas`, ...).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const VARIANT_LABELS = ['variant_name', 'namespace', 'accelerator_type', 'model_id'] as const;

export class ScalerMetrics {
  readonly registry = new Registry();

  // WVA-compatible decision gauges.
  readonly desiredReplicas = new Gauge({
    name: 'wva_desired_replicas',
    help: 'Desired replicas of a variant (the decision).',
    labelNames: VARIANT_LABELS,
    registers: [this.registry],
  });
  readonly currentReplicas = new Gauge({
    name: 'wva_current_replicas',
    help: 'Current replicas of a variant as the engine saw them.',
    labelNames: VARIANT_LABELS,
    registers: [this.registry],
  });
  readonly desiredRatio = new Gauge({
    name: 'wva_desired_ratio',
    help: 'Desired / current replicas of a variant (desired when current is 0).',
    labelNames: VARIANT_LABELS,
    registers: [this.registry],
  });
  readonly replicaScaling = new Counter({
    name: 'wva_replica_scaling_total',
    help: 'Scaling decisions by direction.',
    labelNames: [...VARIANT_LABELS, 'direction', 'reason'],
    registers: [this.registry],
  });

  // gRPC surface.
  readonly grpcRequests = new Counter({
    name: 'wva_scaler_grpc_requests_total',
    help: 'gRPC requests by method and status code.',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });
  readonly grpcLatency = new Histogram({
    name: 'wva_scaler_grpc_request_duration_seconds',
    help: 'gRPC handler latency by method.',
    labelNames: ['method'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 3],
    registers: [this.registry],
  });
  readonly streamSubscribers = new Gauge({
    name: 'wva_scaler_stream_subscribers',
    help: 'Open StreamIsActive streams.',
    registers: [this.registry],
  });
  readonly streamPushes = new Counter({
    name: 'wva_scaler_stream_pushes_total',
    help: 'IsActive results pushed on streams.',
    registers: [this.registry],
  });

  // Engine.
  readonly engineCycleSeconds = new Histogram({
    name: 'wva_scaler_engine_cycle_duration_seconds',
    help: 'Engine cycle wall time.',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly engineCycles = new Counter({
    name: 'wva_scaler_engine_cycles_total',
    help: 'Engine cycles by trigger (interval, demand, on-demand).',
    labelNames: ['trigger'],
    registers: [this.registry],
  });
  readonly modelMetricsMissing = new Gauge({
    name: 'wva_scaler_model_metrics_missing',
    help: "1 when a model's modelID matches no series.",
    labelNames: ['namespace', 'model_id'],
    registers: [this.registry],
  });
  readonly gpuShortfall = new Gauge({
    name: 'wva_scaler_gpu_shortfall',
    help: 'Replicas a model wanted in the last cycle that fit on no GPU it may use (inventory, quotas); 0 when none.',
    labelNames: ['namespace', 'model_id'],
    registers: [this.registry],
  });
  readonly configErrors = new Counter({
    name: 'wva_scaler_config_errors_total',
    help: 'Rejected configuration updates (the last good config stays).',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'wva_scaler_config_reloads_total',
    help: 'Accepted configuration updates.',
    labelNames: ['source'],
    registers: [this.registry],
  });

  // Collector.
  readonly promQueries = new Counter({
    name: 'wva_scaler_prometheus_queries_total',
    help: 'Prometheus queries sent, by signal.',
    labelNames: ['signal'],
    registers: [this.registry],
  });
  readonly promErrors = new Counter({
    name: 'wva_scaler_prometheus_query_errors_total',
    help: 'Failed Prometheus queries, by error type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly fetchSeconds = new Histogram({
    name: 'wva_scaler_metrics_fetch_duration_seconds',
    help: 'Metrics fetch cycle wall time.',
    labelNames: ['backend'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly fetchErrors = new Counter({
    name: 'wva_scaler_metrics_fetch_errors_total',
    help: 'Failed metrics fetches.',
    labelNames: ['backend'],
    registers: [this.registry],
  });
  readonly scrapeErrors = new Counter({
    name: 'wva_scaler_scrape_errors_total',
    help: 'Failed scrapes by target.',
    labelNames: ['target'],
    registers: [this.registry],
  });

  // Caches.
  readonly cacheRequests = new Counter({
    name: 'wva_scaler_cache_requests_total',
    help: 'Cache lookups by cache, layer and result (hit/miss).',
    labelNames: ['cache', 'layer', 'result'],
    registers: [this.registry],
  });
  readonly cacheLayerUp = new Gauge({
    name: 'wva_scaler_cache_layer_up',
    help: '1 when a cache layer is reachable.',
    labelNames: ['layer'],
    registers: [this.registry],
  });

  // Kubernetes.
  readonly leader = new Gauge({
    name: 'wva_scaler_leader',
    help: '1 when this replica is the leader.',
    registers: [this.registry],
  });
  readonly statusPatches = new Counter({
    name: 'wva_scaler_status_patches_total',
    help: 'VariantAutoscaling status patches by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
