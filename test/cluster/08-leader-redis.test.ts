/**
 * Scenario 6 of the issue: two scaler processes (the chart's two pods, after `helm upgrade` with
 * settings.redisUrl) sharing decisions through a real Redis and electing a leader through the real
 * Lease. One leader; the GetMetrics answer never differs between them; kill the leader and the
 * other takes over within the lease duration.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';
import { CHART, RELEASE } from './harness/cluster.js';
import { ProcessTable } from './harness/procs.js';
import { startScaler } from './harness/scaler.js';
import { cluster, recordFigures, waitUntil } from './harness/scenario.js';

const run = promisify(execFile);
const c = cluster();
const procs = new ProcessTable(c.state.dir);
// The elector's defaults (src/kube/leader-election.ts): the Lease expires LEASE_DURATION_MS after
// the last renewal, and a candidate looks every RETRY_PERIOD_MS; a SIGKILLed leader had renewed up
// to one retry period before it died.
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;
const VARIANT = { name: 'llama-8b', namespace: 'llm', scalerMetadata: { modelID: 'meta-llama/Llama-3.1-8B-Instruct' } };

async function getMetrics(address: string): Promise<number> {
  const { stdout } = await run(c.state.grpcurl, [
    '-plaintext',
    '-d',
    JSON.stringify({ scaledObjectRef: VARIANT, metricName: 'wva-desired-replicas' }),
    address,
    'externalscaler.ExternalScaler/GetMetrics',
  ]);
  const body = JSON.parse(stdout) as { metricValues: { metricValueFloat?: number }[] };
  return body.metricValues[0]?.metricValueFloat ?? 0;
}

interface Role {
  leader: boolean;
  redis: string;
}
const roleOf = async (httpUrl: string): Promise<Role> =>
  (await (await fetch(`${httpUrl}/debug/role`, { signal: AbortSignal.timeout(2000) })).json()) as Role;

describe('scenario 6: two scalers, Redis and the real Lease', () => {
  afterAll(async () => {
    await procs.stop('scaler-b');
  });

  it('elects one leader, answers alike, and fails over within the lease duration', async () => {
    const redisPort = await freePort();
    procs.start({
      name: 'redis',
      command: requireBinary('redis-server', 'redis-server'),
      args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    });
    await waitUntil(
      'redis',
      async () =>
        (await run(requireBinary('redis-cli', 'redis-server'), ['-p', String(redisPort), 'ping'])).stdout.trim(),
      (s) => s === 'PONG',
      10_000,
    );
    await c.kube.helm([
      'upgrade',
      RELEASE,
      CHART,
      '-n',
      'keda',
      '--reuse-values',
      '--set',
      `settings.redisUrl=redis://127.0.0.1:${redisPort}`,
    ]);

    await procs.stop('scaler');
    const a = { name: 'scaler', grpc: c.state.scaler.grpcAddress, http: c.state.scaler.httpUrl };
    const bPorts = { grpc: await freePort(), http: await freePort() };
    const b = { name: 'scaler-b', grpc: `127.0.0.1:${bPorts.grpc}`, http: `http://127.0.0.1:${bPorts.http}` };
    await startScaler(c.state, c.kube, procs, {
      name: 'scaler',
      grpcPort: c.state.ports.scalerGrpc ?? 0,
      httpPort: c.state.ports.scalerHttp ?? 0,
      podIndex: 0,
    });
    await startScaler(c.state, c.kube, procs, {
      name: 'scaler-b',
      grpcPort: bPorts.grpc,
      httpPort: bPorts.http,
      podIndex: 1,
    });

    const roles = await waitUntil(
      'exactly one leader, both on Redis',
      async () => [await roleOf(a.http), await roleOf(b.http)],
      (r) => r.filter((x) => x.leader).length === 1 && r.every((x) => x.redis === 'up'),
      60_000,
      500,
    );
    const [leader, follower] = roles[0]?.leader ? [a, b] : [b, a];

    // The same answer from both, sampled together for 20 s.
    let differences = 0;
    let compared = 0;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const [x, y] = await Promise.all([getMetrics(a.grpc), getMetrics(b.grpc)]);
      compared++;
      if (x !== y) differences++;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(differences, `GetMetrics differed in ${differences} of ${compared} paired reads`).toBe(0);

    const killedAt = Date.now();
    await procs.kill(leader.name); // a crash: the Lease is not released
    await waitUntil(
      'the follower to lead',
      () => roleOf(follower.http),
      (r) => r.leader,
      LEASE_DURATION_MS + 10_000,
      200,
    );
    const takeoverMs = Date.now() - killedAt;
    recordFigures(c.state, 'leader-failover', {
      takeoverMs,
      leaseDurationMs: LEASE_DURATION_MS,
      pairedReads: compared,
      differences,
    });
    // Leave the cluster as later scenarios expect it: the scaler on its own ports.
    if (leader.name === 'scaler') {
      await startScaler(c.state, c.kube, procs, {
        name: 'scaler',
        grpcPort: c.state.ports.scalerGrpc ?? 0,
        httpPort: c.state.ports.scalerHttp ?? 0,
        podIndex: 0,
      });
    }
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_DURATION_MS + 2 * RETRY_PERIOD_MS);
  });
});
