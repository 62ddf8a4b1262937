/**
 * The Helm chart, rendered without helm (see helm-template.ts) with the default values and with
 * every option on: every template renders to valid YAML Kubernetes objects, the Deployment is
 * hardened and probed as the design says, the Service is headless, and the RBAC rules are
 * exactly the calls the code makes (KUBE_API_CALLS): no verb the code does not use, none missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createMetricsCollector } from '../../../src/collector/factory.js';
import { defaultSettings, SETTING_SPECS } from '../../../src/config/settings.js';
import { KUBE_API_CALLS, type ApiCall } from '../../../src/kube/api-calls.js';
import { variantFromScaledObject } from '../../../src/kube/scaledobject-variant.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MANIFEST_PROMETHEUS_URL, mergeValues, renderTemplate, type RenderContext } from './helm-template.js';
import { nonStringEnvValues, parseAsKubectl } from './kube-yaml.js';

const CHART = join(import.meta.dirname, '../../../deploy/helm/wva-scaler');
const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as unknown;
const templates = readdirSync(join(CHART, 'templates')).filter((f) => f.endsWith('.yaml')).sort();
// The chart has no default metrics source (it refuses to render without one): tests install with this.
const PROMETHEUS = { settings: { prometheusUrl: MANIFEST_PROMETHEUS_URL } };

const EVERYTHING_ON = {
  imagePullSecrets: [{ name: 'registry' }],
  watchNamespace: 'llm',
  extraEnv: [{ name: 'WVA_FETCH_INTERVAL', value: '10s' }, { name: 'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY', value: 'off' }],
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
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function context(overrides: unknown, base: unknown = PROMETHEUS, release = { Name: 'wva-scaler', Namespace: 'keda' }): RenderContext {
  return {
    Values: mergeValues(mergeValues(defaults, base), overrides),
    Release: release,
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
}

function render(overrides: unknown = {}, base: unknown = PROMETHEUS, release?: RenderContext['Release']): K8sObject[] {
  const ctx = context(overrides, base, release);
  const out: K8sObject[] = [];
  for (const t of templates) {
    const text = renderTemplate(readFileSync(join(CHART, 'templates', t), 'utf8'), ctx);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${t}: ${doc.errors[0]?.message}\n${text}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj === null) continue;
      expect(obj.apiVersion, `${t} apiVersion`).toMatch(/^([a-z0-9.-]+\/)?v\d/);
      expect(obj.kind, `${t} kind`).toMatch(/^[A-Z]/);
      expect(obj.metadata?.name, `${t} name`).toBeTruthy();
      out.push(obj);
    }
  }
  return out;
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
  const d = one(objs, 'Deployment') as unknown as { spec: { template: { spec: Record<string, unknown> & { containers: Container[] } } } };
  const pod = d.spec.template.spec;
  expect(pod.containers).toHaveLength(1);
  return { pod, c: pod.containers[0]! };
}

/** (apiGroup, resource, verb) triples granted by rendered Roles/ClusterRoles, by role kind and namespace. */
function granted(objs: K8sObject[]): { watched: Set<string>; own: Set<string>; watchedKind: string; watchedNamespace: string | undefined } {
  const own = one(objs, 'Role', 'wva-scaler-own');
  const watchedRole = objs.find((o) => (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata.name === 'wva-scaler-watch')!;
  const triples = (o: K8sObject): Set<string> => {
    const s = new Set<string>();
    for (const r of (o as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules) {
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) s.add(`${g}|${res}|${v}`);
    }
    return s;
  };
  return { watched: triples(watchedRole), own: triples(own), watchedKind: watchedRole.kind, watchedNamespace: watchedRole.metadata.namespace };
}

function expected(scope: ApiCall['scope'], leaderElection: boolean): Set<string> {
  const s = new Set<string>();
  for (const [name, call] of Object.entries(KUBE_API_CALLS) as [string, ApiCall][]) {
    if (call.scope !== scope || (name === 'leases' && !leaderElection)) continue;
    for (const v of call.verbs) s.add(`${call.group}|${call.resource}|${v}`);
  }
  return s;
}

describe('the template renderer', () => {
  const ctx: RenderContext = { Values: { a: { b: 'x' }, on: true, off: false, list: [1] }, Release: { Name: 'r', Namespace: 'n' }, Chart: {} };
  it('renders values, quote, if/else and trimming', () => {
    expect(renderTemplate('k: {{ .Values.a.b | quote }}\n{{- if .Values.off }}\nno{{- else }}\nyes{{- end }}', ctx)).toBe('k: "x"\nyes');
    expect(renderTemplate('{{- if and .Values.on .Values.list }}both{{ end }}', ctx)).toBe('both');
    expect(renderTemplate('l:{{- toYaml .Values.a | nindent 2 }}', ctx)).toBe('l:\n  b: x');
  });
  it('refuses undefined values and actions outside the subset', () => {
    expect(() => renderTemplate('{{ .Values.a.typo }}', ctx)).toThrow(/not defined/);
    expect(() => renderTemplate('{{ include "x" . }}', ctx)).toThrow(/subset/);
    expect(() => renderTemplate('{{ .Values.a | upper }}', ctx)).toThrow(/subset/);
    expect(() => renderTemplate('{{ if eq .Values.a.typo "x" }}{{ end }}', ctx)).toThrow(/not defined/);
    expect(() => renderTemplate('{{ if (not .Values.on }}{{ end }}', ctx)).toThrow(/subset/);
  });
  it('renders eq and nested conditions, and fail aborts the render', () => {
    expect(renderTemplate('{{- if and (eq .Values.a.b "x") (not .Values.off) }}yes{{ end }}', ctx)).toBe('yes');
    expect(renderTemplate('{{- if or (eq .Values.a.b "y") (and .Values.on (not .Values.list)) }}yes{{ else }}no{{ end }}', ctx)).toBe('no');
    expect(() => renderTemplate('a: 1\n{{- if .Values.on }}{{ fail "set \\"x\\"" }}{{ end }}', ctx)).toThrow('execution error: set "x"');
  });
});

describe('deploy/helm/wva-scaler', () => {
  it('renders every template with the default values and a Prometheus URL', () => {
    const objs = render();
    expect(objs.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'],
    );
  });

  it('renders every template with every option on', () => {
    const objs = render(EVERYTHING_ON);
    expect(objs.map((o) => o.kind).sort()).toEqual(
      ['Certificate', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount', 'ServiceMonitor'],
    );
    const crd = one(objs, 'CustomResourceDefinition') as unknown as { spec: { group: string; names: { plural: string }; versions: { name: string; subresources: unknown }[] } };
    expect([crd.spec.group, crd.spec.names.plural, crd.spec.versions[0]?.name]).toEqual(['llmd.ai', 'variantautoscalings', 'v1alpha1']);
    expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
    const cert = one(objs, 'Certificate') as unknown as { spec: { secretName: string; dnsNames: string[] } };
    expect(cert.spec.dnsNames).toContain('wva-scaler.keda.svc.cluster.local');
    const { pod, c } = container(objs);
    expect((pod['volumes'] as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === 'tls')?.secret?.secretName).toBe(cert.spec.secretName);
    expect(c.env.map((e) => e.name)).toEqual(expect.arrayContaining(['WVA_TLS_CERT_FILE', 'WVA_TLS_KEY_FILE', 'WVA_TLS_CLIENT_CA_FILE', 'WVA_FETCH_INTERVAL']));
    // The native gRPC probe cannot do TLS: liveness falls back to HTTP.
    expect(c.livenessProbe['httpGet']).toEqual({ path: '/healthz', port: 'http' });
  });

  it('runs non-root on a read-only root filesystem, with gRPC liveness, /readyz readiness and resources', () => {
    const { pod, c } = container(render());
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe['grpc']).toEqual({ port: 9090 });
    expect(c.readinessProbe['httpGet']).toEqual({ path: '/readyz', port: 'http' });
    expect(c.resources).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } });
    expect(c.volumeMounts.map((m) => m.name)).toEqual(['tmp']);
  });

  it('sets only settings the scaler knows, from values', () => {
    for (const overrides of [{}, EVERYTHING_ON]) {
      const { c } = container(render(overrides));
      for (const e of c.env) expect(Object.keys(SETTING_SPECS), `env ${e.name}`).toContain(e.name);
    }
    const env = Object.fromEntries(container(render({ watchNamespace: 'llm', leaderElection: { enabled: false } })).c.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ WATCH_NAMESPACE: 'llm', WVA_LEADER_ELECTION: 'false', WVA_KUBERNETES: 'on', WVA_SATURATION_CONFIGMAP: 'wva-saturation-scaling-config' });
  });

  it('renders every env value as a string as kubectl reads it (YAML 1.1: a plain `on` is a boolean)', () => {
    for (const overrides of [{}, EVERYTHING_ON]) {
      const ctx = context(overrides);
      const docs = templates.flatMap((t) => parseAsKubectl(renderTemplate(readFileSync(join(CHART, 'templates', t), 'utf8'), ctx)));
      expect(docs.flatMap((d) => nonStringEnvValues(d))).toEqual([]);
    }
    // The check itself: an unquoted `on` is what kubectl refuses ("cannot unmarshal bool into ... EnvVar.value").
    expect(nonStringEnvValues(parseAsKubectl('env:\n  - name: A\n    value: on\n  - name: B\n    value: "on"\n')[0])).toEqual(['.env[A]: true']);
  });

  it('refuses to render without a metrics source, exactly when the scaler would exit at start-up', () => {
    expect(() => render({}, {})).toThrow(/needs a metrics source: set settings.prometheusUrl/);
    const url = 'http://prometheus:9090';
    const targets = 'http://vllm-0:8000/metrics,http://vllm-1:8000/metrics';
    const gateway = 'http://epp:9090/metrics';
    for (const metricsBackend of ['auto', 'prometheus', 'scrape']) {
      for (const prometheusUrl of ['', url]) {
        for (const [scrapeTargets, gatewayScrapeTarget] of [['', ''], [targets, ''], ['', gateway]]) {
          const settings = { metricsBackend, prometheusUrl, scrapeTargets, gatewayScrapeTarget };
          let env: Record<string, string> | undefined;
          let refused: unknown;
          try {
            env = Object.fromEntries(container(render({ settings }, {})).c.env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
          } catch (err) {
            refused = err;
          }
          let startupError: unknown;
          try {
            createMetricsCollector(defaultSettings(env ?? {
              WVA_METRICS_BACKEND: metricsBackend, PROMETHEUS_BASE_URL: prometheusUrl, WVA_SCRAPE_TARGETS: scrapeTargets, WVA_GATEWAY_SCRAPE_TARGET: gatewayScrapeTarget,
            }), { logger: silentLogger() });
          } catch (err) {
            startupError = err;
          }
          expect(refused === undefined, `${JSON.stringify(settings)}: refused=${String(refused)} startup=${String(startupError)}`).toBe(startupError === undefined);
          if (env) expect([env['WVA_METRICS_BACKEND'], env['PROMETHEUS_BASE_URL'], env['WVA_SCRAPE_TARGETS'], env['WVA_GATEWAY_SCRAPE_TARGET']]).toEqual([metricsBackend, prometheusUrl, scrapeTargets, gatewayScrapeTarget]);
        }
      }
    }
  });

  it('registers the ScaledObjects that point at this release\'s Service, whatever the release name', () => {
    const release = { Name: 'llm-scaler', Namespace: 'autoscaling' };
    const objs = render({}, PROMETHEUS, release);
    const env = Object.fromEntries(container(objs).c.env.map((e) => [e.name, e.value]));
    const address = `${one(objs, 'Service').metadata.name}.${release.Namespace}.svc.cluster.local:9090`;
    const so = {
      apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'llama-8b', namespace: 'llm' },
      spec: { scaleTargetRef: { name: 'llama-8b' }, triggers: [{ type: 'external-push', metadata: { scalerAddress: address, modelID: 'meta/llama-8b' } }] },
    };
    expect(variantFromScaledObject(so, env['WVA_SCALER_ADDRESS_MATCH'] ?? '').kind).toBe('variant');
    // An explicit value still wins.
    const custom = render({ settings: { scalerAddressMatch: 'scaler.example' } }, PROMETHEUS, release);
    expect(container(custom).c.env.find((e) => e.name === 'WVA_SCALER_ADDRESS_MATCH')?.value).toBe('scaler.example');
  });

  it('has a headless Service with the grpc and http ports', () => {
    const svc = one(render(), 'Service') as unknown as { spec: { clusterIP: string; ports: { name: string; port: number }[] } };
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.ports.map((p) => [p.name, p.port])).toEqual([['grpc', 9090], ['http', 8080]]);
  });

  it('grants exactly the API calls the code makes (KUBE_API_CALLS), cluster-wide or in the watched namespace', () => {
    for (const [overrides, kind, leader] of [
      [{}, 'ClusterRole', true],
      [{ watchNamespace: 'llm' }, 'Role', true],
      [{ leaderElection: { enabled: false } }, 'ClusterRole', false],
    ] as const) {
      const objs = render(overrides);
      const g = granted(objs);
      expect(g.watchedKind).toBe(kind);
      if (kind === 'Role') expect(g.watchedNamespace).toBe('llm');
      expect([...g.watched].sort()).toEqual([...expected('watched', leader)].sort());
      expect([...g.own].sort()).toEqual([...expected('own', leader)].sort());
      for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
        expect((b as unknown as { subjects: unknown[] }).subjects).toEqual([{ kind: 'ServiceAccount', name: 'wva-scaler', namespace: 'keda' }]);
      }
    }
  });

  it('ships the saturation ConfigMap from values in WVA format', () => {
    const cm = one(render(), 'ConfigMap') as unknown as { metadata: { name: string }; data: Record<string, string> };
    expect(cm.metadata.name).toBe('wva-saturation-scaling-config');
    expect(parse(cm.data['default'] ?? '')).toEqual({ kvCacheThreshold: 0.8, queueLengthThreshold: 5, kvSpareTrigger: 0.1, queueSpareTrigger: 3 });
    expect(render({ saturationConfig: { create: false } }).some((o) => o.kind === 'ConfigMap')).toBe(false);
  });
});
