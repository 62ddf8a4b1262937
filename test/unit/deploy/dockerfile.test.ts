/**
 * Reads the Dockerfile (docker cannot build on these machines) and checks the promises it makes:
 * a node LTS slim base, a build stage that compiles with `npm run build`, production dependencies
 * from `npm ci --omit=dev`, and a final stage that holds only dist/, those node_modules,
 * package*.json and proto/, runs as a non-root user, has a HEALTHCHECK and starts dist/main.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Dockerfile -> stages of instructions (comments dropped, `\` continuations joined, ARGs substituted). */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const argText = rest
      .join(' ')
      .replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_, a: string | undefined, b: string | undefined) => args.get(a ?? b ?? '') ?? '',
      );
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k = '', v = ''] = argText.split('=');
      args.set(k, v);
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argText);
      stages.push({ image: m?.[1] ?? argText, name: m?.[2], instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`${op} before FROM`);
      stage.instructions.push({ op: upper, args: argText });
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const final = dockerfile[dockerfile.length - 1]!;
const byName = (name: string): Stage | undefined => dockerfile.find((s) => s.name === name);
const runs = (s: Stage): string[] => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);

describe('Dockerfile', () => {
  it('is multi-stage on a node LTS slim base', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    for (const s of dockerfile) {
      const m = /^node:(\d+)-[a-z-]*slim$/.exec(s.image);
      expect(m, `base image ${s.image}`).not.toBeNull();
      expect(Number(m![1]) % 2, 'LTS releases are even majors').toBe(0);
    }
  });

  it('compiles in a build stage and installs production dependencies with npm ci --omit=dev', () => {
    const build = dockerfile.find(
      (s) =>
        runs(s).some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)) &&
        runs(s).some((r) => r.includes('npm run build')),
    );
    expect(build, 'a stage with npm ci and npm run build').toBeDefined();
    expect(build).not.toBe(final);
  });

  it('copies only dist/, production node_modules, package*.json and proto/ into the final stage', () => {
    const copies = final.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD');
    expect(copies.length).toBeGreaterThan(0);
    const allowedLocal = new Set(['package.json', 'package-lock.json', 'proto', 'proto/']);
    for (const c of copies) {
      expect(c.op, 'ADD can fetch URLs and unpack archives; use COPY').toBe('COPY');
      const parts = c.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
      const sources = parts.filter((p) => !p.startsWith('--')).slice(0, -1);
      if (from === undefined) {
        for (const src of sources) expect(allowedLocal, `local COPY ${src}`).toContain(src);
        continue;
      }
      const stage = byName(from);
      expect(stage, `COPY --from=${from}`).toBeDefined();
      for (const src of sources) {
        expect(['/app/dist', '/app/node_modules'], `COPY --from=${from} ${src}`).toContain(src.replace(/\/$/, ''));
        if (src.startsWith('/app/node_modules')) {
          expect(
            runs(stage!).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)),
            `${from} installs with --omit=dev`,
          ).toBe(true);
          expect(
            runs(stage!).some((r) => r.includes('npm run build')),
            `${from} must not build (dev deps)`,
          ).toBe(false);
        } else {
          expect(
            runs(stage!).some((r) => r.includes('npm run build')),
            `${from} builds dist/`,
          ).toBe(true);
        }
      }
    }
    const copied = copies.map((c) => c.args).join(' ');
    for (const needed of ['/app/dist', '/app/node_modules', 'package.json', 'proto']) expect(copied).toContain(needed);
  });

  it('runs as a non-root user, with a health check, starting dist/main.js', () => {
    const users = final.instructions.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]!.args.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
    // Numeric, so the kubelet can enforce runAsNonRoot.
    expect(user).toMatch(/^\d+$/);
    const lastUserIndex = final.instructions.lastIndexOf(users[users.length - 1]!);
    expect(
      final.instructions.slice(lastUserIndex).some((i) => i.op === 'RUN'),
      'no RUN after USER needs root',
    ).toBe(false);
    expect(final.instructions.some((i) => i.op === 'HEALTHCHECK' && i.args.includes('/healthz'))).toBe(true);
    const cmd = final.instructions.filter((i) => i.op === 'CMD').pop();
    expect(JSON.parse(cmd!.args)).toEqual(['node', 'dist/main.js']);
  });

  it('keeps the build context small with .dockerignore', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git', 'test']) expect(ignored).toContain(p);
  });

  it('the parser reads stages, continuations and ARG substitution', () => {
    const s = parseDockerfile('ARG B=node:22-slim\nFROM ${B} AS x\nRUN a \\\n  b\n# c\nFROM x\nUSER 1');
    expect(s.map((t) => [t.image, t.name])).toEqual([
      ['node:22-slim', 'x'],
      ['x', undefined],
    ]);
    expect(s[0]!.instructions).toEqual([{ op: 'RUN', args: 'a b' }]);
  });
});
