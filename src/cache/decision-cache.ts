/**
 * DecisionCache: the latest Decision per variant key. GetMetrics reads it on every call, so `get`
 * is one Map lookup. Decisions are frozen on the way in, so readers hold immutable snapshots and
 * nobody can change a decision another reader is looking at.
 */
import type { Decision } from '../domain/decision.js';

export class DecisionCache {
  private readonly decisions = new Map<string, Decision>();

  get(variantKey: string): Decision | undefined {
    return this.decisions.get(variantKey);
  }

  /** Stores a frozen copy and returns it, with the decision it replaced. */
  set(decision: Decision): { current: Decision; previous: Decision | undefined } {
    const frozen = Object.isFrozen(decision) ? decision : freezeDecision(decision);
    const previous = this.decisions.get(frozen.variantKey);
    this.decisions.set(frozen.variantKey, frozen);
    return { current: frozen, previous };
  }

  delete(variantKey: string): boolean {
    return this.decisions.delete(variantKey);
  }

  list(): Decision[] {
    return [...this.decisions.values()];
  }

  get size(): number {
    return this.decisions.size;
  }
}

export function freezeDecision(d: Decision): Decision {
  return Object.freeze({ ...d, reasons: Object.freeze([...d.reasons]), steps: Object.freeze([...d.steps]) });
}
