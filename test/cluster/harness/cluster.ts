/**
 * `up` and `down` of the real cluster: etcd, kube-apiserver, kube-controller-manager (HPA sync
 * every 5 s), kube-scheduler and kwok (fake nodes; kwok plays the kubelets, so pods turn Running
 * and Ready without containers), KEDA's CRDs, operator and metrics adapter (served through real
 * API aggregation), a real Prometheus scraping the vLLM fleet emulator, and the scaler installed
 * with the real `helm` and run as a local process with a token of the chart's ServiceAccount.
 * Everything listens on free 127.0.0.1 ports; `down` stops every process it started.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { requireBinary } from '../../helpers/binaries.js';
import { freePort } from '../../helpers/ports.js';
import { kubeTools } from '../tools.js';
import { Kube, kubeconfigYaml } from './kube.js';
import { makePki, type Pki } from './pki.js';
import { logTail, ProcessTable } from './procs.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const CHART = join(REPO, 'deploy/helm/wva-scaler');
export const SCALER_NAMESPACE = 'keda';
export const RELEASE = 'wva-scaler';
/** Fake nodes kwok manages: enough room for every scenario's pods. */
const NODES = 4;

export interface ClusterState {
  readonly dir: string;
  readonly bin: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly etcdUrl: string;
  readonly prometheusUrl: string;
  readonly fleetMetricsUrl: string;
  readonly fleetGatewayUrl: string;
  readonly fleetControlUrl: string;
  readonly kedaOperatorGrpc: string;
  readonly scaler: ScalerEndpoints;
  readonly pki: Pki;
  readonly kubectl: string;
  readonly helm: string;
  readonly grpcurl: string;
  readonly ports: Record<string, number>;
}

export interface ScalerEndpoints {
  readonly grpcAddress: string;
  readonly httpUrl: string;
}

export function clusterDir(): string {
  return process.env.WVA_CLUSTER_DIR ?? join(REPO, '.tmp/cluster');
}

