/**
 * Watches WVA_SATURATION_CONFIG_FILE (a mounted ConfigMap or a plain YAML file) and hands each
 * valid version to `apply` (main.ts swaps it into GlobalConfig). A bad update keeps the last good config,
 * is logged with what was wrong, and counted in wva_scaler_config_errors_total{source="file"}.
 *
 * Polling (fs.watchFile) rather than fs.watch: a mounted ConfigMap is updated by swapping a
 * symlink, which inotify on the file itself does not see.
 *
 * A plain file edited in place can be read half-written, and half a YAML map is often still a
 * valid one (the entries after the cut are simply missing). A new version is therefore read twice,
 * `settleMs` apart, and applied only when both reads agree; otherwise the next poll tries again.
 * An empty file is refused (saturation-config.ts), like any other invalid version.
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
    /** Waits between the two reads of a new version (injectable so tests can write in between). */
    private readonly settle: () => Promise<void> = () => new Promise((r) => setTimeout(r, Math.min(250, pollMs / 4))),
  ) {}

  /** Loads once. At start-up a bad file is fatal (returns the error); later ones are not. */
  async load(attempt = 0): Promise<Error | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
      if (text === this.lastText) return undefined;
      await this.settle();
      const again = await readFile(this.path, 'utf8');
      if (again !== text) {
        if (this.lastText !== undefined) {
          this.logger.info(
            { file: this.path },
            'saturation config file is still being written; trying again at the next poll',
          );
          return undefined;
        }
        // Start-up has no last good config to keep: read again, a few times.
        return attempt < 5
          ? this.load(attempt + 1)
          : this.reject(new Error(`${this.path} kept changing while being read`));
      }
    } catch (err) {
      return this.reject(new Error(`cannot read ${this.path}: ${(err as Error).message}`));
    }
    let parsed: SaturationConfig;
    try {
      parsed = parseSaturationConfigFile(text);
    } catch (err) {
      return this.reject(err as Error);
    }
    this.lastText = text;
    this.apply(parsed);
    this.metrics.configReloads.inc({ source: 'file' });
    this.logger.info(
      { file: this.path, models: parsed.entries.length, defaults: parsed.defaults },
      'saturation config loaded',
    );
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
    this.logger.error(
      { file: this.path, error: err.message },
      'saturation config rejected; keeping the last good config',
    );
    return err;
  }
}
