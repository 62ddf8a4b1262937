/**
 * The real token-level fleet behind the bench's `TokenFleet` interface: one model, simulated time only,
 * no HTTP server, histograms off (the bench reads the snapshot, as the exposition would serve it).
 */
import { ACCELERATOR_PROFILES, VllmFleet } from '../../src/sim/fleet/index.js';
import type {
  AcceleratorFacts,
  Accelerator,
  TokenFleet,
  TokenFleetFactory,
  TokenModelSnapshot,
} from './token-fleet.js';

export const createTokenFleet: TokenFleetFactory = (o): TokenFleet => {
  const fleet = new VllmFleet({
    models: [
      {
        namespace: o.namespace,
        modelID: o.modelID,
        arrivalRate: 0,
        variants: o.variants.map((v) => ({
          deployment: v.deployment,
          replicas: v.replicas,
          startupDelayMs: v.startupDelayMs,
          accelerator: v.accelerator,
        })),
      },
    ],
    realtime: false,
    seed: o.seed,
    histograms: false,
    ...(o.flowControl ? { flowControl: {} } : {}),
    onRequestEvent: o.onRequestEvent,
  });
  const model = (): TokenModelSnapshot => {
    const m = fleet.snapshot().models[0];
    if (!m) throw new Error('fleet snapshot has no model');
    return m;
  };
  return {
    enqueueRequests: (ns, id, requests) => fleet.enqueueRequests(ns, id, requests),
    step: (ms) => fleet.step(ms),
    setReplicas: (ns, dep, n) => fleet.setReplicas(ns, dep, n),
    deploymentStatus: (ns, dep) => fleet.deploymentStatus(ns, dep),
    model,
    resetStats: () => fleet.resetStats(),
  };
};

/** The fleet's profile of an accelerator: KV blocks, peak prefill throughput and their source. */
export function acceleratorFacts(a: Accelerator): AcceleratorFacts {
  return ACCELERATOR_PROFILES[a];
}
