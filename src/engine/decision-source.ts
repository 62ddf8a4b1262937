import type { Decision } from '../domain/decision.js';

/**
 * What the gRPC service asks when a variant has no decision yet: run its model now (coalesced with
 * any run already under way) and resolve with the variant's decision, or undefined plus a reason.
 */
export interface DecisionSource {
  requestDecision(variantKey: string, signal: AbortSignal): Promise<DecisionOutcome>;
}

export type DecisionOutcome =
  { readonly ok: true; readonly decision: Decision } | { readonly ok: false; readonly reason: string };
