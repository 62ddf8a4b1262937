import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateProtoTypes } from '../../../scripts/gen-proto.js';

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

// The committed types are what the type check holds the handlers to; regenerating them from the
// proto must give the same files, or a proto change would go unnoticed by the compiler.
describe('src/grpc/generated', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'wva-proto-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is exactly what `npm run gen:proto` generates from proto/externalscaler.proto', () => {
    generateProtoTypes(tmp);
    const fresh = filesUnder(tmp);
    const committed = filesUnder(GENERATED_DIR);
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [path, text] of fresh) expect(committed.get(path), `${path} differs: run npm run gen:proto`).toBe(text);
  });
});
