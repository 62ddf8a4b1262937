/**
 * The composition root: the one place that builds every component from Settings and connects
 * them. Nothing else in src/ creates a component it does not own. `createScaler` is exported for
 * the demo and the end-to-end tests; running this file starts the scaler with signal handling.
 *
 *   settings -> logger, metrics
 *   registry, decision cache, trigger, global config          (common cache layer)
 *   saturation file | ConfigMap  -> global config
 *   Kubernetes informers (optional) -> registry, replica status, pod mapper, leadership, status
 *   Redis (optional) -> shared decisions, leadership lock when standalone
 *   collector + background fetcher -> engine (+ demand probe) -> decision cache + trigger
 *   compute role: runs fetcher, engine and probe while this replica computes
 *   gRPC (ExternalScaler, health, reflection) and HTTP (/metrics, /readyz, /debug)
 *
 * A start-up that fails half-way stops what it had started (ShutdownSteps) before rejecting.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { CacheKeys } from './cache/cache-keys.js';
import { DecisionCache } from './cache/decision-cache.js';
import { DecisionTrigger } from './cache/decision-trigger.js';
import { GlobalConfig } from './cache/global-config.js';
import { RedisConnection } from './cache/redis-connection.js';
import { RedisLock } from './cache/redis-lock.js';
import { createSharedDecisionCache, SharedDecisionStore } from './cache/shared-decisions.js';
import { VariantRegistry } from './cache/variant-registry.js';
import { LearnedStateStore } from './cache/learned-state-store.js';
import { MultiLayerCache } from './cache/multi-layer-cache.js';
import { parseServiceModel, type ServiceModelState } from './engine/slo/service-model.js';
import { createMetricsCollector } from './collector/factory.js';
import { MetricsFetcher } from './collector/fetcher.js';
import { SaturationConfigFile } from './config/saturation-config-file.js';
import { loadSettings, redactedSettings, SettingsError, type Settings } from './config/settings.js';
import { parseVariantsFile } from './config/variants-file.js';
import { AlwaysLeader, type LeadershipSource } from './domain/leadership.js';
import { ComputeRole } from './engine/compute-role.js';
import { DemandProbe, GatewayDemandReader } from './engine/demand-probe.js';
import { decisionConfigOf, Engine, trackedModelOf } from './engine/engine.js';
import type { ReplicaStatusSource } from './engine/replica-status.js';
import { ActiveStreams } from './grpc/active-streams.js';
import { DecisionWaiter } from './grpc/decision-waiter.js';
import { ExternalScalerService } from './grpc/external-scaler.js';
import { DEFAULT_REGISTRATION_TTL_MS, RegistrationExpiry } from './grpc/registration-expiry.js';
import { loadExternalScalerProto } from './grpc/proto.js';
import { GrpcServer } from './grpc/server.js';
import { serverCredentials } from './grpc/tls.js';
import { loadKubeConfig } from './kube/kube-config.js';
import { KubernetesIntegration } from './kube/kubernetes-integration.js';
import { HttpServer } from './observability/http-server.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ScalerMetrics } from './observability/metrics.js';

export interface ScalerOptions {
  /** Replaces the logger built from LOG_LEVEL/LOG_FORMAT (tests, demo). */
  readonly logger?: Logger;
  /** Replica status when no Kubernetes is there (the demo plays Kubernetes). */
  readonly replicaStatus?: ReplicaStatusSource;
  /** Collect Node's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export interface Scaler {
  readonly settings: Settings;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly trigger: DecisionTrigger;
  readonly globalConfig: GlobalConfig;
  readonly engine: Engine;
  readonly metrics: ScalerMetrics;
  readonly logger: Logger;
  /** True while this replica computes decisions (leader, or alone). */
  computing(): boolean;
  stop(): Promise<void>;
}

/**
 * The graceful stop order: stop answering (gRPC: health NOT_SERVING, streams end OK, in-flight
 * calls finish), then the loops, then shared state and connections, then the HTTP server last so
 * /readyz reports the shutdown until the end.
 */
const SHUTDOWN_ORDER = [
  'role',
  'probe',
  'grpc',
  'expiry',
  'engine',
  'fetcher',
  'shared',
  'lock',
  'kube',
  'collector',
  'redis',
  'config-file',
  'tls',
  'http',
] as const;
type ShutdownStep = (typeof SHUTDOWN_ORDER)[number];

/**
 * What has been started, to stop in SHUTDOWN_ORDER whether start-up completed or failed half-way:
 * each step is added as soon as there is something to stop. A failing step is logged and the
 * others still run.
 */
