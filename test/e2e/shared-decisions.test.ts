/**
 * Replicas that agree: two scaler processes sharing one real redis-server answer the
 * same decision for every variant; a restarted process answers from Redis before its first engine
 * cycle; Redis killed and restarted mid-test costs zero failed gRPC calls.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadExternalScalerProto,
  type GetMetricsResponse__Output as GetMetricsResponse,
} from '../../src/grpc/proto.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { RedisServer } from '../helpers/redis.js';
import { unary } from '../helpers/scaler-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = 'llm';
const MODELS = 4;
const { Client } = loadExternalScalerProto();

interface Proc {
  name: string;
  proc: ChildProcess;
  grpcPort: number;
  httpPort: number;
  client: grpc.Client;
  out: string[];
}
const procs: Proc[] = [];
let redis: RedisServer;
let fleet: VllmFleet;

async function startProcess(name: string, env: Record<string, string>): Promise<Proc> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const out: string[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WVA_KUBERNETES: 'off',
      LOG_LEVEL: 'info',
      POD_NAME: name,
      REDIS_URL: redis.url,
      WVA_GRPC_PORT: String(grpcPort),
      WVA_HTTP_PORT: String(httpPort),
      WVA_SCRAPE_TARGETS: fleet.metricsUrl(),
      WVA_SCRAPE_NAMESPACE: NS,
      WVA_FETCH_INTERVAL: '1s',
      WVA_ENGINE_INTERVAL: '1s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
  // Recorded before it is ready, so that afterAll stops it even when readiness times out.
  const p = {
    name,
    proc,
    grpcPort,
    httpPort,
    client: new Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()),
    out,
  };
  procs.push(p);
  // Starting under tsx takes seconds on a loaded 2-core machine; readiness itself is sub-second.
  await waitFor(
    async () =>
      fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    `${name} ready: ${out.join('')}`,
  );
  return p;
}

async function stopProcess(p: Proc): Promise<void> {
  p.client.close();
  const exited = p.proc.exitCode !== null ? Promise.resolve() : new Promise((r) => p.proc.once('exit', r));
  p.proc.kill('SIGTERM');
  await exited;
  procs.splice(procs.indexOf(p), 1);
}

const ref = (i: number) => ({
  name: `model-${i}-h100`,
  namespace: NS,
  scalerMetadata: { scalerAddress: 'wva-scaler:9090', modelID: `model-${i}` },
});
const desired = async (p: Proc, i: number) =>
  (
    await unary<unknown, GetMetricsResponse>(
      p.client,
      'GetMetrics',
      { scaledObjectRef: ref(i), metricName: 'wva-desired-replicas' },
      3000,
    )
  ).metricValues[0]?.metricValueFloat;

beforeAll(async () => {
  redis = await RedisServer.start();
  fleet = new VllmFleet({
    seed: 11,
    histograms: false,
    models: Array.from({ length: MODELS }, (_, i) => ({
      namespace: NS,
      modelID: `model-${i}`,
      arrivalRate: 6 + 6 * i,
      variants: [{ deployment: `model-${i}-h100`, replicas: 1 + (i % 2) }],
    })),
  });
  await fleet.start();
}, 60_000);

afterAll(async () => {
  for (const p of [...procs]) await stopProcess(p);
  await fleet?.stop();
  await redis?.stop();
});

describe('two scaler replicas sharing Redis', () => {
  it('answer the same decision for every variant, survive a restart and a Redis outage', async () => {
    const a = await startProcess('scaler-a', {});
    const b = await startProcess('scaler-b', {});
    for (let i = 0; i < MODELS; i++) {
      await unary(a.client, 'GetMetricSpec', ref(i));
      await unary(b.client, 'GetMetricSpec', ref(i));
    }
    // Exactly one computes; both answer.
    const roles = await Promise.all(
      [a, b].map(
        async (p) =>
          (await (await fetch(`http://127.0.0.1:${p.httpPort}/debug/role`)).json()) as { computing: boolean },
      ),
    );
    expect(roles.filter((r) => r.computing)).toHaveLength(1);
    const cache = (await (await fetch(`http://127.0.0.1:${a.httpPort}/debug/cache`)).json()) as {
      decisions: { health: { redis: string } };
    };
    expect(cache.decisions.health.redis).toBe('up');
    await waitFor(
      async () => {
        for (let i = 0; i < MODELS; i++) if ((await desired(a, i).catch(() => undefined)) === undefined) return false;
        return true;
      },
      20_000,
      'decisions for every variant',
    );
    // Agreement: sample both replicas, back to back, many times.
    let compared = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < MODELS; i++) {
        const [da, db] = [await desired(a, i), await desired(b, i)];
        if (da === db) compared++;
        else {
          // A decision may change between the two calls: re-read both once.
          expect(await desired(a, i)).toBe(await desired(b, i));
          compared++;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(compared).toBe(10 * MODELS);

    // Restart the follower: it answers from Redis before its first engine cycle.
    const follower = roles[0]?.computing ? b : a;
    const leader = follower === a ? b : a;
    await stopProcess(follower);
    const restarted = await startProcess(`${follower.name}-2`, {
      WVA_ENGINE_INTERVAL: '10m',
      WVA_FETCH_INTERVAL: '10m',
    });
    for (let i = 0; i < MODELS; i++) expect(await desired(restarted, i)).toBe(await desired(leader, i));
    expect(restarted.out.join('')).toMatch(/"decisions":[1-9]\d*,"msg":"decisions loaded from Redis"/);

    // Redis killed and restarted under load: zero failed gRPC calls.
    let calls = 0;
    const failures: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        for (const p of [leader, restarted]) {
          for (let i = 0; i < MODELS; i++) {
            calls++;
            await desired(p, i).catch((e: grpc.ServiceError) => failures.push(`${p.name} model-${i}: ${e.details}`));
          }
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2500));
    await redis.restart();
    await new Promise((r) => setTimeout(r, 2500));
    running = false;
    await load;
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(50);
    // Caught up by itself: the replicas agree again after Redis is back.
    await waitFor(
      async () => {
        for (let i = 0; i < MODELS; i++) if ((await desired(leader, i)) !== (await desired(restarted, i))) return false;
        return true;
      },
      15_000,
      'agreement after Redis restart',
    );
  }, 240_000); // three scaler processes start under tsx: seconds each, up to a minute on a loaded 2-core machine
});
