/**
 * DecisionTrigger: the event channel from the engine to its subscribers (StreamIsActive streams,
 * the status writer). Contract:
 *  - `publish` never blocks and never throws: it appends to a buffer and schedules a drain on the
 *    next macrotask, so a slow or failing subscriber cannot hold the engine.
 *  - The buffer holds at most `capacity` events (default 1,000). When full, events coalesce per
 *    variant: the variant's newest event replaces the one already waiting, and a variant with no
 *    waiting event goes to an overflow slot keyed by variant. The latest state of every variant
 *    always arrives; intermediate states of a variant may be skipped under pressure.
 *  - Subscribers see events in publish order per variant.
 */
import { isActive, type Decision } from '../domain/decision.js';

export interface DecisionEvent {
  readonly variantKey: string;
  readonly desiredReplicas: number;
  readonly active: boolean;
  readonly decidedAt: number;
}

/** The event that announces a decision. */
export function decisionEventOf(d: Decision): DecisionEvent {
  return { variantKey: d.variantKey, desiredReplicas: d.desiredReplicas, active: isActive(d), decidedAt: d.decidedAt };
}

export type DecisionListener = (event: DecisionEvent) => void;

export interface TriggerStats {
  published: number;
  delivered: number;
  coalesced: number;
  listenerErrors: number;
}

export class DecisionTrigger {
  private buffer: DecisionEvent[] = [];
  /** Variant key -> index in `buffer` of its waiting event (only while full, for coalescing). */
  private overflow = new Map<string, DecisionEvent>();
  private drainScheduled = false;
  private readonly byVariant = new Map<string, Set<DecisionListener>>();
  private readonly everything = new Set<DecisionListener>();
  readonly stats: TriggerStats = { published: 0, delivered: 0, coalesced: 0, listenerErrors: 0 };

  constructor(
    readonly capacity = 1000,
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {}

  publish(event: DecisionEvent): void {
    this.stats.published++;
    if (this.buffer.length < this.capacity && this.overflow.size === 0) {
      this.buffer.push(event);
    } else {
      this.coalesce(event);
    }
    this.scheduleDrain();
  }

  /** Number of events waiting (buffer plus overflow). */
  get pending(): number {
    return this.buffer.length + this.overflow.size;
  }

  /** Subscribe to one variant's events. Returns the unsubscribe function. */
  subscribe(variantKey: string, listener: DecisionListener): () => void {
    let set = this.byVariant.get(variantKey);
    if (!set) {
      set = new Set();
      this.byVariant.set(variantKey, set);
    }
    set.add(listener);
    return () => {
      const s = this.byVariant.get(variantKey);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.byVariant.delete(variantKey);
    };
  }

  /** Subscribe to every variant's events (status writer, metrics). */
  subscribeAll(listener: DecisionListener): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  get subscriberCount(): number {
    let n = this.everything.size;
    for (const s of this.byVariant.values()) n += s.size;
    return n;
  }

  /** Delivers everything waiting now (tests and shutdown). */
  flush(): void {
    this.drain();
  }

  private coalesce(event: DecisionEvent): void {
    this.stats.coalesced++;
    // Replace the variant's newest waiting event in the buffer, if any, keeping its place.
    for (let i = this.buffer.length - 1; i >= 0; i--) {
      if (this.buffer[i]?.variantKey === event.variantKey) {
        this.buffer[i] = event;
        return;
      }
    }
    this.overflow.set(event.variantKey, event);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    const events = this.buffer;
    const overflow = this.overflow;
    this.buffer = [];
    this.overflow = new Map();
    for (const e of events) this.deliver(e);
    for (const e of overflow.values()) this.deliver(e);
  }

  private deliver(event: DecisionEvent): void {
    const targets = this.byVariant.get(event.variantKey);
    if (targets) for (const l of [...targets]) this.call(l, event);
    for (const l of this.everything) this.call(l, event);
    this.stats.delivered++;
  }

  private call(listener: DecisionListener, event: DecisionEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.stats.listenerErrors++;
      this.onListenerError(err);
    }
  }
}
