/**
 * Finding 8: an empty saturation config file was taken as a valid config (built-in defaults, counted
 * as a reload), and a file read half-written could change thresholds. Real files on disk; the test
 * writes the rest of the file between the loader's two reads (its `settle` hook), not on a timer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SaturationConfigFile } from '../../../src/config/saturation-config-file.js';
import { parseSaturationConfigFile, type SaturationConfig } from '../../../src/config/saturation-config.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ScalerMetrics } from '../../../src/observability/metrics.js';

const GOOD = 'default: |\n  kvCacheThreshold: 0.7\nllama: |\n  model_id: meta/llama\n  kvCacheThreshold: 0.6\n';
const NEXT = 'default: |\n  kvCacheThreshold: 0.9\nllama: |\n  model_id: meta/llama\n  kvCacheThreshold: 0.5\n';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-satfile-'));
  file = join(dir, 'config.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function loader(settle: () => Promise<void> = async () => undefined) {
  const applied: SaturationConfig[] = [];
  const metrics = new ScalerMetrics({ defaultMetrics: false });
  const f = new SaturationConfigFile(file, (c) => applied.push(c), metrics, silentLogger(), 2000, settle);
  return { f, applied, metrics };
}

describe('saturation config file', () => {
  it.each(['', '\n', '   \n# only a comment\n'])(
    'refuses an empty file %j and keeps the last good config',
    async (empty) => {
      expect(() => parseSaturationConfigFile(empty)).toThrow(/the file is empty/);
      writeFileSync(file, GOOD);
      const { f, applied, metrics } = loader();
      expect(await f.load()).toBeUndefined();
      writeFileSync(file, empty);
      expect(await f.load()).toBeInstanceOf(Error);
      expect(applied).toHaveLength(1);
      expect(applied[0]?.defaults.kvCacheThreshold).toBe(0.7);
      expect(await metrics.registry.getSingleMetricAsString('wva_scaler_config_errors_total')).toMatch(
        /source="file"} 1/,
      );
    },
  );

  it('an empty file at start-up is an error (no silent built-in defaults)', async () => {
    writeFileSync(file, '');
    const { f, applied } = loader();
    expect((await f.load())?.message).toMatch(/empty/);
    expect(applied).toHaveLength(0);
  });

  it('`{}` still says "built-in defaults only"', () => {
    expect(parseSaturationConfigFile('{}').entries).toEqual([]);
  });

  it('a file read half-written does not change thresholds; the whole file then does', async () => {
    writeFileSync(file, GOOD);
    let writeRest: (() => void) | undefined;
    const { f, applied } = loader(async () => {
      writeRest?.();
      writeRest = undefined;
    });
    await f.load();
    // The writer got as far as the default entry: valid YAML, but the llama entry is missing.
    const half = NEXT.slice(0, NEXT.indexOf('llama:'));
    expect(parseSaturationConfigFile(half).entries).toEqual([]);
    writeFileSync(file, half);
    writeRest = () => writeFileSync(file, NEXT);
    expect(await f.load()).toBeUndefined();
    expect(applied).toHaveLength(1);
    expect(applied[0]?.defaults.kvCacheThreshold).toBe(0.7);
    // Next poll: the file is whole and stable.
    expect(await f.load()).toBeUndefined();
    expect(applied).toHaveLength(2);
    expect(applied[1]?.defaults.kvCacheThreshold).toBe(0.9);
    expect(applied[1]?.entries[0]?.thresholds.kvCacheThreshold).toBe(0.5);
  });
});
