/**
 * Loads proto/externalscaler.proto (resolved from this file, so it works from src/ and dist/).
 * Its message and handler types are generated from the same proto (src/grpc/generated/, `npm run
 * gen:proto`, with PROTO_LOADER_OPTIONS: keepCase, so field names are exactly KEDA's), so a proto
 * change that the code does not follow fails the type check. `X` is a message as a handler sends
 * it or a client passes it; `X__Output` as a handler receives it or a client reads it (every
 * field present: `defaults`).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/externalscaler.js';

export const EXTERNAL_SCALER_PROTO = fileURLToPath(new URL('../../proto/externalscaler.proto', import.meta.url));
export const EXTERNAL_SCALER_SERVICE = 'externalscaler.ExternalScaler';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type { ExternalScalerHandlers } from './generated/externalscaler/ExternalScaler.js';
export type {
  GetMetricSpecResponse,
  GetMetricSpecResponse__Output,
} from './generated/externalscaler/GetMetricSpecResponse.js';
export type { GetMetricsRequest__Output } from './generated/externalscaler/GetMetricsRequest.js';
export type { GetMetricsResponse, GetMetricsResponse__Output } from './generated/externalscaler/GetMetricsResponse.js';
export type { IsActiveResponse, IsActiveResponse__Output } from './generated/externalscaler/IsActiveResponse.js';
export type { ScaledObjectRef, ScaledObjectRef__Output } from './generated/externalscaler/ScaledObjectRef.js';

type ExternalScalerClientConstructor = ProtoGrpcType['externalscaler']['ExternalScaler'];

export interface LoadedProto {
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly service: ExternalScalerClientConstructor['service'];
  /** Client constructor, for tests, benches and the demo's KEDA stand-in. */
  readonly Client: ExternalScalerClientConstructor;
}

export function loadExternalScalerProto(): LoadedProto {
  const packageDefinition = protoLoader.loadSync(EXTERNAL_SCALER_PROTO, PROTO_LOADER_OPTIONS);
  // The generated ProtoGrpcType describes what loadPackageDefinition returns for this proto.
  const pkg = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
  const Client = pkg.externalscaler.ExternalScaler;
  return { packageDefinition, service: Client.service, Client };
}
