/**
 * RegistrationExpiry: forgets variants that only KEDA's calls registered (source `grpc`) once
 * KEDA stops asking about them.
 *
 * Without a ScaledObject informer (standalone, or a ScaledObject the informer leaves to
 * GetMetricSpec) nothing else says that a ScaledObject was deleted or renamed. Its variant would
 * stay registered for good, and as the cheaper variant of its model it would keep taking the
 * model's new replicas (scale from zero included) while the live variants stay put.
 *
 * "Asked about" = GetMetricSpec, IsActive, or a StreamIsActive stream held open. KEDA calls
 * IsActive right after every GetMetrics (GetMetricsAndActivity), on each HPA sync and each
 * polling interval, so a variant KEDA still scales is touched every few seconds to minutes;
 * GetMetrics itself (the hot path) does no bookkeeping. A variant forgotten by mistake is
 * registered again by the next call that names it.
 */
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { Logger } from '../observability/logger.js';

/** Above KEDA's usual polling intervals (30 s default) and HPA syncs (15 s) by a wide margin. */
export const DEFAULT_REGISTRATION_TTL_MS = 10 * 60_000;

export interface RegistrationExpiryDeps {
  readonly registry: VariantRegistry;
  /** Forget after this long without a call (DEFAULT_REGISTRATION_TTL_MS). */
  readonly ttlMs: number;
  /** True while a StreamIsActive stream is open for the variant. */
  readonly isStreamOpen: (variantKey: string) => boolean;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class RegistrationExpiry {
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RegistrationExpiryDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** KEDA asked about this variant. */
  touch(variantKey: string): void {
    this.seen.set(variantKey, this.now());
  }

  /** Removes `grpc` variants not asked about for ttlMs and without an open stream; returns their keys. */
  sweep(): string[] {
    const now = this.now();
    const removed: string[] = [];
    for (const v of this.deps.registry.all()) {
      if (v.source !== 'grpc' || this.deps.isStreamOpen(v.key)) continue;
      const seen = this.seen.get(v.key);
      // Registered before we tracked it (cannot happen through the service; be safe): start now.
      if (seen === undefined) this.seen.set(v.key, now);
      else if (now - seen >= this.deps.ttlMs && this.deps.registry.remove(v.key)) removed.push(v.key);
    }
    for (const key of this.seen.keys()) if (this.deps.registry.get(key)?.source !== 'grpc') this.seen.delete(key);
    if (removed.length > 0)
      this.deps.logger.info({ variants: removed, ttlMs: this.deps.ttlMs }, 'forgot variants KEDA no longer asks about');
    return removed;
  }

  start(intervalMs = Math.max(1000, Math.floor(this.deps.ttlMs / 10))): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
