/**
 * Loads proto/externalscaler.proto (resolved from this file, so it works from src/ and dist/)
 * and exposes the message shapes as grpc-js + proto-loader produce them (keepCase: field names
 * exactly as in KEDA's proto).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const EXTERNAL_SCALER_PROTO = fileURLToPath(new URL('../../proto/externalscaler.proto', import.meta.url));
export const EXTERNAL_SCALER_SERVICE = 'externalscaler.ExternalScaler';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
export interface IsActiveResponse {
  result: boolean;
}
export interface MetricSpec {
  metricName: string;
  targetSize: number;
  targetSizeFloat: number;
}
export interface GetMetricSpecResponse {
  metricSpecs: MetricSpec[];
}
export interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}
export interface MetricValue {
  metricName: string;
  metricValue: number;
  metricValueFloat: number;
}
export interface GetMetricsResponse {
  metricValues: MetricValue[];
}

export interface LoadedProto {
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly service: grpc.ServiceDefinition;
  /** Client constructor, for tests, benches and the demo's KEDA stand-in. */
  readonly Client: grpc.ServiceClientConstructor;
}

export function loadExternalScalerProto(): LoadedProto {
  const packageDefinition = protoLoader.loadSync(EXTERNAL_SCALER_PROTO, PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    externalscaler: { ExternalScaler: grpc.ServiceClientConstructor };
  };
  const Client = pkg.externalscaler.ExternalScaler;
  return { packageDefinition, service: Client.service, Client };
}
