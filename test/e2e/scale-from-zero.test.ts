/**
 * Scale from zero through the real gRPC path: a variant at zero with a request queued at the
 * emulated gateway is pushed `true` on an open StreamIsActive stream, and IsActive follows.
 * (Latency is measured in bench/activation.ts, not asserted here.)
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, expect, it } from 'vitest';
import { defaultSettings } from '../../src/config/settings.js';
import { loadExternalScalerProto, type IsActiveResponse__Output as IsActiveResponse } from '../../src/grpc/proto.js';
import { createScaler, type Scaler } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { waitFor } from '../helpers/ports.js';
import { stream, unary } from '../helpers/scaler-harness.js';

let fleet: VllmFleet | undefined;
let scaler: Scaler | undefined;
afterEach(async () => {
  await scaler?.stop();
  await fleet?.stop();
});

it('pushes true to a variant at zero when a request queues at the gateway', async () => {
  fleet = new VllmFleet({
    histograms: false,
    models: [
      {
        namespace: 'llm',
        modelID: 'qwen',
        arrivalRate: 0,
        variants: [
          { deployment: 'qwen-l4', replicas: 0 },
          { deployment: 'qwen-h100', replicas: 0 },
        ],
      },
    ],
  });
  await fleet.start();
  const f = fleet;
  scaler = await createScaler(
    defaultSettings({
      WVA_GRPC_PORT: '0',
      WVA_HTTP_PORT: '0',
      WVA_BIND_ADDRESS: '127.0.0.1',
      WVA_KUBERNETES: 'off',
      WVA_SCRAPE_NAMESPACE: 'llm',
      WVA_SCRAPE_TARGETS: f.metricsUrl(),
      WVA_GATEWAY_SCRAPE_TARGET: f.gatewayUrl(),
      WVA_SCALE_TO_ZERO: 'true',
      WVA_DEMAND_PROBE_INTERVAL: '200ms',
    }),
    {
      logger: silentLogger(),
      defaultMetrics: false,
      replicaStatus: { get: (v) => f.deploymentStatus(v.namespace, v.deployment) },
    },
  );
  const { Client } = loadExternalScalerProto();
  const client = new Client(`127.0.0.1:${scaler.grpcPort}`, grpc.credentials.createInsecure());
  const cheap = { name: 'qwen-l4', namespace: 'llm', scalerMetadata: { modelID: 'qwen', variantCost: '3' } };
  const dear = { name: 'qwen-h100', namespace: 'llm', scalerMetadata: { modelID: 'qwen', variantCost: '30' } };
  await unary(client, 'GetMetricSpec', cheap);
  await unary(client, 'GetMetricSpec', dear);
  const pushes: string[] = [];
  for (const ref of [cheap, dear]) {
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref);
    s.on('data', (m: IsActiveResponse) => m.result && pushes.push(ref.name));
    s.on('error', () => undefined);
  }
  await new Promise((r) => setTimeout(r, 1000));
  expect(pushes).toEqual([]); // idle at zero: nothing to push

  f.enqueueAtGateway('llm', 'qwen', 2);
  await waitFor(() => pushes.length > 0, 10_000, 'a push after the gateway queued a request');
  await new Promise((r) => setTimeout(r, 500));
  expect(pushes).toEqual(['qwen-l4']); // only the cheapest variant wakes
  expect((await unary<unknown, IsActiveResponse>(client, 'IsActive', cheap)).result).toBe(true);
  expect(scaler.decisions.get('llm/qwen-l4')?.desiredReplicas).toBe(1);
  client.close();
});
