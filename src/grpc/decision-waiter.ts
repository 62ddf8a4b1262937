/**
 * A DecisionSource that waits for a decision to appear in the DecisionCache (published through
 * the DecisionTrigger) until the caller's signal aborts. Used when this process does not compute
 * decisions itself (a follower replica reading shared decisions) and in tests where the test plays
 * the engine. The engine is the DecisionSource that computes.
 */
import type { DecisionCache } from '../cache/decision-cache.js';
import type { DecisionTrigger } from '../cache/decision-trigger.js';
import type { DecisionOutcome, DecisionSource } from '../engine/decision-source.js';

export class DecisionWaiter implements DecisionSource {
  constructor(
    private readonly decisions: DecisionCache,
    private readonly trigger: DecisionTrigger,
    private readonly noDecisionReason = 'no engine has decided for this variant yet',
  ) {}

  requestDecision(variantKey: string, signal: AbortSignal): Promise<DecisionOutcome> {
    const existing = this.decisions.get(variantKey);
    if (existing) return Promise.resolve({ ok: true, decision: existing });
    return new Promise((resolve) => {
      const done = (outcome: DecisionOutcome): void => {
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => done({ ok: false, reason: this.noDecisionReason });
      const unsubscribe = this.trigger.subscribe(variantKey, () => {
        const d = this.decisions.get(variantKey);
        if (d) done({ ok: true, decision: d });
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