class ShutdownSteps {
  private readonly steps = new Map<ShutdownStep, () => unknown>();

  constructor(private readonly logger: Logger) {}

  add(step: ShutdownStep, stop: () => unknown): void {
    this.steps.set(step, stop);
  }

  async run(): Promise<void> {
    for (const step of SHUTDOWN_ORDER) {
      const stop = this.steps.get(step);
      this.steps.delete(step);
      try {
        await stop?.();
      } catch (err) {
        this.logger.error({ err, step }, 'shutdown step failed');
      }
    }
  }
}

export async function createScaler(settings: Settings, opts: ScalerOptions = {}): Promise<Scaler> {
  const logger = opts.logger ?? createLogger({ level: settings.LOG_LEVEL, format: settings.LOG_FORMAT });
  const shutdown = new ShutdownSteps(logger);
  try {
    return await startScaler(settings, opts, logger, shutdown);
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}

async function startScaler(
  settings: Settings,
  opts: ScalerOptions,
  logger: Logger,
  shutdown: ShutdownSteps,
): Promise<Scaler> {
  const metrics = new ScalerMetrics({ defaultMetrics: opts.defaultMetrics ?? true });
  const instanceId = settings.POD_NAME ?? hostname();
  logger.info({ settings: redactedSettings(settings) }, 'starting wva-scaler');

  // Common cache layer.
  const registry = new VariantRegistry();
  const decisions = new DecisionCache();
  const trigger = new DecisionTrigger(1000, (err) => logger.error({ err }, 'decision listener failed'));
  const globalConfig = new GlobalConfig({
    engineIntervalMs: settings.WVA_ENGINE_INTERVAL,
    maxScaleUpRate: settings.WVA_MAX_SCALE_UP_RATE,
    scaleToZero: { enabled: settings.WVA_SCALE_TO_ZERO, retentionMs: settings.WVA_SCALE_TO_ZERO_RETENTION },
    features: {
      peakGuard: settings.WVA_PEAK_GUARD,
      lookahead: settings.WVA_LOOKAHEAD,
      startupMs: settings.WVA_STARTUP_SECONDS * 1000,
      lookaheadMaxFraction: settings.WVA_LOOKAHEAD_MAX_FRACTION,
      tokenCapacity: settings.WVA_TOKEN_CAPACITY,
    },
  });

  // Saturation config from a file: a bad file at start-up is fatal, later ones keep the last good.
  if (settings.WVA_SATURATION_CONFIG_FILE) {
    const file = new SaturationConfigFile(
      settings.WVA_SATURATION_CONFIG_FILE,
      (saturation) => globalConfig.update({ saturation }),
      metrics,
      logger,
    );
    const err = await file.load();
    if (err)
      throw new SettingsError(
        'WVA_SATURATION_CONFIG_FILE',
        settings.WVA_SATURATION_CONFIG_FILE,
        `a valid saturation config (${err.message})`,
      );
    file.watch();
    shutdown.add('config-file', () => file.close());
  }
  if (settings.WVA_VARIANTS_FILE) {
    let text: string;
    try {
      text = readFileSync(settings.WVA_VARIANTS_FILE, 'utf8');
    } catch (err) {
      throw new SettingsError(
        'WVA_VARIANTS_FILE',
        settings.WVA_VARIANTS_FILE,
        `a readable YAML file (${firstLine(err)})`,
      );
    }
    const variants = parseVariantsFile(text, settings.WVA_VARIANTS_FILE);
    for (const v of variants) registry.upsert(v);
    logger.info({ file: settings.WVA_VARIANTS_FILE, variants: variants.length }, 'static variants registered');
  }

  // Kubernetes (optional): variants up front, replica counts, pod owners, ConfigMap, Lease, status.
  const kubeConfig = loadKubeConfig(settings.WVA_KUBERNETES);
  let invalidateVariant: (variantKey: string) => void = () => undefined;
  const kube = kubeConfig
    ? new KubernetesIntegration({
        kubeConfig,
        settings,
        registry,
        globalConfig,
        trigger,
        decisions,
        metrics,
        logger,
        hooks: { onDeploymentSpecChange: (key) => invalidateVariant(key) },
      })
    : undefined;
  if (!kube) logger.info('no Kubernetes API: standalone (static variants, GetMetricSpec registrations)');

  // Redis (optional): shared decisions, and the leader lock when there is no Lease.
  const redis =
    settings.REDIS_URL === undefined
      ? undefined
      : new RedisConnection({ url: settings.REDIS_URL, logger, metrics, connectionName: instanceId });
  if (redis) shutdown.add('redis', () => redis.close());
  const lock =
    redis && !kube
      ? new RedisLock({
          connection: redis,
          key: CacheKeys.lock(settings.POD_NAMESPACE ?? 'default', 'engine'),
          holderId: instanceId,
          ttlMs: 15_000,
          logger,
        })
      : undefined;
  const leadership: LeadershipSource = kube?.leadership ?? lock ?? new AlwaysLeader();
  const decisionLayers = createSharedDecisionCache({
    localTtlMs: settings.WVA_LOCAL_CACHE_TTL,
    redisTtlMs: settings.WVA_REDIS_TTL,
    connection: redis,
    logger,
    metrics,
  });
  const shared = new SharedDecisionStore({
    cache: decisionLayers,
    connection: redis,
    decisions,
    trigger,
    registry,
    logger,
    instanceId,
    isLeader: () => leadership.isLeader(),
  });

  // Metrics and decisions.
  const { collector, cache: metricsCache } = createMetricsCollector(settings, {
    logger,
    metrics,
    ...(kube ? { mapper: kube.podMapper } : {}),
  });
  shutdown.add('collector', () => collector.close());
  invalidateVariant = (key) => metricsCache.invalidateVariant(key);
  registry.onChange((c) => {
    if (c.type === 'removed') metricsCache.invalidateVariant(c.variant.key);
  });
  const decisionConfig = () => decisionConfigOf(globalConfig.get());
  const fetcher = new MetricsFetcher({
    collector,
    logger,
    metrics,
    cache: metricsCache,
    intervalMs: settings.WVA_FETCH_INTERVAL,
    models: () => [...registry.byModel().values()].map((vs) => trackedModelOf(vs, decisionConfig())),
  });
  // SLO mode's learned service models: shared through Redis (survive a restart, reach a new
  // leader); kept there a week, as long as a variant may sit idle and still be worth its model.
  const serviceModels = redis
    ? new LearnedStateStore<ServiceModelState>({
        cache: new MultiLayerCache<ServiceModelState>({
          name: 'service-models',
          redis,
          localTtlMs: settings.WVA_LOCAL_CACHE_TTL,
          redisTtlMs: 7 * 24 * 3600_000,
          parse: parseServiceModel,
          logger,
          metrics,
        }),
        connection: redis,
        logger,
      })
    : undefined;
  const engine = new Engine({
    serviceModels,
    registry,
    decisions,
    trigger,
    config: globalConfig,
    collector,
    replicaStatus: kube?.replicaStatus ?? opts.replicaStatus,
    gpuInventory: kube?.gpuInventory,
    metrics,
    logger,
  });
  const probe = settings.WVA_GATEWAY_SCRAPE_TARGET
    ? new DemandProbe({
        registry,
        decisions,
        trigger,
        logger,
        intervalMs: settings.WVA_DEMAND_PROBE_INTERVAL,
        reader: new GatewayDemandReader({
          url: settings.WVA_GATEWAY_SCRAPE_TARGET,
          timeoutMs: Math.min(1000, settings.WVA_SCRAPE_TIMEOUT),
        }),
        requestRun: (key) => engine.runModel(key, 'demand', true),
      })
    : undefined;
  const role = new ComputeRole({
    leadership,
    store: redis,
    workers: probe ? [fetcher, engine, probe] : [fetcher, engine],
    onFollow: () => shared.forgetPublished(),
    computing: engine,
    following: new DecisionWaiter(
      decisions,
      trigger,
      'this replica follows the leader and the leader has not published a decision yet',
    ),
    logger,
  });

  // gRPC and HTTP surfaces.
  const tls = serverCredentials(
    {
      certFile: settings.WVA_TLS_CERT_FILE,
      keyFile: settings.WVA_TLS_KEY_FILE,
      clientCaFile: settings.WVA_TLS_CLIENT_CA_FILE,
    },
    {
      onRejectedUpdate: (err) =>
        logger.error(
          { error: err.message },
          'TLS files changed to something unusable; keeping the last good certificates',
        ),
    },
  );
  shutdown.add('tls', () => tls.close());
  const streams = new ActiveStreams(trigger, {
    onOpenCountChange: (n) => metrics.streamSubscribers.set(n),
    onPush: () => metrics.streamPushes.inc(),
  });
  const expiry = new RegistrationExpiry({
    registry,
    ttlMs: DEFAULT_REGISTRATION_TTL_MS,
    isStreamOpen: (key) => streams.isOpenFor(key),
    logger,
  });
  const scaler = new ExternalScalerService({
    registry,
    decisions,
    source: role,
    streams,
    metrics,
    logger,
    expiry,
    firstDecisionDeadlineMs: settings.WVA_GET_METRICS_DEADLINE,
    maxGrpcVariants: settings.WVA_MAX_GRPC_VARIANTS,
  });
  const grpcServer = new GrpcServer({
    host: settings.WVA_BIND_ADDRESS,
    port: settings.WVA_GRPC_PORT,
    credentials: tls.creds,
    proto: loadExternalScalerProto(),
    scaler,
    streams,
    logger,
  });
  let shuttingDown = false;
  const http = new HttpServer({
    host: settings.WVA_BIND_ADDRESS,
    port: settings.WVA_HTTP_PORT,
    metrics,
    decisions,
    registry,
    logger,
    readiness: [
      { name: 'not-shutting-down', check: () => ({ ok: !shuttingDown }) },
      { name: 'grpc', check: () => ({ ok: grpcServer.port > 0 }) },
      {
        name: 'kubernetes',
        check: () => (kube ? { ok: kube.ready(), detail: 'variant sources listed' } : { ok: true, detail: 'disabled' }),
      },
    ],
    debug: {
      '/debug/config': () => ({ config: globalConfig.get(), settings: redactedSettings(settings) }),
      '/debug/role': () => {
        const r = role.describe();
        return { computing: r.computing, leader: r.leader, redis: r.store, instanceId };
      },
      '/debug/cache': async () => ({
        decisions: { stats: decisionLayers.stats(), health: await decisionLayers.health() },
        metrics: { entries: metricsCache.size },
      }),
    },
  });

  // Start: warm from Redis before serving, so a restarted replica answers at once.
  if (redis) {
    await redis.waitUntilUp(2000);
    const loaded = await shared.loadAll();
    logger.info({ decisions: loaded }, 'decisions loaded from Redis');
  }
  await tls.ready;
  const grpcPort = await listenOrExplain('WVA_GRPC_PORT', settings.WVA_BIND_ADDRESS, settings.WVA_GRPC_PORT, () =>
    grpcServer.start(),
  );
  shutdown.add('grpc', () => grpcServer.stop());
  expiry.start();
  shutdown.add('expiry', () => expiry.stop());
  const httpPort = await listenOrExplain('WVA_HTTP_PORT', settings.WVA_BIND_ADDRESS, settings.WVA_HTTP_PORT, () =>
    http.start(),
  );
  shutdown.add('http', () => http.stop());
  if (kube) {
    shutdown.add('kube', () => kube.stop());
    await kube.start();
  }
  if (lock) {
    lock.start();
    shutdown.add('lock', () => lock.stop());
  }
  if (redis) {
    // Without Redis there is no one to share with: this process's DecisionCache is the truth.
    shared.startFollowing();
    shared.startPublishing(settings.WVA_ENGINE_INTERVAL);
    shutdown.add('shared', () => shared.stop());
  }
  role.start();
  shutdown.add('role', () => role.stop());
  shutdown.add('engine', () => engine.stop());
  shutdown.add('fetcher', () => fetcher.stop());
  if (probe) shutdown.add('probe', () => probe.stop());
  logger.info(
    {
      grpcPort,
      httpPort,
      tls: tls.mode,
      backend: collector.backend,
      kubernetes: kube !== undefined,
      redis: redis !== undefined,
    },
    'wva-scaler ready',
  );

  return {
    settings,
    grpcPort,
    httpPort,
    registry,
    decisions,
    trigger,
    globalConfig,
    engine,
    metrics,
    logger,
    computing: () => role.computing,
    async stop() {
      if (shuttingDown) return;
      shuttingDown = true;
      await shutdown.run();
      logger.info('wva-scaler stopped');
    },
  };
}

/** The first line of an error's message (grpc-js and Node put details on further lines). */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** A failed listen as one line naming the setting, e.g. a port already in use. */
async function listenOrExplain(
  setting: 'WVA_GRPC_PORT' | 'WVA_HTTP_PORT',
  host: string,
  port: number,
  listen: () => Promise<number>,
): Promise<number> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(String(err))
        ? 'the port is already in use (EADDRINUSE)'
        : firstLine(err);
    throw new SettingsError(setting, String(port), `a port free to listen on at ${host}: ${why}`);
  }
}

async function runCli(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings(process.env, process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`wva-scaler: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let scaler: Scaler;
  try {
    scaler = await createScaler(settings);
  } catch (err) {
    process.stderr.write(`wva-scaler: ${firstLine(err)}\n`);
    process.exit(2);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    scaler.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      scaler.logger.error('shutdown took longer than 8 s; exiting');
      process.exit(1);
    }, 8000);
    force.unref();
    scaler.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        scaler.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) void runCli();
