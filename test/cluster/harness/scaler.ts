/**
 * The scaler as the chart installs it: `helm install` of deploy/helm/wva-scaler into the real API
 * server (kwok plays its pods), then the scaler runs as a local process with the environment of
 * the chart's Deployment (downward-API fields resolved to a real pod of it) and a kubeconfig that
 * holds a TokenRequest token of the chart's ServiceAccount, so the real RBAC authorizer checks
 * every call it makes against what the chart grants.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, REPO, RELEASE, SCALER_NAMESPACE, until, type ClusterState } from './cluster.js';
import { kubeconfigYaml, type Kube } from './kube.js';
import type { ProcessTable } from './procs.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface DeploymentJson {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { spec: { serviceAccountName: string; containers: { env?: EnvVar[] }[] } };
  };
}

/**
 * The chart values every cluster install uses: this cluster's Prometheus and gateway, and a match on
 * the local scaler address.
 */
export function chartValues(state: ClusterState, opts: { withCrd: boolean } = { withCrd: true }): string[] {
  const values = [
    '--set',
    `settings.prometheusUrl=${state.prometheusUrl}`,
    '--set',
    `settings.gatewayScrapeTarget=${state.fleetGatewayUrl}`,
    '--set',
    'settings.engineInterval=5s',
    '--set',
    `settings.scalerAddressMatch=127.0.0.1:`,
  ];
  // The CRD is cluster-scoped: one release owns it, a second release must not render it again.
  return opts.withCrd ? [...values, '--set', 'crds.variantAutoscaling=true'] : values;
}

export async function installChart(state: ClusterState, kube: Kube, extra: readonly string[] = []): Promise<void> {
  await kube.helm(['install', RELEASE, CHART, '-n', SCALER_NAMESPACE, ...chartValues(state), ...extra]);
  await until(
    'the chart pods Running (kwok)',
    async () => {
      const pods = await kube.getJson<{ items: { status?: { phase?: string } }[] }>([
        'pods',
        '-n',
        SCALER_NAMESPACE,
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
      ]);
      return pods.items.length > 0 && pods.items.every((p) => p.status?.phase === 'Running');
    },
    60_000,
  );
}

export interface ScalerProcessOptions {
  /** Process name in the table (and log file name). */
  readonly name: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Which of the chart's pods this process plays (0-based, by name order). */
  readonly podIndex?: number;
  readonly env?: Record<string, string>;
}

/** A token of the chart's ServiceAccount and a kubeconfig holding it. */
export async function serviceAccountKubeconfig(
  state: ClusterState,
  kube: Kube,
  serviceAccount: string,
  file: string,
): Promise<string> {
  const token = (
    await kube.kubectl(['create', 'token', serviceAccount, '-n', SCALER_NAMESPACE, '--duration=6h'])
  ).trim();
  writeFileSync(file, kubeconfigYaml(state.apiserverUrl, state.pki.caCert, { token }));
  return file;
}

export async function startScaler(
  state: ClusterState,
  kube: Kube,
  procs: ProcessTable,
  opts: ScalerProcessOptions,
): Promise<void> {
  const dep = await kube.getJson<DeploymentJson>(['deployment', RELEASE, '-n', SCALER_NAMESPACE]);
  const selector = Object.entries(dep.spec.selector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await kube.getJson<{ items: { metadata: { name: string } }[] }>([
    'pods',
    '-n',
    SCALER_NAMESPACE,
    '-l',
    selector,
  ]);
  const podName = pods.items.map((p) => p.metadata.name).sort()[opts.podIndex ?? 0];
  if (!podName) throw new Error(`cluster: the chart's Deployment has no pod ${opts.podIndex ?? 0} to play`);
  const kubeconfig = await serviceAccountKubeconfig(
    state,
    kube,
    dep.spec.template.spec.serviceAccountName,
    join(state.dir, `${opts.name}.kubeconfig`),
  );
  const env: Record<string, string> = {};
  for (const v of dep.spec.template.spec.containers[0]?.env ?? []) {
    const field = v.valueFrom?.fieldRef?.fieldPath;
    if (field === 'metadata.name') env[v.name] = podName;
    else if (field === 'metadata.namespace') env[v.name] = SCALER_NAMESPACE;
    else if (v.value !== undefined) env[v.name] = v.value;
  }
  Object.assign(env, {
    KUBECONFIG: kubeconfig,
    WVA_GRPC_PORT: String(opts.grpcPort),
    WVA_HTTP_PORT: String(opts.httpPort),
    WVA_BIND_ADDRESS: '127.0.0.1',
    LOG_FORMAT: 'json',
    ...opts.env,
  });
  procs.start({
    name: opts.name,
    command: join(REPO, 'node_modules/.bin/tsx'),
    args: [join(REPO, 'src/main.ts')],
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
  });
  const httpUrl = `http://127.0.0.1:${opts.httpPort}`;
  await until(
    `${opts.name} /readyz`,
    async () => (await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).ok,
    60_000,
    procs.logOf(opts.name),
  );
}
