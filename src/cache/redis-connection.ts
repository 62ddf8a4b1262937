/**
 * RedisConnection: one ioredis client plus the "is Redis usable right now" state that lets every
 * caller fall back to its local layer instead of failing.
 *
 * Contract:
 *  - `run()` never throws and never waits longer than its timeout: an error, a timeout or a
 *    connection that is not up gives `{ ok: false }` and the caller uses its local layer.
 *  - ioredis is configured to fail fast while disconnected (`enableOfflineQueue: false`,
 *    `maxRetriesPerRequest: 0`, `commandTimeout`) and reconnects by itself (`retryStrategy`).
 *  - While down, commands are not sent at all (a slow Redis would otherwise cost every caller a
 *    full timeout); a probe PINGs every `probeIntervalMs` and on ioredis' `ready`, and the first
 *    answered PING brings the state back up.
 *  - Each transition (up → down, down → up) is logged once and sets
 *    `wva_scaler_cache_layer_up{layer="redis"}`; listeners (`onStateChange`) can catch up, e.g.
 *    re-publish what they wrote while Redis was away.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';

export type RedisState = 'connecting' | 'up' | 'down';

export type RedisResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: 'down' | 'error' | 'timeout' };

export interface RedisConnectionOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://...`. Never logged. */
  readonly url: string;
  readonly logger: Logger;
  readonly metrics?: ScalerMetrics;
  /** Bound of one command (ioredis `commandTimeout`) and of a `run()` by default. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** PING interval while down. */
  readonly probeIntervalMs?: number;
  /** Shown in `CLIENT LIST`, e.g. the pod name. */
  readonly connectionName?: string;
}

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 200;

