/**
 * ComputeRole: whether this replica computes decisions or follows the ones another replica shares,
 * and the switch between the two.
 *
 * Contract:
 *  - It computes when there is no shared store (the process is the whole truth), when the store is
 *    unreachable (a follower could not receive decisions then), or when it leads.
 *  - The role is re-judged on every leadership or store transition and every `recheckMs` (a lease
 *    can lapse without an event). Becoming the computer starts the workers in order; becoming a
 *    follower stops them in reverse order (without waiting) and calls `onFollow`.
 *  - `requestDecision` asks the computing source while computing, else the following one.
 *  - `stop()` stops judging; the workers are left to the caller's shutdown order.
 */
import type { LeadershipSource } from '../domain/leadership.js';
import type { Logger } from '../observability/logger.js';
import type { DecisionOutcome, DecisionSource } from './decision-source.js';

/** Something that runs only while this replica computes (engine loop, metrics fetcher, probe). */
export interface ComputeWorker {
  start(): void;
  stop(): unknown;
}

/** The store decisions are shared through (Redis), as far as the role cares. */
export interface SharedStoreState {
  isUp(): boolean;
  /** For logs, e.g. "up", "down". */
  readonly state: string;
  onStateChange(listener: (up: boolean) => void): () => void;
}

export interface ComputeRoleOptions {
  readonly leadership: LeadershipSource;
  /** Absent: nothing is shared, so this replica always computes. */
  readonly store?: SharedStoreState | undefined;
  readonly workers: readonly ComputeWorker[];
  /** Called on each switch to following (e.g. forget what this replica published). */
  readonly onFollow?: () => void;
  /** Answers requestDecision while computing (the engine). */
  readonly computing: DecisionSource;
  /** Answers requestDecision while following (waits for the leader's decision). */
  readonly following: DecisionSource;
  readonly logger: Logger;
  /** Default 1 s. */
  readonly recheckMs?: number;
}

export class ComputeRole implements DecisionSource {
  private computingNow = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(private readonly opts: ComputeRoleOptions) {}

  /** True while this replica computes decisions. */
  get computing(): boolean {
    return this.computingNow;
  }

  /** Judges the role now and keeps judging it. */
  start(): void {
    if (this.timer) return;
    const judge = (): void => this.judge();
    this.unsubscribes.push(this.opts.leadership.onChange(judge));
    if (this.opts.store) this.unsubscribes.push(this.opts.store.onStateChange(judge));
    this.timer = setInterval(judge, this.opts.recheckMs ?? 1000);
    this.timer.unref();
    this.judge();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const off of this.unsubscribes.splice(0)) off();
  }

  requestDecision(variantKey: string, signal: AbortSignal): Promise<DecisionOutcome> {
    return (this.computingNow ? this.opts.computing : this.opts.following).requestDecision(variantKey, signal);
  }

  /** For /debug/role. */
  describe(): { computing: boolean; leader: boolean; store: string } {
    return {
      computing: this.computingNow,
      leader: this.opts.leadership.isLeader(),
      store: this.opts.store?.state ?? 'disabled',
    };
  }

  private shouldCompute(): boolean {
    const store = this.opts.store;
    return !store || !store.isUp() || this.opts.leadership.isLeader();
  }

  private judge(): void {
    const want = this.shouldCompute();
    if (want === this.computingNow) return;
    this.computingNow = want;
    const { computing, leader, store } = this.describe();
    this.opts.logger.info(
      { computing, leader, redis: store },
      want ? 'computing decisions' : 'following shared decisions',
    );
    if (want) {
      for (const w of this.opts.workers) w.start();
      return;
    }
    for (const w of [...this.opts.workers].reverse()) void w.stop();
    this.opts.onFollow?.();
  }
}
