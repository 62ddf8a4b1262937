/**
 * The Helm chart, rendered by the real `helm template` (helm v4 from test/cluster/tools.ts) with
 * the default values and with every option on: every template renders to Kubernetes objects,
 * `helm lint` passes, the Deployment is hardened and probed as the design says, the Service is
 * headless, every object carries the labels of templates/_helpers.tpl, and the RBAC rules are
 * exactly the calls the code makes (KUBE_API_CALLS): no verb the code does not use, none missing.
 * Each values-set is rendered once, in beforeAll.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetricsCollector } from '../../../src/collector/factory.js';
import { defaultSettings, SETTING_SPECS } from '../../../src/config/settings.js';
import { KUBE_API_CALLS, type ApiCall } from '../../../src/kube/api-calls.js';
import { variantFromScaledObject } from '../../../src/kube/scaledobject-variant.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { CHART_DIR, helmLint, helmTemplate, MANIFEST_PROMETHEUS_URL, type Release } from './helm.js';
import { nonStringEnvValues, parseAsKubectl } from './kube-yaml.js';

const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as unknown;
// The chart has no default metrics source (it refuses to render without one): tests install with this.
const PROMETHEUS = { settings: { prometheusUrl: MANIFEST_PROMETHEUS_URL } };

const EVERYTHING_ON = {
  imagePullSecrets: [{ name: 'registry' }],
  watchNamespace: 'llm',
  extraEnv: [
    { name: 'WVA_FETCH_INTERVAL', value: '10s' },
    { name: 'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY', value: 'off' },
  ],
  settings: { prometheusUrl: 'http://prometheus.monitoring:9090', redisUrl: 'redis://redis:6379', scaleToZero: 'true' },
  nodeSelector: { 'kubernetes.io/arch': 'amd64' },
  tolerations: [{ key: 'dedicated', operator: 'Exists' }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
  serviceAccount: { annotations: { team: 'ml' } },
  tls: { enabled: true, mutual: true, certManager: { enabled: true } },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
  podDisruptionBudget: { enabled: true },
  networkPolicy: { enabled: true },
  crds: { variantAutoscaling: true },
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** One `helm template`: the objects as kubectl reads them (YAML 1.1), or helm's error. */
type Rendering = { objs: K8sObject[]; error?: undefined } | { objs?: undefined; error: Error };

const OTHER_RELEASE: Release = { name: 'llm-scaler', namespace: 'autoscaling' };
const METRICS_URL = 'http://prometheus:9090';
const TARGETS = 'http://vllm-0:8000/metrics,http://vllm-1:8000/metrics';
const GATEWAY = 'http://epp:9090/metrics';
/** Every combination of metrics settings, rendered without PROMETHEUS. */
const METRICS_MATRIX = ['auto', 'prometheus', 'scrape'].flatMap((metricsBackend) =>
  ['', METRICS_URL].flatMap((prometheusUrl) =>
    [
      ['', ''],
      [TARGETS, ''],
      ['', GATEWAY],
    ].map(([scrapeTargets, gatewayScrapeTarget]) => ({
      metricsBackend,
      prometheusUrl,
      scrapeTargets,
      gatewayScrapeTarget,
    })),
  ),
);

/** The values-sets the tests read, by name: each rendered once. */
const CASES: Record<string, { values: unknown[]; release?: Release }> = {
  default: { values: [PROMETHEUS] },
  everything: { values: [PROMETHEUS, EVERYTHING_ON] },
  watchNamespace: { values: [PROMETHEUS, { watchNamespace: 'llm' }] },
  noLeader: { values: [PROMETHEUS, { leaderElection: { enabled: false } }] },
  watchNamespaceNoLeader: { values: [PROMETHEUS, { watchNamespace: 'llm', leaderElection: { enabled: false } }] },
  noConfigMap: { values: [PROMETHEUS, { saturationConfig: { create: false } }] },
  otherRelease: { values: [PROMETHEUS], release: OTHER_RELEASE },
  otherReleaseMatch: {
    values: [PROMETHEUS, { settings: { scalerAddressMatch: 'scaler.example' } }],
    release: OTHER_RELEASE,
  },
  noMetricsSource: { values: [] },
  ...Object.fromEntries(
    METRICS_MATRIX.map((settings) => [`metrics ${JSON.stringify(settings)}`, { values: [{ settings }] }]),
  ),
};

