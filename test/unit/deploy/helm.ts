/**
 * The chart rendered by the real helm (v4, from test/cluster/tools.ts): `helm template` and
 * `helm lint` with values given as JSON files (JSON, so that a string such as `off` stays a
 * string: a YAML 1.2 writer would print it plain and helm would read a boolean).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeTools } from '../../cluster/tools.js';

const run = promisify(execFile);

export const CHART_DIR = join(import.meta.dirname, '../../../deploy/helm/wva-scaler');
export const MANIFEST_PATH = join(import.meta.dirname, '../../../deploy/manifests/wva-scaler.yaml');

export interface Release {
  readonly name: string;
  readonly namespace: string;
}
export const DEFAULT_RELEASE: Release = { name: 'wva-scaler', namespace: 'keda' };

/**
 * Where the plain manifest's Prometheus is assumed to be: prometheus-operator's default Service in
 * namespace `monitoring`. A placeholder, said so in the manifest; the chart itself has no default
 * and refuses to render without a metrics source.
 */
export const MANIFEST_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

/** A helm command that exited non-zero; `message` is helm's own error (e.g. a template's `fail`). */
export class HelmError extends Error {}

/** Runs helm with `values` as successive `--values` files (later ones win, maps merge as helm merges them). */
async function helm(args: readonly string[], values: readonly unknown[]): Promise<string> {
  const { helm: bin } = await kubeTools();
  const dir = await mkdtemp(join(tmpdir(), 'wva-helm-values-'));
  try {
    const files: string[] = [];
    for (const [i, v] of values.entries()) {
      const f = join(dir, `values-${i}.json`);
      await writeFile(f, JSON.stringify(v));
      files.push('--values', f);
    }
    try {
      const { stdout } = await run(bin, [...args, ...files], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
      return stdout;
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string; stdout?: string };
      throw new HelmError(`helm ${args.join(' ')}: ${(stderr || stdout || String(err)).trim()}`, { cause: err });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm template` of the chart: multi-document YAML, exactly as helm prints it. */
export async function helmTemplate(
  values: readonly unknown[] = [],
  release: Release = DEFAULT_RELEASE,
  chartDir = CHART_DIR,
): Promise<string> {
  return helm(['template', release.name, chartDir, '--namespace', release.namespace], values);
}

/** `helm lint --strict` of the chart; throws HelmError when it fails. */
export async function helmLint(values: readonly unknown[] = [], chartDir = CHART_DIR): Promise<string> {
  return helm(['lint', '--strict', chartDir], values);
}

const PLACEHOLDER_COMMENT = '# Placeholder: change to your Prometheus (or see the README for the scrape backend).';

/**
 * deploy/manifests/wva-scaler.yaml: `helm template` with the default values and
 * MANIFEST_PROMETHEUS_URL, verbatim, under a header and with a comment marking the placeholder.
 */
export async function renderChartManifest(release: Release = DEFAULT_RELEASE): Promise<string> {
  const rendered = await helmTemplate([{ settings: { prometheusUrl: MANIFEST_PROMETHEUS_URL } }], release);
  const marked = rendered.replace(
    /^( *)- name: PROMETHEUS_BASE_URL$/m,
    (line, indent: string) => `${indent}${PLACEHOLDER_COMMENT}\n${line}`,
  );
  if (marked === rendered)
    throw new Error('the rendered chart has no PROMETHEUS_BASE_URL env entry to mark as a placeholder');
  const header =
    `# Generated from deploy/helm/wva-scaler by helm template with the default values and settings.prometheusUrl=${MANIFEST_PROMETHEUS_URL}\n` +
    `# (release ${release.name}, namespace ${release.namespace}). That Prometheus URL is a placeholder: set PROMETHEUS_BASE_URL below to yours.\n` +
    '# Regenerate: npm run manifests\n';
  return header + marked;
}
