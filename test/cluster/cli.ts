/**
 * npm run cluster -- up | down | status | load <namespace>/<deployment> <rps> | gateway <namespace>/<model> <queued>
 *
 * `up` builds (once, cached) and starts the real cluster, installs the scaler with helm, prints
 * the two exports a shell needs and returns; everything keeps running in the background until
 * `down`, which stops every process `up` started.
 */
import { clusterDir, down, readState, up } from './harness/cluster.js';

function usage(): never {
  console.error(
    'usage: npm run cluster -- up | down | status | load <namespace>/<deployment> <rps> | gateway <namespace>/<model> <queued>',
  );
  process.exit(2);
}

async function control(path: string, params: Record<string, string>): Promise<void> {
  const state = readState();
  const res = await fetch(`${state.fleetControlUrl}${path}?${new URLSearchParams(params).toString()}`, {
    method: 'POST',
  });
  const body = await res.text();
  if (!res.ok) {
    console.error(`cluster: ${body.trim()}`);
    process.exit(1);
  }
  console.log(body.trim());
}

function split(ref: string | undefined, what: string): [string, string] {
  const i = ref?.indexOf('/') ?? -1;
  if (!ref || i <= 0) {
    console.error(`cluster: expected <namespace>/<${what}>, got "${ref ?? ''}"`);
    process.exit(2);
  }
  return [ref.slice(0, i), ref.slice(i + 1)];
}

const [cmd, a, b] = process.argv.slice(2);
switch (cmd) {
  case 'up': {
    const s = await up().catch(async (err: unknown) => {
      await down();
      console.error(err instanceof Error ? err.message : String(err));
      console.error('cluster: up failed; everything it started is stopped');
      process.exit(1);
    });
    console.log(`export KUBECONFIG=${s.kubeconfig}`);
    console.log(`export WVA_SCALER_ADDRESS=${s.scaler.grpcAddress}`);
    console.error(
      [
        `API server   ${s.apiserverUrl} (admin client cert in ${s.kubeconfig})`,
        `kubectl      ${s.kubectl}`,
        `helm         ${s.helm}`,
        `grpcurl      ${s.grpcurl}`,
        `Prometheus   ${s.prometheusUrl}`,
        `vLLM fleet   ${s.fleetMetricsUrl} (gateway ${s.fleetGatewayUrl}); annotate a Deployment's pod template wva-scaler.dev/model: <model_name>`,
        `scaler       gRPC ${s.scaler.grpcAddress}, HTTP ${s.scaler.httpUrl} (/debug/decisions)`,
        `logs         ${s.dir}/logs/`,
        'stop it all: npm run cluster -- down',
      ].join('\n'),
    );
    break;
  }
  case 'down': {
    const left = await down();
    if (left.length > 0) {
      console.error(`cluster: still running after down: ${left.join(', ')}`);
      process.exit(1);
    }
    console.error(`cluster: stopped everything started from ${clusterDir()}`);
    break;
  }
  case 'status':
    console.log(JSON.stringify(readState(), null, 2));
    break;
  case 'load': {
    const [namespace, deployment] = split(a, 'deployment');
    if (b === undefined || !(Number(b) >= 0)) usage();
    await control('/load', { namespace, deployment, rps: b });
    break;
  }
  case 'gateway': {
    const [namespace, model] = split(a, 'model');
    if (b === undefined || !(Number.isInteger(Number(b)) && Number(b) >= 0)) usage();
    await control('/gateway', { namespace, model, queued: b });
    break;
  }
  default:
    usage();
}