const rendered = new Map<string, Rendering>();
const lints = new Map<string, string | Error>();

function toObjects(text: string): K8sObject[] {
  return parseAsKubectl(text) as K8sObject[];
}

beforeAll(async () => {
  const jobs: (() => Promise<void>)[] = [
    ...Object.entries(CASES).map(([name, c]) => async () => {
      rendered.set(
        name,
        await helmTemplate(c.values, c.release).then(
          (text) => ({ objs: toObjects(text) }),
          (error: Error) => ({ error }),
        ),
      );
    }),
    ...Object.entries({ default: [PROMETHEUS], everything: [PROMETHEUS, EVERYTHING_ON] }).map(
      ([name, values]) =>
        async () => {
          lints.set(name, await helmLint(values).catch((err: Error) => err));
        },
    ),
  ];
  // A few helm processes at a time (2-core machines).
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
});

function render(name: string): K8sObject[] {
  const r = rendered.get(name);
  if (r === undefined) throw new Error(`case ${name} was not rendered`);
  if (r.error) throw r.error;
  return r.objs;
}

const one = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};

type Container = {
  env: { name: string; value?: string }[];
  livenessProbe: Record<string, unknown>;
  readinessProbe: Record<string, unknown>;
  resources: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string }[];
};
function container(objs: K8sObject[]): { pod: Record<string, unknown>; c: Container } {
  const d = one(objs, 'Deployment') as unknown as {
    spec: { template: { spec: Record<string, unknown> & { containers: Container[] } } };
  };
  const pod = d.spec.template.spec;
  expect(pod.containers).toHaveLength(1);
  return { pod, c: pod.containers[0]! };
}

/** (apiGroup, resource, verb) triples granted by rendered Roles/ClusterRoles, by role kind and namespace. */
function granted(
  objs: K8sObject[],
  release: string,
): { watched: Set<string>; own: Set<string>; watchedKind: string; watchedNamespace: string | undefined } {
  const own = one(objs, 'Role', `${release}-own`);
  const watchedRole = objs.find(
    (o) => (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata.name === `${release}-watch`,
  )!;
  const triples = (o: K8sObject): Set<string> => {
    const s = new Set<string>();
    for (const r of (o as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] })
      .rules) {
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) s.add(`${g}|${res}|${v}`);
    }
    return s;
  };
  return {
    watched: triples(watchedRole),
    own: triples(own),
    watchedKind: watchedRole.kind,
    watchedNamespace: watchedRole.metadata.namespace,
  };
}

function expected(scope: ApiCall['scope'], leaderElection: boolean): Set<string> {
  const s = new Set<string>();
  for (const [name, call] of Object.entries(KUBE_API_CALLS) as [string, ApiCall][]) {
    if (call.scope !== scope || (name === 'leases' && !leaderElection)) continue;
    for (const v of call.verbs) s.add(`${call.group}|${call.resource}|${v}`);
  }
  return s;
}

