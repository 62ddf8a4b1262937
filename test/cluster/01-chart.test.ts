/**
 * Scenario 1: the chart and the manifests against the real API server. `helm lint`, `helm
 * install`, `helm upgrade` and `helm uninstall` with the default values and with the options on
 * (TLS from a Secret, mTLS, ServiceMonitor and cert-manager objects with their real CRDs
 * installed, NetworkPolicy, PDB, watchNamespace, Redis), each asserted on the objects read back;
 * `kubectl apply --dry-run=server` of deploy/manifests/ and every file in deploy/examples/ with
 * KEDA's and the VariantAutoscaling CRDs installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, REPO } from './harness/cluster.js';
import { chartValues } from './harness/scaler.js';
import { cluster, namespace, waitUntil } from './harness/scenario.js';

const c = cluster();
const NS = 'chart-opts';
const RELEASE_OPTS = 'wva-opts';

const OPTIONS = [
  '--set',
  'replicaCount=2',
  '--set',
  'tls.enabled=true',
  '--set',
  'tls.mutual=true',
  '--set',
  'tls.secretName=wva-opts-tls',
  '--set',
  'serviceMonitor.enabled=true',
  '--set',
  'networkPolicy.enabled=true',
  '--set',
  'podDisruptionBudget.enabled=true',
  '--set',
  `watchNamespace=${NS}`,
  '--set',
  'settings.redisUrl=redis://redis.chart-opts.svc:6379',
];

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}
const names = (list: { items: Obj[] }): string[] => list.items.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('scenario 1: the chart with real helm against the real API server', () => {
  it('passes helm lint with default values and with every option on', async () => {
    const lintValues = chartValues(c.state, { withCrd: false });
    await c.kube.helm(['lint', CHART, ...lintValues]);
    await c.kube.helm(['lint', CHART, ...lintValues, ...OPTIONS, '--set', 'tls.certManager.enabled=true']);
  });

  it('the default install (the running scaler) created its objects', async () => {
    const all = await c.kube.getJson<{ items: Obj[] }>([
      'deployment,service,serviceaccount,configmap,poddisruptionbudget,role,rolebinding',
      '-n',
      'keda',
      '-l',
      'app.kubernetes.io/instance=wva-scaler',
    ]);
    expect(names(all)).toEqual(
      expect.arrayContaining([
        'Deployment/wva-scaler',
        'Service/wva-scaler',
        'ServiceAccount/wva-scaler',
        'PodDisruptionBudget/wva-scaler',
      ]),
    );
    const svc = all.items.find((o) => o.kind === 'Service');
    expect(svc?.spec?.clusterIP).toBe('None');
    const cluster = await c.kube.getJson<{ items: Obj[] }>([
      'clusterrole,clusterrolebinding',
      '-l',
      'app.kubernetes.io/instance=wva-scaler',
    ]);
    expect(cluster.items.length).toBeGreaterThanOrEqual(2);
  });

  it('installs, upgrades and uninstalls with every option on', async () => {
    await namespace(c.kube, NS);
    await c.kube.kubectl(['apply', '--server-side', '-f', join(c.state.bin, '../extra-crds')]);
    await waitUntil(
      'ServiceMonitor and Certificate CRDs established',
      async () => {
        const crds = await c.kube.getJson<{
          items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
        }>(['crd']);
        return ['servicemonitors.monitoring.coreos.com', 'certificates.cert-manager.io'].every((n) =>
          crds.items.some(
            (x) =>
              x.metadata.name === n &&
              x.status?.conditions?.some((k) => k.type === 'Established' && k.status === 'True'),
          ),
        );
      },
      (ok) => ok,
      30_000,
      500,
    );
    const pki = c.state.pki;
    const secret = await c.kube.kubectl([
      'create',
      'secret',
      'generic',
      'wva-opts-tls',
      '-n',
      NS,
      `--from-file=tls.crt=${pki.apiserverCert}`,
      `--from-file=tls.key=${pki.apiserverKey}`,
      `--from-file=ca.crt=${pki.caCert}`,
      '--dry-run=client',
      '-o',
      'yaml',
    ]);
    await c.kube.apply(secret);
    const values = chartValues(c.state, { withCrd: false });
    await c.kube.helm(['install', RELEASE_OPTS, CHART, '-n', NS, ...values, ...OPTIONS]);
    const objs = await c.kube.getJson<{ items: Obj[] }>([
      'deployment,service,servicemonitor,networkpolicy,poddisruptionbudget,role,rolebinding',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE_OPTS}`,
    ]);
    const kinds = new Set(objs.items.map((o) => o.kind));
    for (const k of [
      'Deployment',
      'Service',
      'ServiceMonitor',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
    ])
      expect(kinds, k).toContain(k);
    const clusterRoles = await c.kube.getJson<{ items: { rules?: { resources?: string[] }[] }[] }>([
      'clusterrole',
      '-l',
      `app.kubernetes.io/instance=${RELEASE_OPTS}`,
    ]);
    // Namespaced objects through a Role; the only cluster-wide grant is reading Nodes (cluster-scoped)
    // for the GPU inventory.
    expect(
      clusterRoles.items.flatMap((r) => (r.rules ?? []).flatMap((rule) => rule.resources ?? [])),
      'watchNamespace gives a Role; a ClusterRole for nodes only',
    ).toEqual(['nodes']);
    const dep = await c.kube.getJson<{
      spec: {
        template: {
          spec: {
            containers: { env: { name: string; value?: string }[] }[];
            volumes?: { secret?: { secretName: string } }[];
          };
        };
      };
    }>(['deployment', RELEASE_OPTS, '-n', NS]);
    const env = new Map(dep.spec.template.spec.containers[0]?.env.map((e) => [e.name, e.value]));
    expect(env.get('WVA_TLS_CLIENT_CA_FILE')).toBe('/etc/wva-scaler/tls/ca.crt');
    expect(env.get('REDIS_URL')).toBe('redis://redis.chart-opts.svc:6379');
    expect(env.get('WATCH_NAMESPACE')).toBe(NS);
    expect(dep.spec.template.spec.volumes?.some((v) => v.secret?.secretName === 'wva-opts-tls')).toBe(true);
    await waitUntil(
      'the options release pods Running (kwok)',
      () =>
        c.kube.getJson<{ items: { status?: { phase?: string } }[] }>([
          'pods',
          '-n',
          NS,
          '-l',
          `app.kubernetes.io/instance=${RELEASE_OPTS}`,
        ]),
      (p) => p.items.length === 2 && p.items.every((x) => x.status?.phase === 'Running'),
      60_000,
      500,
    );

    // cert-manager writes the Secret when its option is on: the Certificate object is accepted.
    await c.kube.helm([
      'upgrade',
      RELEASE_OPTS,
      CHART,
      '-n',
      NS,
      '--reuse-values',
      '--set',
      'tls.certManager.enabled=true',
      '--set',
      'tls.mutual=false',
      '--set',
      'settings.logLevel=debug',
    ]);
    const cert = await c.kube.getJson<{ items: Obj[] }>(['certificates.cert-manager.io', '-n', NS]);
    expect(cert.items.map((o) => o.metadata.name).length).toBe(1);
    const upgraded = await c.kube.getJson<{
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    }>(['deployment', RELEASE_OPTS, '-n', NS]);
    expect(upgraded.spec.template.spec.containers[0]?.env.find((e) => e.name === 'LOG_LEVEL')?.value).toBe('debug');
    expect(upgraded.spec.template.spec.containers[0]?.env.some((e) => e.name === 'WVA_TLS_CLIENT_CA_FILE')).toBe(false);

    await c.kube.helm(['uninstall', RELEASE_OPTS, '-n', NS, '--wait']);
    const left = await c.kube.getJson<{ items: Obj[] }>([
      'deployment,service,servicemonitor,certificates.cert-manager.io,networkpolicy,poddisruptionbudget,role,rolebinding,serviceaccount,configmap',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE_OPTS}`,
    ]);
    expect(names(left)).toEqual([]);
  });

  it('accepts deploy/manifests/ and every deploy/examples/ file with kubectl apply --dry-run=server', async () => {
    const files = [
      ...readdirSync(join(REPO, 'deploy/manifests')).map((f) => join(REPO, 'deploy/manifests', f)),
      ...readdirSync(join(REPO, 'deploy/examples')).map((f) => join(REPO, 'deploy/examples', f)),
    ].filter((f) => f.endsWith('.yaml'));
    for (const f of files) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        const ns = (doc.toJSON() as Obj | null)?.metadata?.namespace;
        if (ns) await namespace(c.kube, ns);
      }
      const out = await c.kube.kubectl(['apply', '--dry-run=server', '-f', f]);
      expect(out, f).toMatch(/\(server dry run\)/);
    }
    expect(files.length).toBeGreaterThanOrEqual(6);
  });
});
