/**
 * Every RPC against a real grpc-js server and a real grpc-js client over loopback.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startHarness, stream, unary, type Harness } from '../helpers/scaler-harness.js';
import { waitFor } from '../helpers/ports.js';
import type {
  GetMetricSpecResponse__Output as GetMetricSpecResponse,
  GetMetricsResponse__Output as GetMetricsResponse,
  IsActiveResponse__Output as IsActiveResponse,
} from '../../src/grpc/proto.js';

const META = {
  scalerAddress: 'wva-scaler.keda:9090',
  modelID: 'meta-llama/Llama-3.1-8B-Instruct',
  accelerator: 'H100',
  variantCost: '12',
};
const ref = (name = 'llama-h100', scalerMetadata: Record<string, string> = META) => ({
  name,
  namespace: 'team-a',
  scalerMetadata,
});

let h: Harness;
let client: grpc.Client;
beforeEach(async () => {
  h = await startHarness();
  client = h.client();
});
afterEach(async () => {
  await h.stop();
});

describe('GetMetricSpec', () => {
  it('answers one metric with target 1 and registers the variant', async () => {
    const res = await unary<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref());
    expect(res.metricSpecs).toEqual([{ metricName: 'wva-desired-replicas', targetSize: 1, targetSizeFloat: 1 }]);
    const v = h.registry.get('team-a/llama-h100');
    expect(v?.modelID).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(v?.cost).toBe(12);
    expect(v?.deployment).toBe('llama-h100');
  });

  it('answers INVALID_ARGUMENT naming the key, the value and what is expected', async () => {
    const err = await unary(client, 'GetMetricSpec', ref('x', { ...META, kvCacheThreshold: '1.5' })).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((err as grpc.ServiceError).details).toContain('kvCacheThreshold="1.5"');
    expect((err as grpc.ServiceError).details).toContain('[0, 1]');
    const missing = await unary(client, 'GetMetricSpec', ref('y', { scalerAddress: 'a:1' })).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((missing as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((missing as grpc.ServiceError).details).toContain('modelID');
    expect(h.registry.size).toBe(0);
  });

  it('does not re-register an unchanged variant on every poll', async () => {
    const changes: string[] = [];
    h.registry.onChange((c) => changes.push(c.type));
    for (let i = 0; i < 5; i++) await unary(client, 'GetMetricSpec', ref());
    expect(changes).toEqual(['added']);
    await unary(client, 'GetMetricSpec', ref('llama-h100', { ...META, variantCost: '20' }));
    expect(changes).toEqual(['added', 'updated']);
  });
});

describe('GetMetrics', () => {
  it('answers the decision as float and int', async () => {
    h.setDecision('team-a/llama-h100', 3);
    const res = await unary<unknown, GetMetricsResponse>(client, 'GetMetrics', {
      scaledObjectRef: ref(),
      metricName: 'wva-desired-replicas',
    });
    expect(res.metricValues).toEqual([{ metricName: 'wva-desired-replicas', metricValue: 3, metricValueFloat: 3 }]);
    expect(await h.metrics.registry.getSingleMetricAsString('wva_scaler_grpc_requests_total')).toContain(
      'method="GetMetrics",code="OK"} 1',
    );
  });

  it('answers UNAVAILABLE with the reason when no decision comes within the deadline', async () => {
    const err = (await unary(client, 'GetMetrics', {
      scaledObjectRef: ref(),
      metricName: 'wva-desired-replicas',
    }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain('no decision yet for team-a/llama-h100');
    expect(h.registry.get('team-a/llama-h100')).toBeDefined();
  });

  it("answers UNAVAILABLE with the reason before KEDA's own call deadline when that is shorter", async () => {
    await h.stop();
    h = await startHarness({ firstDecisionDeadlineMs: 3000 });
    client = h.client();
    const start = Date.now();
    const err = (await unary(
      client,
      'GetMetrics',
      { scaledObjectRef: ref(), metricName: 'wva-desired-replicas' },
      600,
    ).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code, err.details).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain('no decision yet for team-a/llama-h100');
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it('waits for a first decision that arrives within the deadline', async () => {
    const pending = unary<unknown, GetMetricsResponse>(client, 'GetMetrics', {
      scaledObjectRef: ref(),
      metricName: 'wva-desired-replicas',
    });
    setTimeout(() => h.setDecision('team-a/llama-h100', 2), 50);
    expect((await pending).metricValues[0]?.metricValueFloat).toBe(2);
  });

  it('refuses bad metadata with INVALID_ARGUMENT when it has to register', async () => {
    const err = (await unary(client, 'GetMetrics', {
      scaledObjectRef: ref('z', { modelID: 'm', minReplicas: '-1' }),
      metricName: '',
    }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('minReplicas');
  });
});

describe('IsActive', () => {
  it('is true above zero and false at zero', async () => {
    h.setDecision('team-a/llama-h100', 1);
    expect((await unary<unknown, IsActiveResponse>(client, 'IsActive', ref())).result).toBe(true);
    h.setDecision('team-a/llama-h100', 0);
    expect((await unary<unknown, IsActiveResponse>(client, 'IsActive', ref())).result).toBe(false);
  });

  it('is UNAVAILABLE (never a false that would scale to zero) without a decision', async () => {
    const err = (await unary(client, 'IsActive', ref()).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('registrations KEDA no longer asks about', () => {
  it('are forgotten after 10 minutes without a call; IsActive and an open stream keep a variant', async () => {
    let now = 1_000_000;
    await h.stop();
    h = await startHarness({ expiryNow: () => now });
    client = h.client();
    const cheap = { ...META, variantCost: '1' };
    // A renamed ScaledObject: "old" (cheapest) is never called again, "polled" answers IsActive,
    // "pushed" holds a stream.
    for (const name of ['old', 'polled', 'pushed']) await unary(client, 'GetMetricSpec', ref(name, cheap));
    h.setDecision('team-a/polled', 2);
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref('pushed', cheap));
    s.on('error', () => undefined);
    await waitFor(() => h.streams.size === 1, 2000, 'stream open');
    now += 9 * 60_000;
    await unary(client, 'IsActive', ref('polled', cheap));
    expect(h.expiry?.sweep()).toEqual([]);
    now += 2 * 60_000;
    expect(h.expiry?.sweep()).toEqual(['team-a/old']);
    expect(
      h.registry
        .all()
        .map((v) => v.key)
        .sort(),
    ).toEqual(['team-a/polled', 'team-a/pushed']);
    s.cancel();
    await waitFor(() => h.streams.size === 0, 2000, 'stream closed');
    now += 10 * 60_000;
    expect(h.expiry?.sweep().sort()).toEqual(['team-a/polled', 'team-a/pushed']);
    // The next call that names a forgotten variant registers it again.
    await unary(client, 'GetMetricSpec', ref('old', cheap));
    expect(h.registry.get('team-a/old')).toBeDefined();
  });
});

describe('StreamIsActive', () => {
  it('pushes true only on transitions to active', async () => {
    h.setDecision('team-a/llama-h100', 0);
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref());
    const got: boolean[] = [];
    s.on('data', (m: IsActiveResponse) => got.push(m.result));
    s.on('error', () => undefined);
    await waitFor(() => h.streams.size === 1, 2000, 'stream open');
    h.setDecision('team-a/llama-h100', 3);
    await waitFor(() => got.length === 1, 2000, 'first push');
    h.setDecision('team-a/llama-h100', 5); // active -> active: no push (it would delay scale to zero)
    h.setDecision('team-a/llama-h100', 0); // false is never pushed: KEDA ignores it
    h.setDecision('team-a/llama-h100', 2); // inactive -> active: one push
    await waitFor(() => got.length === 2, 2000, 'second push');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([true, true]);
    s.cancel();
  });

  it('sends the current state once at open when active', async () => {
    h.setDecision('team-a/llama-h100', 4);
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref());
    const got: boolean[] = [];
    s.on('data', (m: IsActiveResponse) => got.push(m.result));
    s.on('error', () => undefined);
    await waitFor(() => got.length === 1, 2000, 'push at open');
    h.setDecision('team-a/llama-h100', 4);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([true]);
    s.cancel();
  });

  it('cleans up on cancel and leaks no subscription', async () => {
    const streams = Array.from({ length: 20 }, (_, i) =>
      stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref(`v${i}`)),
    );
    for (const s of streams) s.on('error', () => undefined);
    await waitFor(() => h.streams.size === 20, 3000, '20 streams');
    // Each stream subscribes once; streams with no decision yet also wait for a first one.
    expect(h.trigger.subscriberCount).toBeGreaterThanOrEqual(20);
    for (const s of streams) s.cancel();
    await waitFor(() => h.streams.size === 0 && h.trigger.subscriberCount === 0, 3000, 'cleanup');
    expect(await h.metrics.registry.getSingleMetricAsString('wva_scaler_stream_subscribers')).toContain(
      'wva_scaler_stream_subscribers 0',
    );
  });

  it('fails INVALID_ARGUMENT on bad metadata', async () => {
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref('bad', { scalerAddress: 'x:1' }));
    const err = await new Promise<grpc.ServiceError>((resolve) => s.on('error', resolve));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(h.streams.size).toBe(0);
  });

  it('ends streams with status OK on shutdown, so KEDA resets its backoff', async () => {
    h.setDecision('team-a/llama-h100', 1);
    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref());
    s.on('data', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => s.on('status', resolve));
    s.on('error', () => undefined);
    await waitFor(() => h.streams.size === 1, 2000, 'stream open');
    await h.server.stop();
    expect((await status).code).toBe(grpc.status.OK);
    expect(h.streams.size).toBe(0);
    expect(h.trigger.subscriberCount).toBe(0);
  });
});

describe('health and reflection', () => {
  it('serves grpc.health.v1 for the server and the ExternalScaler service', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const Health = (
      grpc.loadPackageDefinition(def) as unknown as {
        grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
      }
    ).grpc.health.v1.Health;
    const hc = new Health(h.address, grpc.credentials.createInsecure());
    for (const service of ['', 'externalscaler.ExternalScaler']) {
      const res = await unary<unknown, { status: string }>(hc, 'Check', { service });
      expect(res.status).toBe('SERVING');
    }
    h.server.setServing(false);
    expect((await unary<unknown, { status: string }>(hc, 'Check', { service: '' })).status).toBe('NOT_SERVING');
    hc.close();
  });

  it('lists ExternalScaler and health through server reflection (what grpcurl list does)', async () => {
    const reflectionDir = join(
      dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
      '../proto/grpc/reflection/v1/reflection.proto',
    );
    const def = protoLoader.loadSync(reflectionDir, { keepCase: true });
    const Reflection = (
      grpc.loadPackageDefinition(def) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
      }
    ).grpc.reflection.v1.ServerReflection;
    const rc = new Reflection(h.address, grpc.credentials.createInsecure());
    const call = (
      rc as unknown as {
        ServerReflectionInfo(): grpc.ClientDuplexStream<
          unknown,
          { list_services_response?: { service: { name: string }[] } }
        >;
      }
    ).ServerReflectionInfo();
    const names = await new Promise<string[]>((resolve, reject) => {
      call.on('data', (m: { list_services_response?: { service: { name: string }[] } }) =>
        resolve((m.list_services_response?.service ?? []).map((s) => s.name)),
      );
      call.on('error', reject);
      call.write({ list_services: '' });
    });
    call.end();
    expect(names).toContain('externalscaler.ExternalScaler');
    expect(names).toContain('grpc.health.v1.Health');
    rc.close();
  });
});
