/**
 * The open StreamIsActive streams. KEDA ignores a pushed `false` and every pushed `true` resets its
 * LastActiveTime (delaying scale to zero), so a stream sends the current state once at open if
 * active, then `true` only on a transition from inactive to active. On shutdown every stream is
 * ended with status OK, which resets KEDA's reconnect backoff.
 */
import type * as grpc from '@grpc/grpc-js';
import type { DecisionTrigger } from '../cache/decision-trigger.js';
import type { IsActiveResponse, ScaledObjectRef } from './proto.js';

type StreamCall = grpc.ServerWritableStream<ScaledObjectRef, IsActiveResponse>;

export interface ActiveStreamsHooks {
  onOpenCountChange(open: number): void;
  onPush(): void;
}

export class ActiveStreams {
  private readonly open = new Map<StreamCall, () => void>();
  /** Open streams per variant key. */
  private readonly perVariant = new Map<string, number>();

  constructor(
    private readonly trigger: DecisionTrigger,
    private readonly hooks: ActiveStreamsHooks,
  ) {}

  /**
   * Holds `call` open for `variantKey`. `activeNow` is the state at open (undefined = no decision
   * yet, treated as inactive so that the first active decision is pushed).
   */
  attach(call: StreamCall, variantKey: string, activeNow: boolean | undefined): void {
    let lastActive = activeNow === true;
    const push = (): void => {
      if (call.writable && !call.cancelled) {
        call.write({ result: true });
        this.hooks.onPush();
      }
    };
    const unsubscribe = this.trigger.subscribe(variantKey, (event) => {
      if (event.active && !lastActive) push();
      lastActive = event.active;
    });
    let cleaned = false;
    const cleanup = (): void => {
      if (cleaned) return;
      cleaned = true;
      unsubscribe();
      this.open.delete(call);
      const left = (this.perVariant.get(variantKey) ?? 1) - 1;
      if (left > 0) this.perVariant.set(variantKey, left);
      else this.perVariant.delete(variantKey);
      this.hooks.onOpenCountChange(this.open.size);
    };
    this.open.set(call, cleanup);
    this.perVariant.set(variantKey, (this.perVariant.get(variantKey) ?? 0) + 1);
    this.hooks.onOpenCountChange(this.open.size);
    for (const ev of ['cancelled', 'close', 'error', 'finish'] as const) call.once(ev, cleanup);
    if (lastActive) push();
  }

  /** True while KEDA holds a stream open for this variant. */
  isOpenFor(variantKey: string): boolean {
    return this.perVariant.has(variantKey);
  }

  get size(): number {
    return this.open.size;
  }

  /** Ends every stream with status OK (graceful shutdown). */
  endAll(): void {
    for (const [call, cleanup] of [...this.open]) {
      try {
        if (!call.cancelled) call.end();
      } finally {
        cleanup();
      }
    }
  }
}
