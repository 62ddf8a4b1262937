/**
 * Builds the gRPC side of the scaler in-process (registry, decision cache, trigger, service,
 * server) on a free loopback port, with the test playing the engine through `setDecision`.
 */
import * as grpc from '@grpc/grpc-js';
import { ActiveStreams } from '../../src/grpc/active-streams.js';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { decisionEventOf, DecisionTrigger } from '../../src/cache/decision-trigger.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { DecisionWaiter } from '../../src/grpc/decision-waiter.js';
import { ExternalScalerService } from '../../src/grpc/external-scaler.js';
import { loadExternalScalerProto, type LoadedProto } from '../../src/grpc/proto.js';
import { GrpcServer } from '../../src/grpc/server.js';
import { DEFAULT_REGISTRATION_TTL_MS, RegistrationExpiry } from '../../src/grpc/registration-expiry.js';
import type { Decision } from '../../src/domain/decision.js';
import type { DecisionSource } from '../../src/engine/decision-source.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ScalerMetrics } from '../../src/observability/metrics.js';

export interface Harness {
  readonly proto: LoadedProto;
  readonly registry: VariantRegistry;
  readonly decisions: DecisionCache;
  readonly trigger: DecisionTrigger;
  readonly streams: ActiveStreams;
  readonly metrics: ScalerMetrics;
  readonly expiry: RegistrationExpiry | undefined;
  readonly server: GrpcServer;
  readonly port: number;
  readonly address: string;
  setDecision(variantKey: string, desired: number): Decision;
  client(creds?: grpc.ChannelCredentials, options?: grpc.ClientOptions): grpc.Client;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly source?: (h: { decisions: DecisionCache; trigger: DecisionTrigger }) => DecisionSource;
  readonly credentials?: grpc.ServerCredentials;
  readonly firstDecisionDeadlineMs?: number;
  /** Registration expiry on this clock (ttl 10 min); absent = none. */
  readonly expiryNow?: () => number;
  readonly maxGrpcVariants?: number;
}

export function makeDecision(variantKey: string, desired: number, now = Date.now()): Decision {
  const [namespace = '', name = ''] = variantKey.split('/');
  return {
    variantKey,
    namespace,
    variantName: name,
    modelID: 'm',
    accelerator: undefined,
    desiredReplicas: desired,
    currentReplicas: 0,
    reasons: ['set by test'],
    steps: [],
    clamp: undefined,
    metricsAgeMs: 0,
    freshness: 'fresh',
    decidedAt: now,
  };
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const proto = loadExternalScalerProto();
  const registry = new VariantRegistry();
  const decisions = new DecisionCache();
  const trigger = new DecisionTrigger();
  const metrics = new ScalerMetrics();
  const logger = silentLogger();
  const streams = new ActiveStreams(trigger, {
    onOpenCountChange: (n) => metrics.streamSubscribers.set(n),
    onPush: () => metrics.streamPushes.inc(),
  });
  const source = opts.source ? opts.source({ decisions, trigger }) : new DecisionWaiter(decisions, trigger);
  const expiry = opts.expiryNow
    ? new RegistrationExpiry({
        registry,
        ttlMs: DEFAULT_REGISTRATION_TTL_MS,
        isStreamOpen: (k) => streams.isOpenFor(k),
        logger,
        now: opts.expiryNow,
      })
    : undefined;
  const scaler = new ExternalScalerService({
    registry,
    decisions,
    source,
    streams,
    metrics,
    logger,
    firstDecisionDeadlineMs: opts.firstDecisionDeadlineMs ?? 300,
    ...(expiry ? { expiry } : {}),
    ...(opts.maxGrpcVariants !== undefined ? { maxGrpcVariants: opts.maxGrpcVariants } : {}),
  });
  const server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    credentials: opts.credentials ?? grpc.ServerCredentials.createInsecure(),
    proto,
    scaler,
    streams,
    logger,
    shutdownGraceMs: 2000,
  });
  const port = await server.start();
  const clients: grpc.Client[] = [];
  return {
    proto,
    registry,
    decisions,
    trigger,
    streams,
    metrics,
    expiry,
    server,
    port,
    address: `127.0.0.1:${port}`,
    setDecision(variantKey, desired) {
      const { current, previous } = decisions.set(makeDecision(variantKey, desired));
      if (!previous || previous.desiredReplicas !== desired) {
        trigger.publish(decisionEventOf(current));
      }
      return current;
    },
    client(creds = grpc.credentials.createInsecure(), options = {}) {
      const c = new proto.Client(`127.0.0.1:${port}`, creds, options);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.stop();
    },
  };
}

/** Promisified unary call on a dynamically loaded client. */
export function unary<Req, Res>(client: grpc.Client, method: string, req: Req, deadlineMs = 5000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<
        string,
        (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: Res) => void) => void
      >
    )[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export function stream<Req, Res>(client: grpc.Client, method: string, req: Req): grpc.ClientReadableStream<Res> {
  const fn = (client as unknown as Record<string, (r: Req) => grpc.ClientReadableStream<Res>>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return fn.call(client, req);
}
