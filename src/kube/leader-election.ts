/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
 *  - every `retryPeriodMs` each candidate reads the Lease; it creates it when absent, renews it
 *    when it holds it, and takes it over when it is free (released: empty holder) or expired;
 *  - expiry is judged by the local time since this candidate last saw the Lease change (its
 *    resourceVersion), never by comparing clocks with the holder;
 *  - every write carries the resourceVersion it read, so two candidates racing for a free Lease
 *    cannot both win (the API answers 409 Conflict to the loser);
 *  - a leader that cannot renew for `renewDeadlineMs` steps down, also while a Lease call hangs:
 *    `isLeader()` checks the time since the last renewal, and every attempt is aborted at the
 *    renew deadline (the client sets no request timeout, and a blackholed API server would
 *    otherwise keep this replica leading after another one took the Lease);
 *  - `stop()` releases the Lease (empty holder) so another replica takes over at once instead of
 *    after the lease duration.
 * Only status writes depend on leadership: every replica keeps answering gRPC.
 */
import {
  ApiException,
  CoordinationV1Api,
  createConfiguration,
  V1MicroTime,
  type ConfigurationOptions,
  type HttpLibrary,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import type { LeadershipSource } from '../domain/leadership.js';
import type { Logger } from '../observability/logger.js';
import { KUBE_API_CALLS, requireVerb } from './api-calls.js';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export class LeaseLeaderElector implements LeadershipSource {
  private readonly api: CoordinationV1Api;
  private leader = false;
  private readonly listeners = new Set<(leader: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private cycle: Promise<void> = Promise.resolve();
  private observedVersion: string | undefined;
  private observedAt = 0;
  private lastRenew = 0;
  /** Aborts the attempt in flight (its Lease calls), on stop(). */
  private attempt: AbortController | undefined;
  /** The client's own HTTP library, wrapped per call to pass an abort signal. */
  private readonly http: HttpLibrary = createConfiguration().httpApi;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;

  constructor(
    kubeConfig: KubeConfig,
    private readonly opts: LeaderElectionOptions,
    private readonly logger: Logger,
  ) {
    for (const verb of ['get', 'create', 'update'] as const) requireVerb(KUBE_API_CALLS.leases, verb);
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  }

  get identity(): string {
    return this.opts.identity;
  }

  isLeader(): boolean {
    // Not only on a failed call: a call that hangs never fails, and another replica may take the
    // Lease once its duration passes without a renewal.
    if (this.leader && Date.now() - this.lastRenew >= this.renewDeadlineMs) {
      this.logger.warn(
        { lease: this.opts.name, sinceRenewMs: Date.now() - this.lastRenew },
        'leader Lease not renewed within the renew deadline: stepping down',
      );
      this.setLeader(false);
    }
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops campaigning and releases the Lease if held. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.attempt?.abort(new Error('stopping'));
    await this.cycle;
    if (this.leader) {
      try {
        await this.bounded((signal) => this.release(signal));
      } catch (err) {
        this.logger.warn({ lease: this.opts.name, err: errorText(err) }, 'could not release the leader Lease');
      }
      this.setLeader(false);
    }
  }

  /** One acquire-or-renew attempt (the timer calls it; tests may too). */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    try {
      return await this.bounded((signal) => this.acquireOrRenew(now, signal));
    } catch (err) {
      // A conflict is a lost race, and an attempt aborted by stop() is no failure.
      if (this.running && !(err instanceof ApiException && err.code === 409)) {
        this.logger.warn({ lease: this.opts.name, err: errorText(err) }, 'leader election attempt failed');
      }
      return this.lost(Date.now());
    }
  }

  /**
   * Runs `fn` with a signal aborted at the renew deadline (or on stop), and gives up waiting then
   * even if a call ignores the signal.
   */
  private async bounded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const attempt = new AbortController();
    this.attempt = attempt;
    const timer = setTimeout(
      () =>
        attempt.abort(
          new Error(`no answer from the API server within the renew deadline (${this.renewDeadlineMs} ms)`),
        ),
      this.renewDeadlineMs,
    );
    timer.unref();
    const aborted = new Promise<never>((_, reject) => {
      const reason = (): unknown => attempt.signal.reason;
      attempt.signal.addEventListener('abort', () => reject(reason()), { once: true });
    });
    try {
      return await Promise.race([fn(attempt.signal), aborted]);
    } finally {
      clearTimeout(timer);
      if (this.attempt === attempt) this.attempt = undefined;
    }
  }

  /** Per-call client options that abort the HTTP request with `signal`. */
  private withSignal(signal: AbortSignal): ConfigurationOptions {
    const http = this.http;
    return {
      httpApi: {
        send(request) {
          request.setSignal(signal);
          return http.send(request);
        },
      },
    };
  }

  private async acquireOrRenew(now: number, signal: AbortSignal): Promise<boolean> {
    const options = this.withSignal(signal);
    const lease = await this.read(signal);
    if (!lease) {
      await this.api.createNamespacedLease(
        { namespace: this.opts.namespace, body: this.leaseBody(undefined, now) },
        options,
      );
      signal.throwIfAborted(); // an answer after the deadline: the attempt was already given up
      return this.won(now);
    }
    const rv = lease.metadata?.resourceVersion;
    if (rv !== this.observedVersion) {
      this.observedVersion = rv;
      this.observedAt = now;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    const heldByOther = holder !== '' && holder !== this.opts.identity;
    if (heldByOther && now - this.observedAt < durationMs) {
      this.setLeader(false); // someone else holds a live Lease: we are not leader, whatever we thought
      return false;
    }
    await this.api.replaceNamespacedLease(
      { namespace: this.opts.namespace, name: this.opts.name, body: this.leaseBody(lease, now) },
      options,
    );
    signal.throwIfAborted();
    return this.won(now);
  }

  private won(now: number): boolean {
    this.lastRenew = now;
    this.observedVersion = undefined;
    this.setLeader(true);
    return true;
  }

  private lost(now: number): boolean {
    // A leader keeps its role through short API trouble, up to the renew deadline.
    if (this.leader && now - this.lastRenew < this.renewDeadlineMs) return true;
    this.setLeader(false);
    return false;
  }

  private async read(signal: AbortSignal): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease(
        { namespace: this.opts.namespace, name: this.opts.name },
        this.withSignal(signal),
      );
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private leaseBody(current: V1Lease | undefined, now: number): V1Lease {
    const previousHolder = current?.spec?.holderIdentity ?? '';
    const changed = previousHolder !== this.opts.identity;
    const transitions = current?.spec?.leaseTransitions ?? 0;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.opts.name,
        namespace: this.opts.namespace,
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: Math.max(1, Math.round(this.leaseDurationMs / 1000)),
        acquireTime: changed || !current?.spec?.acquireTime ? new V1MicroTime(now) : current.spec.acquireTime,
        renewTime: new V1MicroTime(now),
        leaseTransitions: current && changed && previousHolder !== '' ? transitions + 1 : transitions,
      },
    };
  }

  private async release(signal: AbortSignal): Promise<void> {
    const lease = await this.read(signal);
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    await this.api.replaceNamespacedLease(
      {
        namespace: this.opts.namespace,
        name: this.opts.name,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) },
        },
      },
      this.withSignal(signal),
    );
    this.logger.info({ lease: this.opts.name, identity: this.opts.identity }, 'released the leader Lease');
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.logger.info(
      { lease: this.opts.name, identity: this.opts.identity, leader },
      leader ? 'became leader' : 'lost leadership',
    );
    for (const l of this.listeners) {
      try {
        l(leader);
      } catch (err) {
        this.logger.error({ err: errorText(err) }, 'leadership listener failed');
      }
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.cycle = this.tryAcquireOrRenew().then(
        () => this.schedule(this.retryPeriodMs),
        () => this.schedule(this.retryPeriodMs),
      );
    }, delayMs);
    this.timer.unref();
  }
}

function errorText(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}`;
  return err instanceof Error ? err.message : String(err);
}
