/**
 * The scaler as a real process: `npm start`'s entry point with settings from env, answering KEDA
 * over gRPC from the simulated fleet, and a graceful SIGTERM: streams end with status OK, exit 0.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadExternalScalerProto,
  type GetMetricsResponse__Output as GetMetricsResponse,
  type IsActiveResponse__Output as IsActiveResponse,
} from '../../src/grpc/proto.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { stream, unary } from '../helpers/scaler-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;
let fleet: VllmFleet | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await fleet?.stop();
});

function startScaler(env: Record<string, string>): { proc: ChildProcess; output: () => string } {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', WVA_KUBERNETES: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child = proc;
  return { proc, output: () => out };
}

describe('scaler process', () => {
  it('answers KEDA from the fleet and shuts down gracefully on SIGTERM', async () => {
    fleet = new VllmFleet({
      models: [
        {
          namespace: 'llm',
          modelID: 'meta-llama/Llama-3.1-8B-Instruct',
          arrivalRate: 4,
          variants: [{ deployment: 'llama-h100', replicas: 1 }],
        },
      ],
      histograms: false,
    });
    await fleet.start();
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const { proc, output } = startScaler({
      WVA_GRPC_PORT: String(grpcPort),
      WVA_HTTP_PORT: String(httpPort),
      WVA_SCRAPE_TARGETS: fleet.metricsUrl(),
      WVA_SCRAPE_NAMESPACE: 'llm',
      WVA_FETCH_INTERVAL: '1s',
      WVA_ENGINE_INTERVAL: '1s',
    });
    // Starting under tsx takes seconds on a loaded 2-core machine; readiness itself is sub-second.
    await waitFor(
      async () =>
        await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
      `readiness (${output()})`,
    );
    const { Client } = loadExternalScalerProto();
    const client = new Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const ref = {
      name: 'llama-h100',
      namespace: 'llm',
      scalerMetadata: { scalerAddress: 'x', modelID: 'meta-llama/Llama-3.1-8B-Instruct' },
    };
    await unary(client, 'GetMetricSpec', ref);
    let value = 0;
    await waitFor(
      async () => {
        const res = await unary<unknown, GetMetricsResponse>(client, 'GetMetrics', {
          scaledObjectRef: ref,
          metricName: 'wva-desired-replicas',
        }).catch(() => undefined);
        value = res?.metricValues[0]?.metricValueFloat ?? 0;
        return value >= 1;
      },
      15_000,
      'a decision from the engine',
    );
    expect((await unary<unknown, IsActiveResponse>(client, 'IsActive', ref)).result).toBe(true);
    const metricsText = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metricsText).toMatch(/wva_desired_replicas\{[^}]*variant_name="llama-h100"[^}]*\} [1-9]/);
    const decisions = (await (await fetch(`http://127.0.0.1:${httpPort}/debug/decisions`)).json()) as { count: number };
    expect(decisions.count).toBe(1);

    const s = stream<unknown, IsActiveResponse>(client, 'StreamIsActive', ref);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => s.on('status', resolve));
    await new Promise((r) => setTimeout(r, 300));
    const exit = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    proc.kill('SIGTERM');
    expect((await status).code).toBe(grpc.status.OK);
    expect(await exit).toBe(0);
    expect(output()).toContain('wva-scaler stopped');
    client.close();
  }, 120_000);

  it('stops with one clear line naming a bad setting', async () => {
    const { proc, output } = startScaler({ WVA_ENGINE_INTERVAL: 'fast' });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(2);
    expect(output().trim()).toBe(
      'wva-scaler: invalid setting WVA_ENGINE_INTERVAL="fast": expected a duration from 100ms to 1h, such as 500ms, 15s, 10m',
    );
  });
});
