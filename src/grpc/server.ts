/**
 * The gRPC server: ExternalScaler, grpc.health.v1 and server reflection (grpcurl works without the
 * proto). Graceful stop: health NOT_SERVING, streams ended with status OK (KEDA's backoff resets),
 * in-flight unary calls finish, then forced shutdown after a grace period.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from '../observability/logger.js';
import type { ActiveStreams } from './active-streams.js';
import type { ExternalScalerService } from './external-scaler.js';
import { EXTERNAL_SCALER_SERVICE, PROTO_LOADER_OPTIONS, type LoadedProto } from './proto.js';
import { withStrictMapEntries } from './reflection-descriptors.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly credentials: grpc.ServerCredentials;
  readonly proto: LoadedProto;
  readonly scaler: ExternalScalerService;
  readonly streams: ActiveStreams;
  readonly logger: Logger;
  /** Force-close after this long if in-flight calls have not finished. */
  readonly shutdownGraceMs?: number;
}

export class GrpcServer {
  private readonly server: grpc.Server;
  readonly health: HealthImplementation;
  private boundPort = 0;

  constructor(private readonly opts: GrpcServerOptions) {
    this.server = new grpc.Server({
      // Keepalive that tolerates KEDA's long-held StreamIsActive streams.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.server.addService(opts.proto.service, opts.scaler.handlers());
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [EXTERNAL_SCALER_SERVICE]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
    const healthDefinition = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
    new ReflectionService(withStrictMapEntries({ ...opts.proto.packageDefinition, ...healthDefinition })).addToServer(
      this.server,
    );
  }

  async start(): Promise<number> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${this.opts.host}:${this.opts.port}`, this.opts.credentials, (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    this.setServing(true);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(EXTERNAL_SCALER_SERVICE, status);
  }

  async stop(): Promise<void> {
    this.setServing(false);
    this.opts.streams.endAll();
    const grace = this.opts.shutdownGraceMs ?? 5_000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.opts.logger.warn({ graceMs: grace }, 'gRPC calls still in flight after grace period: forcing shutdown');
        this.server.forceShutdown();
        resolve();
      }, grace);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
