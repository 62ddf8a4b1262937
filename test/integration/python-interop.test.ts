/**
 * Interop with a gRPC peer that is not grpc-js: Debian's python3-grpcio calls all four RPCs the
 * way KEDA does, and holds a StreamIsActive stream open while the decision goes 0 -> 3.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { requirePythonGrpc } from '../helpers/binaries.js';
import { waitFor } from '../helpers/ports.js';
import { startHarness, type Harness } from '../helpers/scaler-harness.js';

const SCRIPT = fileURLToPath(new URL('../interop/keda_client.py', import.meta.url));
type Line = Record<string, unknown> & { kind: string };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
});

describe('python3-grpcio as KEDA', () => {
  it('calls all four RPCs and receives exactly one true while the decision goes 0 -> 3', async () => {
    const python = requirePythonGrpc();
    h = await startHarness();
    const harness = h;
    harness.setDecision('team-a/llama-h100', 0);
    const child = spawn(
      python,
      [SCRIPT, harness.address, 'team-a', 'llama-h100', 'meta-llama/Llama-3.1-8B-Instruct', '2.5'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines: Line[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l) as Line));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    await waitFor(
      () => lines.some((l) => l.kind === 'stream_open') && harness.streams.size === 1,
      10_000,
      `stream open (stderr: ${stderr})`,
    );
    // Metrics were read while the decision was 0: float 0 falls back to the int, also 0.
    harness.setDecision('team-a/llama-h100', 3);
    await new Promise((r) => setTimeout(r, 300));
    harness.setDecision('team-a/llama-h100', 4); // still active: must not push again
    expect(await exited).toBe(0);

    const byKind = (k: string) => lines.filter((l) => l.kind === k);
    expect(byKind('spec')[0]).toMatchObject({ metricName: 'wva-desired-replicas', targetSize: 1, targetSizeFloat: 1 });
    expect(byKind('metrics')[0]).toMatchObject({
      sentMetricName: 'wva-desired-replicas',
      metricName: 'wva-desired-replicas',
      metricValue: 0,
      metricValueFloat: 0,
      kedaValue: 0,
    });
    expect(byKind('active')[0]).toMatchObject({ result: false });
    expect(byKind('push').map((l) => l.result)).toEqual([true]);
    expect(byKind('stream_end')[0]).toMatchObject({ pushes: [true] });
    expect(harness.registry.get('team-a/llama-h100')?.accelerator).toBe('H100');
    await waitFor(() => harness.streams.size === 0, 3000, 'server-side stream cleanup after the client cancelled');
  });

  it('reads float and int values of a non-zero decision', async () => {
    const python = requirePythonGrpc();
    h = await startHarness();
    h.setDecision('team-a/llama-h100', 7);
    const child = spawn(python, [SCRIPT, h.address, 'team-a', 'llama-h100', 'm', '0.3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Line[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l) as Line));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(lines.find((l) => l.kind === 'metrics')).toMatchObject({
      metricValue: 7,
      metricValueFloat: 7,
      kedaValue: 7,
    });
    expect(lines.find((l) => l.kind === 'active')).toMatchObject({ result: true });
    // Active at open: exactly one push, and no more for a decision that stays active.
    expect(lines.filter((l) => l.kind === 'push').map((l) => l.result)).toEqual([true]);
  });
});
