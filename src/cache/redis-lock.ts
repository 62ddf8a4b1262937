/**
 * RedisLock: leader election through Redis for running several scaler replicas without
 * Kubernetes (with Kubernetes, use the Lease).
 *
 *  - Acquire: `SET key token NX PX ttl`. The token is unique per holder and per start, so a
 *    process only ever renews or releases its own lock.
 *  - Renew every `renewIntervalMs` (default ttl/3) with a Lua compare-and-PEXPIRE; release with
 *    a Lua compare-and-DEL (a plain DEL could delete a lock another replica took over).
 *  - If a renewal cannot reach Redis, the holder steps down before its lock could expire in
 *    Redis (it would not see a takeover), so two replicas never both believe they lead — as long
 *    as their clocks run at about the same rate. Another replica takes over after the TTL.
 *  - Never throws because of Redis; `onChange` listeners see every transition.
 */
import { randomBytes } from 'node:crypto';
import type { LeadershipSource } from '../domain/leadership.js';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from './redis-connection.js';

const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface RedisLockOptions {
  readonly connection: RedisConnection;
  /** e.g. `CacheKeys.lock('wva-system', 'engine')`. */
  readonly key: string;
  /** Who holds it, for logs and `GET key` (e.g. POD_NAME or hostname). */
  readonly holderId: string;
  /** Default 15 s. */
  readonly ttlMs?: number;
  /** Default ttlMs / 3. */
  readonly renewIntervalMs?: number;
  readonly logger: Logger;
}

export class RedisLock implements LeadershipSource {
  readonly token: string;
  private leader = false;
  /** Monotonic time until which our lock is certainly still ours in Redis. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly listeners = new Set<(leader: boolean) => void>();
  private readonly ttlMs: number;
  private readonly renewIntervalMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: RedisLockOptions) {
    this.ttlMs = opts.ttlMs ?? 15_000;
    this.renewIntervalMs = opts.renewIntervalMs ?? Math.max(10, Math.floor(this.ttlMs / 3));
    if (!(this.ttlMs > 0) || !(this.renewIntervalMs > 0) || this.renewIntervalMs >= this.ttlMs) {
      throw new Error(
        `RedisLock ${opts.key}: expected 0 < renewIntervalMs (${this.renewIntervalMs}) < ttlMs (${this.ttlMs})`,
      );
    }
    this.token = `${opts.holderId}:${randomBytes(8).toString('hex')}`;
    this.log = opts.logger.child({ component: 'redis-lock', key: opts.key });
  }

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Tries at once, then every renewIntervalMs. */
  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.renewIntervalMs);
    this.timer.unref();
  }

  /** Stops trying and releases the lock if held (a successor need not wait for the TTL). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (!this.leader) return;
    await this.opts.connection.run((c) => c.eval(RELEASE_SCRIPT, 1, this.opts.key, this.token));
    this.setLeader(false, 'stopped');
  }

  /** One acquire-or-renew attempt (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.attempt().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async attempt(): Promise<void> {
    const sentAt = performance.now();
    if (this.leader) {
      const renewed = await this.opts.connection.run((c) =>
        c.eval(RENEW_SCRIPT, 1, this.opts.key, this.token, String(this.ttlMs)),
      );
      if (renewed.ok && renewed.value === 1) {
        this.validUntil = sentAt + this.ttlMs;
        return;
      }
      if (renewed.ok) {
        this.setLeader(false, 'lock taken over or expired');
        return;
      }
      // Redis unreachable: keep leading only while the next renewal would still be in time.
      if (performance.now() + this.renewIntervalMs >= this.validUntil)
        this.setLeader(false, 'cannot renew: redis unreachable');
      return;
    }
    const acquired = await this.opts.connection.run((c) => c.set(this.opts.key, this.token, 'PX', this.ttlMs, 'NX'));
    if (acquired.ok && acquired.value === 'OK') {
      this.validUntil = sentAt + this.ttlMs;
      this.setLeader(true, 'acquired');
    }
  }

  private setLeader(leader: boolean, why: string): void {
    if (this.leader === leader) return;
    this.leader = leader;
    if (leader) this.log.info({ holder: this.opts.holderId }, `became leader (${why})`);
    else this.log.warn({ holder: this.opts.holderId }, `lost leadership (${why})`);
    for (const listener of [...this.listeners]) {
      try {
        listener(leader);
      } catch (err) {
        this.log.error({ err: String(err) }, 'leader listener failed');
      }
    }
  }
}
