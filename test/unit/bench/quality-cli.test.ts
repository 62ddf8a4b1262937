import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

function run(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX, ['bench/scaling-quality.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench:quality options', () => {
  it('lists --flow-control in its usage', () => {
    const out = execFileSync(TSX, ['bench/scaling-quality.ts', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toContain('--flow-control recipe|on|off');
  });

  it('refuses a flow-control mode it does not know, naming the ones it does, before running anything', () => {
    const r = run(['--flow-control', 'sometimes', '--no-write']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--flow-control expects one of recipe, on, off, got sometimes');
    expect(r.stdout).toBe('');
  });
});