describe('deploy/helm/wva-scaler', () => {
  it('every rendering is Kubernetes objects (apiVersion, kind, name)', () => {
    for (const [name, r] of rendered) {
      for (const obj of r.objs ?? []) {
        expect(obj.apiVersion, `${name}: apiVersion`).toMatch(/^([a-z0-9.-]+\/)?v\d/);
        expect(obj.kind, `${name}: kind`).toMatch(/^[A-Z]/);
        expect(obj.metadata?.name, `${name}: ${obj.kind} name`).toBeTruthy();
      }
    }
    expect(rendered.size).toBe(Object.keys(CASES).length);
  });

  it('passes helm lint --strict with the default values and with every option on', () => {
    for (const [name, out] of lints) {
      if (out instanceof Error) throw out;
      expect(out, name).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
    expect([...lints.keys()].sort()).toEqual(['default', 'everything']);
  });

  it('reads only values that values.yaml defines (helm would render a typo as empty)', () => {
    const templates = readdirSync(join(CHART_DIR, 'templates')).filter((f) => /\.(yaml|tpl)$/.test(f));
    const paths = new Set(
      templates.flatMap((t) =>
        [
          ...readFileSync(join(CHART_DIR, 'templates', t), 'utf8').matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g),
        ].map((m) => m[1]!),
      ),
    );
    expect(paths.size).toBeGreaterThan(10);
    for (const p of paths) {
      let cur: unknown = defaults;
      for (const part of p.slice(1).split('.')) {
        expect(cur !== null && typeof cur === 'object' && part in cur, `.Values${p} is not in values.yaml`).toBe(true);
        cur = (cur as Record<string, unknown>)[part];
      }
    }
  });

  it('renders every template with the default values and a Prometheus URL', () => {
    const objs = render('default');
    expect(objs.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('renders every template with every option on', () => {
    const objs = render('everything');
    expect(objs.map((o) => o.kind).sort()).toEqual([
      'Certificate',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const crd = one(objs, 'CustomResourceDefinition') as unknown as {
      spec: { group: string; names: { plural: string }; versions: { name: string; subresources: unknown }[] };
    };
    expect([crd.spec.group, crd.spec.names.plural, crd.spec.versions[0]?.name]).toEqual([
      'llmd.ai',
      'variantautoscalings',
      'v1alpha1',
    ]);
    expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
    const cert = one(objs, 'Certificate') as unknown as { spec: { secretName: string; dnsNames: string[] } };
    expect(cert.spec.dnsNames).toContain('wva-scaler.keda.svc.cluster.local');
    const { pod, c } = container(objs);
    expect(
      (pod['volumes'] as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === 'tls')?.secret
        ?.secretName,
    ).toBe(cert.spec.secretName);
    expect(c.env.map((e) => e.name)).toEqual(
      expect.arrayContaining(['WVA_TLS_CERT_FILE', 'WVA_TLS_KEY_FILE', 'WVA_TLS_CLIENT_CA_FILE', 'WVA_FETCH_INTERVAL']),
    );
    // The native gRPC probe cannot do TLS: liveness falls back to HTTP.
    expect(c.livenessProbe['httpGet']).toEqual({ path: '/healthz', port: 'http' });
  });

  it('runs non-root on a read-only root filesystem, with gRPC liveness, /readyz readiness and resources', () => {
    const { pod, c } = container(render('default'));
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.livenessProbe['grpc']).toEqual({ port: 9090 });
    expect(c.readinessProbe['httpGet']).toEqual({ path: '/readyz', port: 'http' });
    expect(c.resources).toMatchObject({
      requests: { cpu: expect.any(String), memory: expect.any(String) },
      limits: { memory: expect.any(String) },
    });
    expect(c.volumeMounts.map((m) => m.name)).toEqual(['tmp']);
  });

  it('sets only settings the scaler knows, from values', () => {
    for (const name of ['default', 'everything']) {
      const { c } = container(render(name));
      for (const e of c.env) expect(Object.keys(SETTING_SPECS), `env ${e.name}`).toContain(e.name);
    }
    const env = Object.fromEntries(container(render('watchNamespaceNoLeader')).c.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      WATCH_NAMESPACE: 'llm',
      WVA_LEADER_ELECTION: 'false',
      WVA_KUBERNETES: 'on',
      WVA_SATURATION_CONFIGMAP: 'wva-saturation-scaling-config',
    });
  });

  it('renders every env value as a string as kubectl reads it (YAML 1.1: a plain `on` is a boolean)', () => {
    for (const name of ['default', 'everything'])
      expect(render(name).flatMap((d) => nonStringEnvValues(d))).toEqual([]);
    // The values given reach the container as strings, `off` included (extraEnv, passed through toYaml).
    expect(
      container(render('everything')).c.env.find((e) => e.name === 'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY')?.value,
    ).toBe('off');
    // The check itself: an unquoted `on` is what kubectl refuses ("cannot unmarshal bool into ... EnvVar.value").
    expect(
      nonStringEnvValues(parseAsKubectl('env:\n  - name: A\n    value: on\n  - name: B\n    value: "on"\n')[0]),
    ).toEqual(['.env[A]: true']);
  });

  it('refuses to render without a metrics source, exactly when the scaler would exit at start-up', () => {
    expect(() => render('noMetricsSource')).toThrow(/needs a metrics source: set settings.prometheusUrl/);
    for (const settings of METRICS_MATRIX) {
      const { metricsBackend, prometheusUrl, scrapeTargets, gatewayScrapeTarget } = settings;
      let env: Record<string, string> | undefined;
      let refused: unknown;
      try {
        env = Object.fromEntries(
          container(render(`metrics ${JSON.stringify(settings)}`)).c.env.flatMap((e) =>
            e.value === undefined ? [] : [[e.name, e.value]],
          ),
        );
      } catch (err) {
        refused = err;
      }
      let startupError: unknown;
      try {
        createMetricsCollector(
          defaultSettings(
            env ?? {
              WVA_METRICS_BACKEND: metricsBackend,
              PROMETHEUS_BASE_URL: prometheusUrl,
              WVA_SCRAPE_TARGETS: scrapeTargets,
              WVA_GATEWAY_SCRAPE_TARGET: gatewayScrapeTarget,
            },
          ),
          { logger: silentLogger() },
        );
      } catch (err) {
        startupError = err;
      }
      expect(
        refused === undefined,
        `${JSON.stringify(settings)}: refused=${String(refused)} startup=${String(startupError)}`,
      ).toBe(startupError === undefined);
      // helm's refusal names the value to set.
      if (refused !== undefined) expect((refused as Error).message).toMatch(/settings\.(prometheusUrl|scrapeTargets)/);
      if (env)
        expect([
          env['WVA_METRICS_BACKEND'],
          env['PROMETHEUS_BASE_URL'],
          env['WVA_SCRAPE_TARGETS'],
          env['WVA_GATEWAY_SCRAPE_TARGET'],
        ]).toEqual([metricsBackend, prometheusUrl, scrapeTargets, gatewayScrapeTarget]);
    }
  });

  it("registers the ScaledObjects that point at this release's Service, whatever the release name", () => {
    const objs = render('otherRelease');
    const env = Object.fromEntries(container(objs).c.env.map((e) => [e.name, e.value]));
    const address = `${one(objs, 'Service').metadata.name}.${OTHER_RELEASE.namespace}.svc.cluster.local:9090`;
    const so = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'llama-8b', namespace: 'llm' },
      spec: {
        scaleTargetRef: { name: 'llama-8b' },
        triggers: [{ type: 'external-push', metadata: { scalerAddress: address, modelID: 'meta/llama-8b' } }],
      },
    };
    expect(variantFromScaledObject(so, env['WVA_SCALER_ADDRESS_MATCH'] ?? '').kind).toBe('variant');
    // An explicit value still wins.
    expect(container(render('otherReleaseMatch')).c.env.find((e) => e.name === 'WVA_SCALER_ADDRESS_MATCH')?.value).toBe(
      'scaler.example',
    );
  });

  it('labels every object alike and selects the pods by the same two labels everywhere (_helpers.tpl)', () => {
    const selector = { 'app.kubernetes.io/name': 'wva-scaler', 'app.kubernetes.io/instance': OTHER_RELEASE.name };
    const labels = {
      ...selector,
      'helm.sh/chart': 'wva-scaler-0.1.0',
      'app.kubernetes.io/version': '0.1.0',
      'app.kubernetes.io/managed-by': 'Helm',
    };
    for (const o of render('otherRelease')) expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toEqual(labels);
    // With every option on (release wva-scaler): the same labels, plus the ServiceMonitor's own.
    for (const o of render('everything')) {
      expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toEqual({
        ...labels,
        'app.kubernetes.io/instance': 'wva-scaler',
        ...(o.kind === 'ServiceMonitor' ? { release: 'prometheus' } : {}),
      });
    }
    type Selecting = {
      spec: {
        selector?: { matchLabels?: unknown } & Record<string, unknown>;
        podSelector?: { matchLabels: unknown };
        template?: { metadata: { labels: unknown } };
      };
    };
    const other = render('otherRelease');
    const d = one(other, 'Deployment') as unknown as Selecting;
    expect(d.spec.selector?.matchLabels).toEqual(selector);
    // Pods carry only the selector labels: a new chart version alone does not restart them.
    expect(d.spec.template?.metadata.labels).toEqual(selector);
    expect((one(other, 'Service') as unknown as Selecting).spec.selector).toEqual(selector);
    expect((one(other, 'PodDisruptionBudget') as unknown as Selecting).spec.selector?.matchLabels).toEqual(selector);
    const all = render('everything');
    const onSelector = { ...selector, 'app.kubernetes.io/instance': 'wva-scaler' };
    expect((one(all, 'NetworkPolicy') as unknown as Selecting).spec.podSelector?.matchLabels).toEqual(onSelector);
    expect((one(all, 'ServiceMonitor') as unknown as Selecting).spec.selector?.matchLabels).toEqual(onSelector);
  });

  it('has a headless Service with the grpc and http ports', () => {
    const svc = one(render('default'), 'Service') as unknown as {
      spec: { clusterIP: string; ports: { name: string; port: number }[] };
    };
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.ports.map((p) => [p.name, p.port])).toEqual([
      ['grpc', 9090],
      ['http', 8080],
    ]);
  });

  it('grants exactly the API calls the code makes (KUBE_API_CALLS), cluster-wide or in the watched namespace', () => {
    for (const [name, kind, leader] of [
      ['default', 'ClusterRole', true],
      ['watchNamespace', 'Role', true],
      ['noLeader', 'ClusterRole', false],
      ['watchNamespaceNoLeader', 'Role', false],
    ] as const) {
      const objs = render(name);
      const g = granted(objs, 'wva-scaler');
      expect(g.watchedKind, name).toBe(kind);
      if (kind === 'Role') expect(g.watchedNamespace).toBe('llm');
      expect([...g.watched].sort(), name).toEqual([...expected('watched', leader)].sort());
      expect([...g.own].sort(), name).toEqual([...expected('own', leader)].sort());
      const nodes = one(objs, 'ClusterRole', 'wva-scaler-nodes') as unknown as {
        rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
      };
      const nodeGrants = nodes.rules.flatMap((r) =>
        r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`))),
      );
      expect(nodeGrants.sort(), name).toEqual([...expected('cluster', leader)].sort());
      for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
        expect((b as unknown as { subjects: unknown[] }).subjects).toEqual([
          { kind: 'ServiceAccount', name: 'wva-scaler', namespace: 'keda' },
        ]);
      }
    }
    // Another release: its own roles, bound to its own ServiceAccount.
    const objs = render('otherRelease');
    expect([...granted(objs, OTHER_RELEASE.name).watched].sort()).toEqual([...expected('watched', true)].sort());
    const sa = one(objs, 'ServiceAccount');
    expect(container(objs).pod['serviceAccountName']).toBe(sa.metadata.name);
    for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
      expect((b as unknown as { subjects: unknown[] }).subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: OTHER_RELEASE.namespace },
      ]);
    }
  });

  it('ships the saturation ConfigMap from values in WVA format', () => {
    const cm = one(render('default'), 'ConfigMap') as unknown as {
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(cm.metadata.name).toBe('wva-saturation-scaling-config');
    expect(parse(cm.data['default'] ?? '')).toEqual({
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      kvSpareTrigger: 0.1,
      queueSpareTrigger: 3,
    });
    expect(render('noConfigMap').some((o) => o.kind === 'ConfigMap')).toBe(false);
  });
});
