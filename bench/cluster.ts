/**
 * bench:cluster — the "Real cluster" section of bench/RESULTS.md: runs `npm run test:cluster`
 * (unless --no-run) and writes the figures its scenarios recorded: decision → spec.replicas and
 * activation from zero through the real KEDA operator, metrics adapter and HPA controller, this
 * scaler against KEDA's `prometheus` trigger on the same Deployment and load steps.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir, REPO } from '../test/cluster/harness/cluster.js';
import { machineLine, writeResultsSection } from './lib/results.js';

interface Dist {
  n: number;
  p50: number;
  p95: number;
  max?: number;
}
type Figures = Record<string, unknown>;

const started = Date.now();
const ran = !process.argv.includes('--no-run');
if (ran) {
  const r = spawnSync('npm', ['run', 'test:cluster'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('bench:cluster: test:cluster failed; RESULTS.md not written');
    process.exit(1);
  }
}
const dir = join(clusterDir(), 'results');
if (!existsSync(dir)) throw new Error(`bench:cluster: no figures in ${dir}: run without --no-run`);
const figures = new Map<string, Figures>(
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Figures]),
);
const get = (name: string): Figures => {
  const f = figures.get(name);
  if (!f) throw new Error(`bench:cluster: scenario figures ${name}.json missing in ${dir}`);
  return f;
};
const s = (ms: number | undefined): string =>
  ms === undefined || Number.isNaN(ms) ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
const dist = (d: unknown): Dist => d as Dist;
const row = (what: string, d: Dist): string => `| ${what} | ${s(d.p50)} | ${s(d.p95)} | ${d.n} |`;

const push = get('scale-external-push');
const prom = get('scale-prometheus');
const wake = get('activation-external-push');
const wakeProm = get('activation-prometheus');
const failover = get('leader-failover');
const fault = get('fault-scaler-stopped');

const body = `Machine: ${machineLine()}. Date: ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run bench:cluster\` (runs \`npm run test:cluster\`: etcd, kube-apiserver, kube-controller-manager with HPA sync every 5 s, kube-scheduler and kwok built from source, KEDA's operator and metrics adapter through real API aggregation, real Prometheus scraping the fleet emulator every 1 s; the scaler installed with helm and running with the chart's ServiceAccount token).${ran ? ` Wall time ${((Date.now() - started) / 1000).toFixed(0)} s.` : ` Figures from the test:cluster run in ${dir}.`}
Same Deployment shape and the same load steps (10, 20, 30 req/s, then 1) for both; one replica serves about 8 req/s.

### Scaling a running Deployment (README ScaledObject, external-push, vs KEDA \`prometheus\` on waiting requests, threshold 5, polling 15 s)

| path | p50 | p95 | samples |
|---|---|---|---|
${row('this scaler: decision change → Deployment spec.replicas equal to it', dist(push.decisionToReplicasMs))}
${row('this scaler: load step → spec.replicas grows', dist(push.loadStepToReplicasMs))}
${row('baseline: query value / threshold changes → spec.replicas changes', dist(prom.metricToReplicasMs))}
${row('baseline: load step → spec.replicas grows', dist(prom.loadStepToReplicasMs))}

Peak replicas at 30 req/s: this scaler ${String(push.peakReplicas)}, baseline ${String(prom.peakReplicas)}.

### Activation from zero (one request queued at the gateway → spec.replicas = 1)

| path | p50 | p95 | max | samples |
|---|---|---|---|---|
| this scaler: gateway probe → StreamIsActive push → KEDA scales 0 → 1 | ${s(dist(wake).p50)} | ${s(dist(wake).p95)} | ${s(dist(wake).max)} | ${dist(wake).n} |
| baseline: KEDA \`prometheus\` on the gateway queue, activationThreshold 0, polling 15 s | ${s(dist(wakeProm).p50)} | ${s(dist(wakeProm).p95)} | ${s(dist(wakeProm).max)} | ${dist(wakeProm).n} |

Target (issue 17): activation p95 under 2 s — ${dist(wake).p95 < 2000 ? 'met' : 'NOT met'}.

### Faults

- Leader killed (SIGKILL) with two scalers on Redis and the Lease: the other led after ${s(failover.takeoverMs as number)} (lease duration ${s(failover.leaseDurationMs as number)}); GetMetrics differed in ${String(failover.differences)} of ${String(failover.pairedReads)} paired reads.
- Scaler stopped for 60 s with the README's \`fallback\` (failureThreshold 3, replicas 2): spec.replicas seen ${JSON.stringify(fault.replicasSeen)} (before: ${String(fault.replicasBefore)}); fallback applied: ${String(fault.fallbackApplied)}; ScaledObject health at the end: ${JSON.stringify(fault.lastHealth ?? null)}.
`;
writeResultsSection('Real cluster (bench/cluster.ts)', body);
console.log(body);
