/**
 * The chart's RBAC against what the scaler really calls. The API server's audit log records every
 * request of a ServiceAccount in the scaler's namespace (the scaler runs with a token of the
 * chart's ServiceAccount); after every other scenario ran, each call must have been allowed, and
 * each (resource, verb) the chart grants must have been used. Printed side by side.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditLogPath, RELEASE } from './harness/cluster.js';
import { cluster, recordFigures } from './harness/scenario.js';

const c = cluster();

interface AuditEvent {
  user: { username: string };
  verb: string;
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string };
  requestURI: string;
  responseStatus?: { code?: number };
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

const key = (group: string, resource: string, verb: string): string => `${group || 'core'}/${resource} ${verb}`;

describe("the chart's RBAC is exactly what the scaler calls", () => {
  it('allowed every call, and grants nothing unused', async () => {
    const sa = `system:serviceaccount:keda:${RELEASE}`;
    const events = readFileSync(auditLogPath(c.state.dir), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => e.user.username === sa && e.objectRef?.resource);
    const called = new Map<string, number>();
    const allowed = new Set<string>();
    const forbidden: string[] = [];
    for (const e of events) {
      const ref = e.objectRef ?? {};
      const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? '');
      const k = key(ref.apiGroup ?? '', resource, e.verb);
      called.set(k, (called.get(k) ?? 0) + 1);
      if (e.responseStatus?.code === 403) forbidden.push(`${k} ${e.requestURI}`);
      else allowed.add(k);
    }
    // Right after the API server restarts (scenario 7) its RBAC authorizer answers 403 until its
    // caches sync: a call the chart grants is allowed again afterwards. One it does not grant never is.
    const denied = forbidden.filter((f) => !allowed.has(f.slice(0, f.lastIndexOf(' '))));
    if (forbidden.length > denied.length)
      console.log(`403s while the authorizer warmed up after the restart: ${forbidden.length - denied.length}`);
    const roles = await c.kube.getJson<{ items: { rules: Rule[] }[] }>([
      'clusterroles,roles',
      '-A',
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
    ]);
    const granted = new Set<string>();
    for (const role of roles.items)
      for (const r of role.rules)
        for (const g of r.apiGroups ?? [''])
          for (const res of r.resources ?? []) for (const v of r.verbs) granted.add(key(g, res, v));
    const rows = [...new Set([...granted, ...called.keys()])]
      .sort()
      .map((k) => `${k.padEnd(48)} granted=${granted.has(k) ? 'yes' : 'NO '} calls=${called.get(k) ?? 0}`);
    console.log(`RBAC, granted by the chart vs called by the scaler (audit log):\n${rows.join('\n')}`);
    recordFigures(c.state, 'rbac', { granted: [...granted].sort(), called: Object.fromEntries([...called].sort()) });
    expect(denied, 'calls the chart did not allow').toEqual([]);
    expect(
      [...called.keys()].filter((k) => !granted.has(k)),
      'called but not granted',
    ).toEqual([]);
    expect(
      [...granted].filter((k) => !called.has(k)),
      'granted but never called',
    ).toEqual([]);
  });
});
