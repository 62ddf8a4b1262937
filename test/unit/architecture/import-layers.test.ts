/**
 * The import graph of src/ follows the data flow: a module imports only from its own layer or
 * lower ones, so an interface lives with the side that owns it (or in domain/) and a low layer
 * never learns about a higher one. Layers, low to high:
 *
 *   domain -> config -> collector, cache -> engine -> kube, grpc, observability -> main -> sim
 *
 * Modules of one layer may import each other, but two directories of one layer never both ways.
 * The logger and the metrics registry are instruments every layer is handed (DESIGN: main builds
 * them and passes them in); they may be imported from anywhere and import nothing of ours.
 *
 * Imports are read with the TypeScript scanner (type-only imports and re-exports included).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Rank of each top-level directory of src/ (the file src/main.ts is `main`). */
const LAYER_RANK: Readonly<Record<string, number>> = {
  domain: 0,
  config: 1,
  collector: 2,
  cache: 2,
  engine: 3,
  kube: 4,
  grpc: 4,
  observability: 4,
  main: 5,
  sim: 6,
};

const INSTRUMENTS: ReadonlySet<string> = new Set(['observability/logger.ts', 'observability/metrics.ts']);

interface Edge {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every import of ours in src/, as paths relative to src/ (`engine/engine.ts`). */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    for (const ref of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), ref.fileName).replace(/\.js$/, '.ts');
      edges.push({ from, to: relative(SRC, target) });
    }
  }
  return edges;
}

function layerOf(path: string): string {
  return path === 'main.ts' ? 'main' : (path.split('/')[0] ?? '');
}

/** Why an edge runs against the flow, or undefined when it is fine. */
export function upwardReason(edge: Edge): string | undefined {
  if (INSTRUMENTS.has(edge.from)) return 'an instrument imports nothing of ours';
  if (INSTRUMENTS.has(edge.to)) return undefined;
  const from = LAYER_RANK[layerOf(edge.from)];
  const to = LAYER_RANK[layerOf(edge.to)];
  if (from === undefined) return `${layerOf(edge.from)}/ has no layer: add it to LAYER_RANK`;
  if (to === undefined) return `${layerOf(edge.to)}/ has no layer: add it to LAYER_RANK`;
  return to > from ? `${layerOf(edge.from)} (layer ${from}) imports ${layerOf(edge.to)} (layer ${to})` : undefined;
}

describe('import layers of src/', () => {
  const edges = importEdges();

  it('reads the imports (the check is not vacuous)', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: 'main.ts', to: 'engine/engine.ts' });
  });

  it('has no import from a lower layer to a higher one', () => {
    const upward = edges.flatMap((e) => {
      const why = upwardReason(e);
      return why === undefined ? [] : [`${e.from} -> ${e.to}: ${why}`];
    });
    expect(upward).toEqual([]);
  });

  it('has no two directories of one layer importing each other', () => {
    const sameLayer = new Set(
      edges
        .filter((e) => !INSTRUMENTS.has(e.to) && layerOf(e.from) !== layerOf(e.to))
        .filter((e) => LAYER_RANK[layerOf(e.from)] === LAYER_RANK[layerOf(e.to)])
        .map((e) => `${layerOf(e.from)} -> ${layerOf(e.to)}`),
    );
    const bothWays = [...sameLayer].filter((e) => sameLayer.has(e.split(' -> ').reverse().join(' -> ')));
    expect(bothWays).toEqual([]);
  });

  it('flags an upward edge and names it', () => {
    expect(upwardReason({ from: 'cache/redis-lock.ts', to: 'kube/leader-election.ts' })).toBe(
      'cache (layer 2) imports kube (layer 4)',
    );
    expect(upwardReason({ from: 'observability/metrics.ts', to: 'domain/variant.ts' })).toBe(
      'an instrument imports nothing of ours',
    );
    expect(upwardReason({ from: 'engine/engine.ts', to: 'observability/logger.ts' })).toBeUndefined();
    expect(upwardReason({ from: 'kube/status-writer.ts', to: 'cache/decision-cache.ts' })).toBeUndefined();
  });
});
