/**
 * Whether and how to reach the Kubernetes API (WVA_KUBERNETES):
 *  - off: never;
 *  - auto: the in-cluster service account when running in a pod, else $KUBECONFIG when set, else
 *    standalone (no Kubernetes);
 *  - on: as auto, falling back to ~/.kube/config; no usable config is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { Settings } from '../config/settings.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

export interface KubeEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly exists: (path: string) => boolean;
  readonly readFile: (path: string) => string;
}

const realEnvironment: KubeEnvironment = {
  env: process.env,
  exists: existsSync,
  readFile: (p) => readFileSync(p, 'utf8'),
};

export function inCluster(e: KubeEnvironment = realEnvironment): boolean {
  return Boolean(e.env['KUBERNETES_SERVICE_HOST']) && e.exists(`${SERVICE_ACCOUNT_DIR}/token`);
}

/**
 * The KubeConfig to use, or undefined to run without Kubernetes. Throws KubeConfigError when `on`
 * cannot be honoured.
 */
export function loadKubeConfig(
  mode: Settings['WVA_KUBERNETES'],
  e: KubeEnvironment = realEnvironment,
): KubeConfig | undefined {
  if (mode === 'off') return undefined;
  const kc = new KubeConfig();
  if (inCluster(e)) {
    kc.loadFromCluster();
    return kc;
  }
  const kubeconfig = e.env['KUBECONFIG'];
  if (kubeconfig || mode === 'on') {
    try {
      if (kubeconfig) kc.loadFromFile(kubeconfig);
      else kc.loadFromDefault();
    } catch (err) {
      throw new KubeConfigError(
        `WVA_KUBERNETES=${mode}: cannot load kubeconfig ${kubeconfig ?? '~/.kube/config'}: ${(err as Error).message}`,
      );
    }
    if (!kc.getCurrentCluster()) {
      if (mode === 'auto') return undefined;
      throw new KubeConfigError(
        `WVA_KUBERNETES=on: no in-cluster service account and no cluster in ${kubeconfig ?? '~/.kube/config'}: expected a pod with a service account or a kubeconfig`,
      );
    }
    return kc;
  }
  return undefined;
}

/** The scaler's own namespace: POD_NAMESPACE, else the service account's, else "default". */
export function ownNamespace(settings: Pick<Settings, 'POD_NAMESPACE'>, e: KubeEnvironment = realEnvironment): string {
  if (settings.POD_NAMESPACE) return settings.POD_NAMESPACE;
  const file = `${SERVICE_ACCOUNT_DIR}/namespace`;
  if (e.exists(file)) {
    const ns = e.readFile(file).trim();
    if (ns) return ns;
  }
  return 'default';
}

/** Leader-election identity: POD_NAME, else host name and pid (unique per process). */
export function leaderIdentity(settings: Pick<Settings, 'POD_NAME'>): string {
  return settings.POD_NAME ?? `${hostname()}-${process.pid}`;
}
