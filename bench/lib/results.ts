/**
 * Writes one section of bench/RESULTS.md (from its `## heading` to the next `## `), leaving the
 * other benches' sections alone, and stamps the machine and date.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function writeResultsSection(heading: string, body: string): void {
  const header =
    '# Benchmark results\n\nEach section is rewritten by its bench (`npm run bench` runs them all). Figures are from one run on the machine named in the section; ratios compare against a baseline measured in the same run.\n';
  let text = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : header;
  const title = `## ${heading}`;
  const section = `${title}\n\n${body.trim()}\n`;
  const start = text.indexOf(`${title}\n`);
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + title.length);
    text = `${text.slice(0, start)}${section}${next === -1 ? '' : `\n${text.slice(next + 1)}`}`;
  }
  writeFileSync(RESULTS_FILE, text.endsWith('\n') ? text : `${text}\n`);
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}