export function readState(dir = clusterDir()): ClusterState {
  const file = join(dir, 'cluster.json');
  if (!existsSync(file)) throw new Error(`no cluster is up in ${dir}: run \`npm run cluster -- up\` first`);
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

export function kubeOf(state: ClusterState): Kube {
  return new Kube({
    kubectl: state.kubectl,
    helm: state.helm,
    kubeconfig: state.kubeconfig,
    apiserverUrl: state.apiserverUrl,
    caCert: state.pki.caCert,
    adminCert: state.pki.adminCert,
    adminKey: state.pki.adminKey,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true; on timeout names what it waited for and the log to read. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  log?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  const tail = log ? `\nlog ${log}:\n${logTail(log)}` : '';
  throw new Error(
    `cluster: timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}${tail}`,
  );
}

async function httpOk(url: string): Promise<boolean> {
  if (url.startsWith('https:')) {
    return new Promise((res) => {
      const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 2000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Builds (or finds cached) the components: the bin directory build.sh prints last.
 * WVA_CLUSTER_BIN names a directory of binaries built before (laid out as build.sh lays it out).
 */
export function buildComponents(): string {
  const prebuilt = process.env.WVA_CLUSTER_BIN;
  if (prebuilt) return prebuilt;
  requireBinary('go', 'golang (or Go 1.26 from go.dev)');
  const out = execFileSync('bash', [join(REPO, 'test/cluster/build.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const bin = out.trim().split('\n').pop() ?? '';
  if (!existsSync(join(bin, 'kube-apiserver')))
    throw new Error(`cluster: build.sh printed no bin directory (got "${bin}")`);
  return bin;
}

function etcdArgs(dir: string, ports: Record<string, number>): string[] {
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${ports.etcdPeer}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

/** Audit policy: every request of a ServiceAccount in the scaler's namespace (the chart's), metadata only. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts:${SCALER_NAMESPACE}"]
- level: None
`;

export function auditLogPath(dir: string): string {
  return join(dir, 'audit.log');
}

export function apiserverArgs(dir: string, pki: Pki, ports: Record<string, number>): string[] {
  writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
  return [
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${auditLogPath(dir)}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    `--secure-port=${ports.apiserver}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPublicKey}`,
    `--service-account-signing-key-file=${pki.saPrivateKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=Node,RBAC',
    '--allow-privileged=true',
    // kwok's nodes are Ready at once; without the node lifecycle controller (kwok plays the
    // kubelets) nothing would lift the not-ready taint this plugin puts on a new Node.
    '--disable-admission-plugins=TaintNodesByCondition',
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    '--profiling=false',
    '--v=0',
  ];
}

function nodesYaml(): string {
  const docs: string[] = [];
  for (let i = 0; i < NODES; i++) {
    docs.push(`apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${i}
  annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0" }
  labels: { type: kwok, kubernetes.io/hostname: kwok-node-${i}, kubernetes.io/os: linux, kubernetes.io/arch: amd64 }
status:
  allocatable: { cpu: "64", memory: 512Gi, pods: "110" }
  capacity: { cpu: "64", memory: 512Gi, pods: "110" }`);
  }
  return docs.join('\n---\n');
}

/**
 * KEDA's metrics adapter runs on 127.0.0.1, which no Endpoints object may name: the APIService
 * points at an ExternalName Service (localhost), which the aggregator resolves as the Service's
 * cluster address (without --enable-aggregator-routing, which accepts only real endpoints).
 */
function externalMetricsApiYaml(pki: Pki, adapterPort: number): string {
  const ca = readFileSync(join(pki.kedaCertDir, 'ca.crt')).toString('base64');
  return `apiVersion: v1
kind: Service
metadata: { name: keda-metrics-apiserver, namespace: keda }
spec:
  type: ExternalName
  externalName: localhost
  ports: [{ name: https, port: ${adapterPort}, targetPort: ${adapterPort} }]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.external.metrics.k8s.io }
spec:
  service: { name: keda-metrics-apiserver, namespace: keda, port: ${adapterPort} }
  group: external.metrics.k8s.io
  version: v1beta1
  caBundle: ${ca}
  groupPriorityMinimum: 100
  versionPriority: 100
`;
}

/** Starts the API server (also after a fault test stopped it) and waits for /readyz. */
export async function startApiserver(
  state: Pick<ClusterState, 'bin' | 'pki' | 'ports' | 'dir'>,
  procs: ProcessTable,
  kube: Kube,
): Promise<void> {
  procs.start({
    name: 'kube-apiserver',
    command: join(state.bin, 'kube-apiserver'),
    args: apiserverArgs(state.dir, state.pki, state.ports),
  });
  await until(
    'kube-apiserver /readyz',
    async () => (await kube.raw('/readyz')).status === 200,
    90_000,
    procs.logOf('kube-apiserver'),
  );
}

export async function up(): Promise<ClusterState> {
  const t0 = Date.now();
  const dir = clusterDir();
  if (existsSync(join(dir, 'procs.json'))) await down();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bin = buildComponents();
  const { helm, kubectl } = await kubeTools();
  const prometheus = requireBinary('prometheus', 'prometheus');
  const grpcurl = join(bin, 'grpcurl');
  const pki = makePki(join(dir, 'pki'));
  const portNames = [
    'etcd',
    'etcdPeer',
    'apiserver',
    'kcm',
    'scheduler',
    'kwok',
    'kedaMetrics',
    'kedaProbe',
    'kedaGrpc',
    'adapter',
    'adapterMetrics',
    'prometheus',
    'fleet',
    'fleetControl',
    'scalerGrpc',
    'scalerHttp',
  ];
  const ports: Record<string, number> = {};
  for (const n of portNames) ports[n] = await freePort();
  const procs = new ProcessTable(dir);
  const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(apiserverUrl, pki.caCert, { cert: pki.adminCert, key: pki.adminKey }));
  const kube = new Kube({
    kubectl,
    helm,
    kubeconfig,
    apiserverUrl,
    caCert: pki.caCert,
    adminCert: pki.adminCert,
    adminKey: pki.adminKey,
  });
  const step = (what: string): void => console.error(`cluster: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  procs.start({ name: 'etcd', command: join(bin, 'etcd'), args: etcdArgs(dir, ports) });
  await until('etcd /health', () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), 30_000, procs.logOf('etcd'));
  step('etcd ready');
  await startApiserver({ bin, pki, ports, dir }, procs, kube);
  step('kube-apiserver ready');

  const kedaCrds = join(bin, '../keda-crds');
  await kube.kubectl(['create', 'namespace', SCALER_NAMESPACE]);
  await kube.kubectl(['apply', '--server-side', '-f', kedaCrds]);
  await kube.apply(nodesYaml());

  const common = [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
  ];
  procs.start({
    name: 'kube-controller-manager',
    command: join(bin, 'kube-controller-manager'),
    args: [
      ...common,
      `--secure-port=${ports.kcm}`,
      `--service-account-private-key-file=${pki.saPrivateKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=true',
      '--horizontal-pod-autoscaler-sync-period=5s',
      '--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pvc-protection,-pv-protection',
      '--concurrent-deployment-syncs=10',
      '--v=0',
    ],
  });
  procs.start({
    name: 'kube-scheduler',
    command: join(bin, 'kube-scheduler'),
    args: [...common, `--secure-port=${ports.scheduler}`, '--v=0'],
  });
  const stages = join(bin, '../kwok-stages');
  procs.start({
    name: 'kwok',
    command: join(bin, 'kwok'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${ports.kwok}`,
      '--cidr=10.0.1.0/24',
      '--node-ip=10.0.2.1',
      ...['node-initialize', 'pod-ready', 'pod-complete', 'pod-delete'].map(
        (s) => `--config=${join(stages, `${s}.yaml`)}`,
      ),
    ],
  });
  await until(
    'kube-controller-manager /healthz',
    () => httpOk(`https://127.0.0.1:${ports.kcm}/healthz`),
    60_000,
    procs.logOf('kube-controller-manager'),
  );
  await until(
    'kube-scheduler /healthz',
    () => httpOk(`https://127.0.0.1:${ports.scheduler}/healthz`),
    60_000,
    procs.logOf('kube-scheduler'),
  );
  await until(
    'kwok nodes Ready',
    async () => {
      const nodes = await kube.getJson<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>([
        'nodes',
      ]);
      return (
        nodes.items.length === NODES &&
        nodes.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      );
    },
    60_000,
    procs.logOf('kwok'),
  );
  await until(
    'the default ServiceAccount',
    async () => (await kube.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'])).trim() !== '',
    60_000,
    procs.logOf('kube-controller-manager'),
  );
  step('controller-manager, scheduler, kwok ready');

  const tsx = join(REPO, 'node_modules/.bin/tsx');
  procs.start({
    name: 'fleet',
    command: tsx,
    args: [
      join(REPO, 'test/cluster/harness/fleet-daemon.ts'),
      '--kubeconfig',
      kubeconfig,
      '--port',
      String(ports.fleet),
      '--control-port',
      String(ports.fleetControl),
    ],
  });
  await until('fleet emulator', () => httpOk(`http://127.0.0.1:${ports.fleet}/healthz`), 60_000, procs.logOf('fleet'));
  mkdirSync(join(dir, 'prometheus'), { recursive: true });
  writeFileSync(
    join(dir, 'prometheus/prometheus.yml'),
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 15s }',
      'scrape_configs:',
      '  - job_name: vllm',
      '    honor_labels: true',
      `    static_configs: [{ targets: ["127.0.0.1:${ports.fleet}"] }]`,
      '  - job_name: gateway',
      '    honor_labels: true',
      '    metrics_path: /gateway/metrics',
      `    static_configs: [{ targets: ["127.0.0.1:${ports.fleet}"] }]`,
      '',
    ].join('\n'),
  );
  procs.start({
    name: 'prometheus',
    command: prometheus,
    args: [
      `--config.file=${join(dir, 'prometheus/prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus/data')}`,
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      '--storage.tsdb.retention.time=2h',
      '--log.level=warn',
    ],
  });
  await until(
    'prometheus /-/ready',
    () => httpOk(`http://127.0.0.1:${ports.prometheus}/-/ready`),
    30_000,
    procs.logOf('prometheus'),
  );
  step('fleet emulator and prometheus ready');

  const kedaEnv = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    WATCH_NAMESPACE: '',
    POD_NAMESPACE: 'keda',
    KEDA_CLUSTER_OBJECT_NAMESPACE: 'keda',
    OPERATOR_NAME: 'keda-operator',
  };
  procs.start({
    name: 'keda-operator',
    command: join(bin, 'keda-operator'),
    env: kedaEnv,
    args: [
      `--metrics-bind-address=127.0.0.1:${ports.kedaMetrics}`,
      `--health-probe-bind-address=127.0.0.1:${ports.kedaProbe}`,
      `--metrics-service-bind-address=127.0.0.1:${ports.kedaGrpc}`,
      `--cert-dir=${pki.kedaCertDir}`,
      '--enable-cert-rotation=false',
      '--leader-elect=false',
      '--zap-log-level=info',
    ],
  });
  procs.start({
    name: 'keda-adapter',
    command: join(bin, 'keda-adapter'),
    env: kedaEnv,
    args: [
      `--secure-port=${ports.adapter}`,
      '--bind-address=127.0.0.1',
      `--cert-dir=${pki.kedaCertDir}`,
      `--tls-cert-file=${join(pki.kedaCertDir, 'tls.crt')}`,
      `--tls-private-key-file=${join(pki.kedaCertDir, 'tls.key')}`,
      `--lister-kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--metrics-service-address=127.0.0.1:${ports.kedaGrpc}`,
      '--metrics-service-grpc-authority=keda-operator',
      `--port=${ports.adapterMetrics}`,
      '--zap-log-level=info',
    ],
  });
  await kube.apply(externalMetricsApiYaml(pki, ports.adapter ?? 0));
  await until(
    'keda-operator /readyz',
    () => httpOk(`http://127.0.0.1:${ports.kedaProbe}/readyz`),
    60_000,
    procs.logOf('keda-operator'),
  );
  await until(
    'external.metrics.k8s.io through aggregation',
    async () => (await kube.raw('/apis/external.metrics.k8s.io/v1beta1')).status === 200,
    90_000,
    procs.logOf('keda-adapter'),
  );
  step('KEDA operator and metrics adapter ready');

  const fleetUrl = `http://127.0.0.1:${ports.fleet}`;
  const prometheusUrl = `http://127.0.0.1:${ports.prometheus}`;
  const state: ClusterState = {
    dir,
    bin,
    kubeconfig,
    apiserverUrl,
    etcdUrl: `http://127.0.0.1:${ports.etcd}`,
    prometheusUrl,
    fleetMetricsUrl: `${fleetUrl}/metrics`,
    fleetGatewayUrl: `${fleetUrl}/gateway/metrics`,
    fleetControlUrl: `http://127.0.0.1:${ports.fleetControl}`,
    kedaOperatorGrpc: `127.0.0.1:${ports.kedaGrpc}`,
    scaler: { grpcAddress: `127.0.0.1:${ports.scalerGrpc}`, httpUrl: `http://127.0.0.1:${ports.scalerHttp}` },
    pki,
    kubectl,
    helm,
    grpcurl,
    ports,
  };
  writeFileSync(join(dir, 'cluster.json'), `${JSON.stringify(state, null, 2)}\n`);
  const { installChart, startScaler } = await import('./scaler.js');
  await installChart(state, kube);
  await startScaler(state, kube, procs, {
    name: 'scaler',
    grpcPort: ports.scalerGrpc ?? 0,
    httpPort: ports.scalerHttp ?? 0,
  });
  step('wva-scaler installed with helm and running');
  return state;
}

export async function down(dir = clusterDir()): Promise<string[]> {
  const procs = new ProcessTable(dir);
  await procs.stopAll();
  rmSync(join(dir, 'cluster.json'), { force: true });
  return procs.survivors();
}
