/**
 * The README's grpcurl commands ("Inspect it"), run verbatim with the real grpcurl against the
 * scaler (only the address changes: localhost:9090 → this cluster's scaler), as users inspect it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from './harness/cluster.js';
import { cluster } from './harness/scenario.js';

const run = promisify(execFile);
const c = cluster();

/** The README's grpcurl commands, one per entry (backslash continuations joined). */
export function readmeGrpcurlCommands(readme: string): string[] {
  const block = /gRPC reflection is on[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README.md has no grpcurl block under 'gRPC reflection is on'");
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .filter((l) => l.startsWith('grpcurl '))
    .map((l) => l.replace(/\s+#.*$/, ''));
}

describe("the README's grpcurl commands against the real scaler", () => {
  const commands = readmeGrpcurlCommands(readFileSync(join(REPO, 'README.md'), 'utf8'));

  it('finds the four commands', () => {
    expect(commands).toHaveLength(4);
  });

  it('each one answers as the README shows', async () => {
    const outputs: string[] = [];
    for (const cmd of commands) {
      const { stdout } = await run('bash', ['-c', cmd.replaceAll('localhost:9090', c.state.scaler.grpcAddress)], {
        env: { ...process.env, PATH: `${dirname(c.state.grpcurl)}:${process.env.PATH ?? ''}` },
      });
      outputs.push(stdout);
    }
    const [list, spec, metrics, health] = outputs;
    expect(list?.trim().split('\n')).toEqual(['externalscaler.ExternalScaler', 'grpc.health.v1.Health']);
    expect(JSON.parse(spec ?? '{}')).toEqual({
      metricSpecs: [{ metricName: 'wva-desired-replicas', targetSize: '1', targetSizeFloat: 1 }],
    });
    const mv = (JSON.parse(metrics ?? '{}') as { metricValues: { metricName: string; metricValueFloat: number }[] })
      .metricValues;
    expect(mv[0]?.metricName).toBe('wva-desired-replicas');
    // proto3 JSON leaves a 0 out: the model's replicas may all sit on its other variant.
    expect(mv[0]?.metricValueFloat ?? 0).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(health ?? '{}')).toEqual({ status: 'SERVING' });
  });
});
