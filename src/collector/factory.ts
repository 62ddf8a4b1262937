/**
 * Picks and builds the metrics backend from settings. WVA_METRICS_BACKEND=auto means prometheus
 * when PROMETHEUS_BASE_URL is set, else scrape.
 */
import type { Logger } from 'pino';
import { MemoryCache, type MetricsCache } from '../cache/metrics-cache.js';
import { redactUrl, type Settings } from '../config/settings.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { bearerTokenSource } from './bearer-token.js';
import type { MetricsCollector } from './collector.js';
import type { PodVariantMapper } from './pod-variant-mapper.js';
import { PrometheusClient } from './prometheus-client.js';
import { PrometheusCollector } from './prometheus-collector.js';
import { DEFAULT_RETRY_POLICY } from './retry.js';
import { ScrapeCollector } from './scrape-collector.js';

export type BackendName = 'prometheus' | 'scrape';

export function chooseBackend(settings: Pick<Settings, 'WVA_METRICS_BACKEND' | 'PROMETHEUS_BASE_URL'>): BackendName {
  const b = settings.WVA_METRICS_BACKEND;
  if (b === 'prometheus' || b === 'scrape') return b;
  return settings.PROMETHEUS_BASE_URL ? 'prometheus' : 'scrape';
}

export interface CollectorDeps {
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  /** Defaults to a MemoryCache from WVA_METRICS_CACHE_TTL / WVA_METRICS_CACHE_MAX. */
  readonly cache?: MetricsCache;
  readonly mapper?: PodVariantMapper;
  readonly now?: () => number;
}

export interface BuiltCollector {
  readonly collector: MetricsCollector;
  readonly cache: MetricsCache;
  readonly backend: BackendName;
}

export function createMetricsCollector(settings: Settings, deps: CollectorDeps): BuiltCollector {
  const backend = chooseBackend(settings);
  const cache =
    deps.cache ??
    new MemoryCache({
      ttlMs: settings.WVA_METRICS_CACHE_TTL,
      max: settings.WVA_METRICS_CACHE_MAX,
      ...(deps.now ? { now: deps.now } : {}),
    });
  const common = {
    cache,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.mapper ? { mapper: deps.mapper } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  };
  if (backend === 'prometheus') {
    const baseUrl = settings.PROMETHEUS_BASE_URL;
    if (!baseUrl)
      throw new Error('WVA_METRICS_BACKEND=prometheus needs PROMETHEUS_BASE_URL (e.g. http://prometheus:9090)');
    const client = new PrometheusClient({
      baseUrl,
      token: bearerTokenSource({ token: settings.PROMETHEUS_BEARER_TOKEN, tokenPath: settings.PROMETHEUS_TOKEN_PATH }),
      caCertPath: settings.PROMETHEUS_CA_CERT_PATH,
      insecureSkipVerify: settings.PROMETHEUS_TLS_INSECURE_SKIP_VERIFY,
      timeoutMs: settings.WVA_PROMETHEUS_QUERY_TIMEOUT,
      retry: { ...DEFAULT_RETRY_POLICY, retries: settings.WVA_PROMETHEUS_RETRIES },
    });
    deps.logger.info(
      {
        backend,
        baseUrl: redactUrl(baseUrl),
        auth: settings.PROMETHEUS_TOKEN_PATH ? 'token file' : settings.PROMETHEUS_BEARER_TOKEN ? 'token' : 'none',
      },
      'metrics collector',
    );
    return { backend, cache, collector: new PrometheusCollector({ client, ...common }) };
  }
  const collector = new ScrapeCollector(
    {
      targets: settings.WVA_SCRAPE_TARGETS,
      gatewayTarget: settings.WVA_GATEWAY_SCRAPE_TARGET,
      timeoutMs: settings.WVA_SCRAPE_TIMEOUT,
      concurrency: settings.WVA_SCRAPE_CONCURRENCY,
      defaultNamespace: settings.WVA_SCRAPE_NAMESPACE,
    },
    common,
  );
  deps.logger.info(
    { backend, targets: settings.WVA_SCRAPE_TARGETS.length, gateway: settings.WVA_GATEWAY_SCRAPE_TARGET ?? null },
    'metrics collector',
  );
  return { backend, cache, collector };
}
