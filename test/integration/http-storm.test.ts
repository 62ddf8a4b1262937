/**
 * Finding 7, against the real HTTP and gRPC servers of createScaler: a /metrics storm and slow
 * clients must not stall GetMetrics (the hot path) nor /healthz, and `GET //[` is a 400.
 * Speed itself is measured in bench/grpc.ts; here: what the server does, not how fast.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/config/settings.js';
import type { GetMetricsResponse__Output as GetMetricsResponse } from '../../src/grpc/proto.js';
import { loadExternalScalerProto } from '../../src/grpc/proto.js';
import { createScaler, type Scaler } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import { makeDecision, unary } from '../helpers/scaler-harness.js';

const VARIANTS = 2000;
let scaler: Scaler;
let renders = 0;
let client: grpc.Client;

beforeAll(async () => {
  scaler = await createScaler(
    defaultSettings({
      WVA_BIND_ADDRESS: '127.0.0.1',
      WVA_GRPC_PORT: '0',
      WVA_HTTP_PORT: '0',
      WVA_KUBERNETES: 'off',
      WVA_SCRAPE_TARGETS: 'http://127.0.0.1:9/metrics',
      WVA_ENGINE_INTERVAL: '1h',
      WVA_FETCH_INTERVAL: '1h',
    }),
    { logger: silentLogger(), defaultMetrics: false },
  );
  for (let i = 0; i < VARIANTS; i++) {
    const labels = { namespace: 'llm', variant_name: `v-${i}`, model_id: `model-${i % 100}`, accelerator_type: 'H100' };
    scaler.metrics.desiredReplicas.labels(labels).set(i % 7);
    scaler.metrics.currentReplicas.labels(labels).set(i % 5);
    scaler.metrics.desiredRatio.labels(labels).set(1);
    scaler.decisions.set(makeDecision(`llm/v-${i}`, (i % 7) + 1));
  }
  const registry = scaler.metrics.registry;
  const render = registry.metrics.bind(registry);
  registry.metrics = () => {
    renders++;
    return render();
  };
  const { Client } = loadExternalScalerProto();
  client = new Client(`127.0.0.1:${scaler.grpcPort}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await scaler?.stop();
});

const base = () => `http://127.0.0.1:${scaler.httpPort}`;
const getMetrics = (i: number) =>
  unary<unknown, GetMetricsResponse>(
    client,
    'GetMetrics',
    { scaledObjectRef: { namespace: 'llm', name: `v-${i}`, scalerMetadata: {} }, metricName: 'wva-desired-replicas' },
    10_000,
  );

describe('HTTP cannot stall the gRPC hot path', () => {
  it('200 concurrent /metrics scrapes share a few renderings, some are turned away, and GetMetrics answers throughout', async () => {
    renders = 0;
    const storm = Array.from({ length: 200 }, () =>
      fetch(`${base()}/metrics`).then(async (r) => ({ status: r.status, length: (await r.text()).length })),
    );
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => getMetrics(i)));
    const results = await Promise.all(storm);
    expect(answers.every((a, i) => a.metricValues[0]?.metricValueFloat === (i % 7) + 1)).toBe(true);
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    expect(ok.every((r) => r.length > 100_000)).toBe(true);
    // Before: one rendering per scrape (200). A rendering is shared for 1 s.
    expect(renders).toBeLessThan(20);
  });

  it('slow-header clients are cut off while /healthz and GetMetrics still answer', async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const s = connect(scaler.httpPort, '127.0.0.1');
      sockets.push(s);
      s.on('error', () => undefined);
      s.resume();
      closed.push(new Promise((resolve) => s.once('close', () => resolve())));
      // Half a request line, never finished.
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    }
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
    expect((await getMetrics(1)).metricValues[0]?.metricValueFloat).toBe(2);
    // The server answers 408 and closes them (headers timeout 5 s); before, Node's 60 s default.
    await Promise.all(closed);
    expect(sockets.every((s) => s.destroyed)).toBe(true);
  }, 30_000);

  it('GET //[ is a 400, not a 500', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const s = connect(scaler.httpPort, '127.0.0.1', () =>
        s.write('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve(data.split('\r\n')[0] ?? ''));
      s.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 400 Bad Request');
  });
});
