/**
 * What the quality bench needs of the token-level fleet (the contract in notes/fleet-contract.md,
 * implemented by `src/sim/fleet`): the loop, the observer and the recipes are written against these
 * names, and `createTokenFleet` builds the real `VllmFleet` (the type check proves it conforms). A
 * narrow interface, so the loop's tests could drive a stand-in and the fleet's snapshot can grow.
 */
import type {
  Accelerator,
  FleetModelSnapshot,
  FleetPodSnapshot,
  FleetRequestEvent,
  TokenRequest,
} from '../../src/sim/fleet/index.js';

export type { Accelerator, FleetRequestEvent };

/** A replica as the fleet reports it (the fleet's own snapshot type: one definition). */
export type TokenPodSnapshot = FleetPodSnapshot;

/** The model-level fields the loop, the observer and the recipes read. */
export type TokenModelSnapshot = Pick<
  FleetModelSnapshot,
  | 'namespace'
  | 'modelID'
  | 'gatewayQueue'
  | 'arrivalsTotal'
  | 'waiting'
  | 'running'
  | 'waitMaxMs'
  | 'inflightTokens'
  | 'runningRequests'
  | 'gatewayQueuedTokens'
  | 'pods'
>;

/** The Deployment's pods move to another GPU at `atMs` (a node-pool change, a different instance type). */
export interface SpeedChange {
  readonly atMs: number;
  readonly accelerator: Accelerator;
}

export interface TokenVariantSpec {
  readonly deployment: string;
  readonly replicas: number;
  readonly startupDelayMs: number;
  readonly accelerator: Accelerator;
  /** Undefined: the variant's GPU never changes (every scenario but the speed-change one). */
  readonly speedChange?: SpeedChange;
}

export interface TokenFleetOptions {
  readonly namespace: string;
  readonly modelID: string;
  readonly variants: readonly TokenVariantSpec[];
  readonly seed: number;
  /** The gateway's flow control (EPP saturation detector, its defaults). */
  readonly flowControl: boolean;
  readonly onRequestEvent: (e: FleetRequestEvent) => void;
}

/** The fleet as the loop drives it. */
export interface TokenFleet {
  enqueueRequests(namespace: string, modelID: string, requests: readonly TokenRequest[]): void;
  step(ms: number): void;
  setReplicas(namespace: string, deployment: string, n: number): void;
  deploymentStatus(namespace: string, deployment: string): { current: number; ready: number } | undefined;
  /** The model's snapshot (the bench runs one model per fleet). */
  model(): TokenModelSnapshot;
  resetStats(): void;
}

/** What a recipe reads of an accelerator (the fleet's ACCELERATOR_PROFILES). */
export interface AcceleratorFacts {
  readonly numGpuBlocks: number;
  readonly peakPrefillTokensPerS: number;
  readonly source: string;
}

export type TokenFleetFactory = (opts: TokenFleetOptions) => TokenFleet;
