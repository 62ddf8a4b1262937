/**
 * Watches WVA_SATURATION_CONFIG_FILE (a mounted ConfigMap or a plain YAML file) and hands each
 * valid version to `apply` (main.ts swaps it into GlobalConfig). A bad update keeps the last good config,
 * is logged with what was wrong, and counted in wva_scaler_config_errors_total{source="file"}.
 *
 * Polling (fs.watchFile) rather than fs.watch: a mounted ConfigMap is updated by swapping a
 * symlink, which inotify on the file itself does not see.
 */
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { parseSaturationConfigFile, type SaturationConfig } from './saturation-config.js';

export class SaturationConfigFile {
  private lastText: string | undefined;
  private watching = false;

  constructor(
    private readonly path: string,
    private readonly apply: (config: SaturationConfig) => void,
    private readonly metrics: ScalerMetrics,
    private readonly logger: Logger,
    private readonly pollMs = 2000,
  ) {}

  /** Loads once. At start-up a bad file is fatal (returns the error); later ones are not. */
  async load(): Promise<Error | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      return this.reject(new Error(`cannot read ${this.path}: ${(err as Error).message}`));
    }
    if (text === this.lastText) return undefined;
    let parsed: SaturationConfig;
    try {
      parsed = parseSaturationConfigFile(text);
    } catch (err) {
      return this.reject(err as Error);
    }
    this.lastText = text;
    this.apply(parsed);
    this.metrics.configReloads.inc({ source: 'file' });
    this.logger.info({ file: this.path, models: parsed.entries.length, defaults: parsed.defaults }, 'saturation config loaded');
    return undefined;
  }

  watch(): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.path, { interval: this.pollMs, persistent: false }, (curr: Stats, prev: Stats) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) void this.load();
    });
  }

  close(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }

  private reject(err: Error): Error {
    this.metrics.configErrors.inc({ source: 'file' });
    this.logger.error({ file: this.path, error: err.message }, 'saturation config rejected; keeping the last good config');
    return err;
  }
}
