import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectionPath, KUBE_API_CALLS, requireVerb } from '../../../src/kube/api-calls.js';
import { KubeConfigError, loadKubeConfig, ownNamespace, type KubeEnvironment } from '../../../src/kube/kube-config.js';

describe('KUBE_API_CALLS', () => {
  it('builds core and grouped collection paths, all namespaces or one', () => {
    expect(collectionPath(KUBE_API_CALLS.pods, undefined)).toBe('/api/v1/pods');
    expect(collectionPath(KUBE_API_CALLS.configMaps, 'keda')).toBe('/api/v1/namespaces/keda/configmaps');
    expect(collectionPath(KUBE_API_CALLS.scaledObjects, 'llm')).toBe(
      '/apis/keda.sh/v1alpha1/namespaces/llm/scaledobjects',
    );
    expect(collectionPath(KUBE_API_CALLS.variantAutoscalingStatus, 'llm')).toBe(
      '/apis/llmd.ai/v1alpha1/namespaces/llm/variantautoscalings',
    );
  });
  it('refuses a verb the declaration does not grant', () => {
    expect(() => requireVerb(KUBE_API_CALLS.pods, 'patch')).toThrow(/does not declare verb "patch"/);
    expect(() => requireVerb(KUBE_API_CALLS.leases, 'update')).not.toThrow();
  });
});

describe('loadKubeConfig', () => {
  const env = (vars: Record<string, string>, files: Record<string, string> = {}): KubeEnvironment => ({
    env: vars,
    exists: (p) => p in files,
    readFile: (p) => files[p] ?? '',
  });

  it('off never uses Kubernetes; auto without a service account or KUBECONFIG runs standalone', () => {
    expect(loadKubeConfig('off', env({ KUBECONFIG: '/x' }))).toBeUndefined();
    expect(loadKubeConfig('auto', env({}))).toBeUndefined();
    // A service host without the token file is not in-cluster.
    expect(loadKubeConfig('auto', env({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }))).toBeUndefined();
  });

  it('auto uses $KUBECONFIG when set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    expect(loadKubeConfig('auto', env({ KUBECONFIG: file }))?.getCurrentCluster()?.server).toBe(
      'http://127.0.0.1:6443',
    );
  });

  it('on with an unreadable kubeconfig is an error naming the setting', () => {
    expect(() => loadKubeConfig('on', env({ KUBECONFIG: '/nonexistent/kubeconfig' }))).toThrow(KubeConfigError);
    expect(() => loadKubeConfig('on', env({ KUBECONFIG: '/nonexistent/kubeconfig' }))).toThrow(/WVA_KUBERNETES=on/);
  });

  it('own namespace: POD_NAMESPACE, else the service account file, else default', () => {
    expect(ownNamespace({ POD_NAMESPACE: 'keda' }, env({}))).toBe('keda');
    expect(
      ownNamespace(
        { POD_NAMESPACE: undefined },
        env({}, { '/var/run/secrets/kubernetes.io/serviceaccount/namespace': 'ops\n' }),
      ),
    ).toBe('ops');
    expect(ownNamespace({ POD_NAMESPACE: undefined }, env({}))).toBe('default');
  });
});
