/**
 * The real token-level fleet behind the bench's `TokenFleet` interface: one model, simulated time only,
 * no HTTP server, histograms off (the bench reads the snapshot, as the exposition would serve it). A variant with a
 * `speedChange` has its pods moved to another GPU at that time, in this wiring only (the fleet's own semantics are
 * untouched: it sees two Deployments).
 */
import { ACCELERATOR_PROFILES, VllmFleet } from '../../src/sim/fleet/index.js';
import type {
  AcceleratorFacts,
  Accelerator,
  SpeedChange,
  TokenFleet,
  TokenFleetFactory,
  TokenModelSnapshot,
  TokenVariantSpec,
} from './token-fleet.js';

export const createTokenFleet: TokenFleetFactory = (o): TokenFleet => {
  // A variant whose GPU changes runs as two Deployments of the fleet: the first GPU's, and the second's (empty until
  // the change). The loop and the policies only ever see the variant's own name: the wrapper routes to the Deployment
  // of the moment and names the pods' Deployment after the variant.
  const physical = new Map(o.variants.map((v) => [v.deployment, v.deployment]));
  const after = (v: TokenVariantSpec): string => `${v.deployment}-${(v.speedChange?.accelerator ?? '').toLowerCase()}`;
  const logicalOf = new Map<string, string>(o.variants.map((v) => [v.deployment, v.deployment]));
  for (const v of o.variants) if (v.speedChange) logicalOf.set(after(v), v.deployment);
  const fleet = new VllmFleet({
    models: [
      {
        namespace: o.namespace,
        modelID: o.modelID,
        arrivalRate: 0,
        variants: o.variants.flatMap((v) => [
          {
            deployment: v.deployment,
            replicas: v.replicas,
            startupDelayMs: v.startupDelayMs,
            accelerator: v.accelerator,
          },
          ...(v.speedChange
            ? [
                {
                  deployment: after(v),
                  replicas: 0,
                  startupDelayMs: v.startupDelayMs,
                  accelerator: v.speedChange.accelerator,
                },
              ]
            : []),
        ]),
      },
    ],
    realtime: false,
    seed: o.seed,
    histograms: false,
    ...(o.flowControl ? { flowControl: {} } : {}),
    onRequestEvent: (e) => o.onRequestEvent({ ...e, deployment: logicalOf.get(e.deployment) ?? e.deployment }),
  });
  const changes = o.variants
    .filter((v): v is TokenVariantSpec & { speedChange: SpeedChange } => v.speedChange !== undefined)
    .map((v) => ({ v, done: false }));
  let now = 0;
  /**
   * The change itself: the ready pods are replaced at once by as many ready pods on the new GPU, the pending ones by
   * pending ones (they keep starting up); requests on the old pods go back to the gateway with their arrival times,
   * as a scale-down's do. Instant, so that the figures measure the learners' re-convergence, not a rollout.
   */
  const change = (v: TokenVariantSpec & { speedChange: SpeedChange }): void => {
    const st = fleet.deploymentStatus(o.namespace, v.deployment);
    const ready = st?.ready ?? 0;
    const current = st?.current ?? 0;
    const names = Array.from({ length: ready }, (_, i) => `${after(v)}-swap-${i}`);
    const next = {
      deployment: after(v),
      replicas: 0,
      accelerator: v.speedChange.accelerator,
      startupDelayMs: v.startupDelayMs,
    };
    fleet.adoptPods(o.namespace, o.modelID, next, names);
    fleet.setReplicas(o.namespace, v.deployment, 0);
    if (current > ready) fleet.setReplicas(o.namespace, after(v), current);
    physical.set(v.deployment, after(v));
  };
  const model = (): TokenModelSnapshot => {
    const m = fleet.snapshot().models[0];
    if (!m) throw new Error('fleet snapshot has no model');
    if (changes.length === 0) return m;
    return { ...m, pods: m.pods.map((p) => ({ ...p, deployment: logicalOf.get(p.deployment) ?? p.deployment })) };
  };
  const dep = (d: string): string => physical.get(d) ?? d;
  return {
    enqueueRequests: (ns, id, requests) => fleet.enqueueRequests(ns, id, requests),
    step: (ms) => {
      const end = now + ms;
      for (const c of changes) {
        if (c.done || c.v.speedChange.atMs >= end || c.v.speedChange.atMs < now) continue;
        fleet.step(c.v.speedChange.atMs - now);
        now = c.v.speedChange.atMs;
        change(c.v);
        c.done = true;
      }
      fleet.step(end - now);
      now = end;
    },
    setReplicas: (ns, d, n) => fleet.setReplicas(ns, dep(d), n),
    deploymentStatus: (ns, d) => fleet.deploymentStatus(ns, dep(d)),
    model,
    resetStats: () => fleet.resetStats(),
  };
};

/** The fleet's profile of an accelerator: KV blocks, peak prefill throughput and their source. */
export function acceleratorFacts(a: Accelerator): AcceleratorFacts {
  return ACCELERATOR_PROFILES[a];
}
