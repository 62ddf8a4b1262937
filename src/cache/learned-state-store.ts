/**
 * LearnedStateStore<T>: what the engine learned per variant (SLO mode's service models), kept in
 * the shared store so that it survives a restart and a new leader starts from what the previous
 * one learned. The value type and its validation are the caller's (`parse` of the cache), so this
 * layer knows nothing of the engine.
 *
 * Contract:
 *  - `load(keys)` resolves to the stored value of each key that has one, or to undefined when the
 *    shared store is unreachable (the caller retries later; a miss is an empty answer, not that).
 *    It never throws.
 *  - `save(key, value, now)` writes at most once per `writeIntervalMs` per key (learning moves a
 *    little every cycle; the store needs only a recent value), fire and forget: it never throws,
 *    never blocks the caller, and a failed write is retried by the next save after the interval.
 *  - Without Redis (no connection) nothing is shared: `load` answers empty, `save` does nothing.
 */
import type { Logger } from '../observability/logger.js';
import { CacheKeys } from './cache-keys.js';
import type { MultiLayerCache } from './multi-layer-cache.js';
import type { RedisConnection } from './redis-connection.js';

export interface LearnedStateStoreOptions<T> {
  /** A MultiLayerCache<T> whose Redis layer is `connection`. */
  readonly cache: MultiLayerCache<T>;
  readonly connection: RedisConnection | undefined;
  /** Shortest time between two writes of one key (default 30 s). */
  readonly writeIntervalMs?: number;
  readonly logger: Logger;
}

export const DEFAULT_LEARNED_WRITE_INTERVAL_MS = 30_000;

export class LearnedStateStore<T> {
  private readonly lastWrite = new Map<string, number>();
  private readonly interval: number;

  constructor(private readonly opts: LearnedStateStoreOptions<T>) {
    this.interval = opts.writeIntervalMs ?? DEFAULT_LEARNED_WRITE_INTERVAL_MS;
  }

  async load(variantKeys: readonly string[]): Promise<ReadonlyMap<string, T> | undefined> {
    const out = new Map<string, T>();
    if (!this.opts.connection) return out;
    if (!this.opts.connection.isUp()) return undefined;
    try {
      const values = await Promise.all(variantKeys.map((k) => this.opts.cache.get(CacheKeys.service(k))));
      variantKeys.forEach((k, i) => {
        const v = values[i];
        if (v !== undefined) out.set(k, v);
      });
      // A connection that went down during the reads gave misses, not answers: say so.
      return this.opts.connection.isUp() ? out : undefined;
    } catch (err) {
      this.opts.logger.warn({ err: String(err) }, 'learned state: load failed');
      return undefined;
    }
  }

  save(variantKey: string, value: T, now: number): void {
    if (!this.opts.connection) return;
    const last = this.lastWrite.get(variantKey);
    if (last !== undefined && now - last < this.interval) return;
    this.lastWrite.set(variantKey, now);
    this.opts.cache.set(CacheKeys.service(variantKey), value).catch((err: unknown) => {
      this.lastWrite.delete(variantKey);
      this.opts.logger.warn({ err: String(err), variant: variantKey }, 'learned state: write failed');
    });
  }

  /** Forgets a variant's write time (it went away; a new one of the same name starts afresh). */
  forget(variantKey: string): void {
    this.lastWrite.delete(variantKey);
  }
}