export class RedisConnection {
  readonly client: Redis;
  private stateNow: RedisState = 'connecting';
  private readonly listeners = new Set<(up: boolean) => void>();
  private readonly probeTimer: NodeJS.Timeout;
  private probing = false;
  private closed = false;
  private lastErrorText: string | undefined;
  private readonly commandTimeoutMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: RedisConnectionOptions) {
    this.commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    this.log = opts.logger.child({ component: 'redis' });
    this.client = new Redis(opts.url, this.clientOptions());
    this.client.on('ready', () => void this.probe());
    this.client.on('error', (err: unknown) => this.markDown(err));
    this.client.on('close', () => this.markDown(new Error('connection closed')));
    this.client.on('end', () => this.markDown(new Error('connection ended')));
    this.probeTimer = setInterval(() => {
      if (this.stateNow !== 'up') void this.probe();
    }, opts.probeIntervalMs ?? 500);
    this.probeTimer.unref();
    opts.metrics?.cacheLayerUp.set({ layer: 'redis' }, 0);
  }

  /** ioredis options shared by the main client and pub/sub duplicates. */
  private clientOptions(): RedisOptions {
    return {
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: this.opts.connectTimeoutMs ?? 1000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, quickly at first, at most once a second.
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
      connectionName: this.opts.connectionName ?? 'wva-scaler',
      lazyConnect: false,
    };
  }

  get state(): RedisState {
    return this.stateNow;
  }

  isUp(): boolean {
    return this.stateNow === 'up';
  }

  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  /** Called with `true` when Redis comes (back) up and `false` when it goes down. */
  onStateChange(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `op` against Redis when it is up, bounded by `timeoutMs` (default: the command timeout).
   * Never throws. A failure marks the connection down (logged once).
   */
  async run<T>(op: (client: Redis) => Promise<T>, timeoutMs = this.commandTimeoutMs): Promise<RedisResult<T>> {
    if (this.stateNow !== 'up') return { ok: false, reason: 'down' };
    const outcome = await this.bounded(op, timeoutMs);
    if (outcome.ok) return outcome;
    if (outcome.reason !== 'down') this.markDown(outcome.error);
    return { ok: false, reason: outcome.reason };
  }

  /** PING with a timeout, sent even while down (health checks and the reconnect probe). */
  async ping(timeoutMs = this.commandTimeoutMs): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
    const started = performance.now();
    const outcome = await this.bounded((c) => c.ping(), timeoutMs);
    const latencyMs = performance.now() - started;
    if (outcome.ok && outcome.value === 'PONG') return { ok: true, latencyMs };
    return {
      ok: false,
      latencyMs,
      error: outcome.ok ? `unexpected reply ${String(outcome.value)}` : errorText(outcome.error),
    };
  }

  /** Resolves true once Redis is up, false after `timeoutMs` (startup: warm before serving). */
  async waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.isUp()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(this.isUp());
      }, timeoutMs);
      const off = this.onStateChange((up) => {
        if (!up) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
      void this.probe();
    });
  }

  /**
   * A second client with the same options, for SUBSCRIBE (a subscribed connection cannot send
   * other commands). The caller owns it and must `disconnect()` it.
   */
  duplicateForSubscribe(): Redis {
    // Subscriptions must survive reconnects (autoResubscribe) and SUBSCRIBE may be sent before
    // the connection is ready, so this one keeps an offline queue.
    const sub = this.client.duplicate({
      ...this.clientOptions(),
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: true,
    });
    sub.on('error', () => undefined); // state is tracked on the main client
    return sub;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.probeTimer);
    this.listeners.clear();
    try {
      await Promise.race([this.client.quit(), sleep(500)]);
    } catch {
      // quit fails when the connection is already gone; disconnect below is enough.
    }
    this.client.disconnect();
  }

  private async probe(): Promise<void> {
    // Not connected yet (or reconnecting): ioredis reports that through 'error'/'close' and
    // emits 'ready' when it is back; a PING now would only fail with "stream not writeable".
    if (this.probing || this.closed || this.client.status !== 'ready') return;
    this.probing = true;
    try {
      const result = await this.ping();
      if (result.ok) this.markUp();
      else this.markDown(new Error(result.error ?? 'PING failed'));
    } finally {
      this.probing = false;
    }
  }

  private async bounded<T>(
    op: (client: Redis) => Promise<T>,
    timeoutMs: number,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: 'down' | 'error' | 'timeout'; error: unknown }> {
    if (this.closed) return { ok: false, reason: 'down', error: new Error('connection closed') };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let running: Promise<T>;
    try {
      running = op(this.client);
    } catch (err) {
      clearTimeout(timer);
      return { ok: false, reason: 'error', error: err };
    }
    // The op may settle after the timeout won: its late rejection must not be unhandled.
    running.catch(() => undefined);
    try {
      const winner = await Promise.race([running.then((value) => ({ value })), timeout]);
      if (winner === 'timeout')
        return { ok: false, reason: 'timeout', error: new Error(`redis command timed out after ${timeoutMs} ms`) };
      return { ok: true, value: winner.value };
    } catch (err) {
      return { ok: false, reason: 'error', error: err };
    } finally {
      clearTimeout(timer);
    }
  }

  private markUp(): void {
    if (this.stateNow === 'up' || this.closed) return;
    this.stateNow = 'up';
    this.lastErrorText = undefined;
    this.opts.metrics?.cacheLayerUp.set({ layer: 'redis' }, 1);
    this.log.info('redis reachable: shared cache layer on');
    this.emit(true);
  }

  private markDown(err: unknown): void {
    this.lastErrorText = errorText(err);
    if (this.stateNow === 'down' || this.closed) return;
    this.stateNow = 'down';
    this.opts.metrics?.cacheLayerUp.set({ layer: 'redis' }, 0);
    this.log.warn({ err: this.lastErrorText }, 'redis unreachable or slow: local cache layer only until it is back');
    this.emit(false);
  }

  private emit(up: boolean): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(up);
      } catch (err) {
        this.log.error({ err: errorText(err) }, 'redis state listener failed');
      }
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
