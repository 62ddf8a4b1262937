/**
 * SharedDecisionStore: makes every scaler replica answer KEDA with the same decision.
 *
 * KEDA round-robins GetMetrics across scaler pods; if replicas computed on their own, two of them
 * could disagree and the HPA would flap. With Redis, only the leader computes and `publish`es;
 * every replica (leader included) keeps its local DecisionCache — which GetMetrics reads in one
 * Map lookup — in sync from Redis:
 *
 *  - Pub/sub on `wva:decisions` carries each published decision to every follower at once
 *    (sub-millisecond on a LAN), so the window in which two replicas answer differently is the
 *    network hop, not a poll interval. Polling every second would leave up to a second of
 *    disagreement and cost one SCAN per replica per second.
 *  - Pub/sub is at-most-once (a follower that is reconnecting misses messages), so `loadAll()`
 *    (SCAN `wva:decision:*` + MGET) also runs each time the subscriber's SUBSCRIBE is confirmed
 *    after a (re)connect, when Redis comes back, and every `resyncIntervalMs` (default 10 s) as
 *    a safety net. A leader re-writes and re-announces its decisions when Redis comes back
 *    (a restarted Redis may be empty).
 *  - A decision is applied only when it is newer (`decidedAt`) than the one already held, so
 *    late or replayed messages never roll a variant back.
 *  - A restarted process calls `loadAll()` before serving: it answers from Redis at once instead
 *    of leaving KEDA on its fallback until its first engine cycle.
 *
 * Without Redis every method still works on the local layer, and one process is the whole truth.
 */
import type { Redis } from 'ioredis';
import type { Decision } from '../domain/decision.js';
import type { Freshness } from '../domain/metrics.js';
import type { ServiceModelView } from '../domain/slo.js';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import type { DecisionCache } from './decision-cache.js';
import { decisionEventOf, type DecisionTrigger } from './decision-trigger.js';
import type { VariantRegistry } from './variant-registry.js';
import { CacheKeys } from './cache-keys.js';
import { MultiLayerCache } from './multi-layer-cache.js';
import type { RedisConnection } from './redis-connection.js';

export const DECISIONS_CHANNEL = 'wva:decisions';

export interface SharedDecisionStoreOptions {
  /** A MultiLayerCache<Decision> (see `createSharedDecisionCache`). */
  readonly cache: MultiLayerCache<Decision>;
  /** The connection the cache uses; absent = local only. */
  readonly connection?: RedisConnection | undefined;
  /** The process's DecisionCache that GetMetrics reads. */
  readonly decisions: DecisionCache;
  readonly logger: Logger;
  /** Identifies this replica's messages (e.g. POD_NAME). */
  readonly instanceId: string;
  readonly channel?: string;
  readonly resyncIntervalMs?: number;
  /**
   * True while this replica computes and publishes (the Lease, a RedisLock, or `() => true`
   * without Redis). Only a leader publishes from `startPublishing`; when Redis comes back a
   * leader re-writes what it published, a follower reloads.
   */
  readonly isLeader: () => boolean;
  /**
   * The process's DecisionTrigger. Followers fire it when a remote decision changes a variant's
   * desired count (or is its first), like the engine does, so StreamIsActive pushes and
   * GetMetrics waiters (DecisionWaiter) wake up; `startPublishing` listens to it on the leader.
   */
  readonly trigger?: DecisionTrigger;
  /** Called for each decision that arrived from another replica and changed the local cache. */
  readonly onRemoteDecision?: (current: Decision, previous: Decision | undefined) => void;
  /** Called when another replica removed a variant's decision. */
  readonly onRemoteDelete?: (variantKey: string) => void;
  /**
   * The process's variants. While leader, a variant removed from it loses its shared decision
   * too (Redis key and followers' copies): otherwise every replica's resync would load it back
   * for WVA_REDIS_TTL, and a ScaledObject re-created under the same name would start from it.
   */
  readonly registry?: Pick<VariantRegistry, 'onChange'>;
}

type ChannelMessage =
  | { readonly v: 1; readonly op: 'set'; readonly from: string; readonly decision: Decision }
  | { readonly v: 1; readonly op: 'delete'; readonly from: string; readonly variantKey: string };

/** The MultiLayerCache for decisions (TTLs: WVA_LOCAL_CACHE_TTL, WVA_REDIS_TTL). */
export function createSharedDecisionCache(deps: {
  localTtlMs: number;
  redisTtlMs: number;
  connection: RedisConnection | undefined;
  logger: Logger;
  metrics?: ScalerMetrics;
}): MultiLayerCache<Decision> {
  return new MultiLayerCache<Decision>({
    name: 'decisions',
    redis: deps.connection,
    localTtlMs: deps.localTtlMs,
    redisTtlMs: deps.redisTtlMs,
    parse: parseDecision,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}

export class SharedDecisionStore {
  private readonly channel: string;
  private readonly log: Logger;
  /** What this replica published, to re-write after a Redis outage while leader. */
  private readonly published = new Map<string, Decision>();
  private subscriber: Redis | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private offStateChange: (() => void) | undefined;
  private loading: Promise<number> | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private offTrigger: (() => void) | undefined;
  private offRegistry: (() => void) | undefined;

  constructor(private readonly opts: SharedDecisionStoreOptions) {
    this.channel = opts.channel ?? DECISIONS_CHANNEL;
    this.log = opts.logger.child({ component: 'shared-decisions' });
  }

  /**
   * Leader: stores the decision in both layers and tells the followers. Also updates this
   * process's DecisionCache. Never throws because of Redis.
   */
  async publish(decision: Decision): Promise<void> {
    const { current } = this.opts.decisions.set(decision);
    this.published.set(current.variantKey, current);
    await this.opts.cache.set(CacheKeys.decision(current.variantKey), current);
    await this.send({ v: 1, op: 'set', from: this.opts.instanceId, decision: current });
  }

  /**
   * Leader: publishes every decision in the DecisionCache decided since it was last published
   * (the engine re-decides every cycle, so this also keeps the Redis TTL from expiring on a
   * decision that never changes). Concurrent writes are pipelined by ioredis. Returns the count.
   */
  async publishChanged(): Promise<number> {
    if (!this.opts.isLeader()) return 0;
    const changed = this.opts.decisions
      .list()
      .filter((d) => (this.published.get(d.variantKey)?.decidedAt ?? -Infinity) < d.decidedAt);
    await Promise.all(changed.map((d) => this.publish(d)));
    return changed.length;
  }

  /**
   * Leader side, no change to the engine needed: each DecisionTrigger event (a changed desired
   * count) is published at once, and every `refreshIntervalMs` (use the engine interval) all
   * newer decisions are. Only while `isLeader()`.
   */
  startPublishing(refreshIntervalMs: number): void {
    const trigger = this.opts.trigger;
    if (!trigger) throw new Error('SharedDecisionStore.startPublishing needs the DecisionTrigger (option trigger)');
    if (this.publishTimer) return;
    this.offTrigger = trigger.subscribeAll((event) => {
      if (!this.opts.isLeader()) return;
      const d = this.opts.decisions.get(event.variantKey);
      if (d && (this.published.get(d.variantKey)?.decidedAt ?? -Infinity) < d.decidedAt) void this.publish(d);
    });
    this.offRegistry = this.opts.registry?.onChange((change) => {
      if (change.type === 'removed' && this.opts.isLeader()) {
        this.remove(change.variant.key).catch((err: unknown) =>
          this.log.warn(
            { err: String(err), variantKey: change.variant.key },
            'could not remove a shared decision; it expires with its TTL',
          ),
        );
      }
    });
    this.publishTimer = setInterval(() => void this.publishChanged(), refreshIntervalMs);
    this.publishTimer.unref();
  }

  /** Leader: a variant went away. */
  async remove(variantKey: string): Promise<void> {
    this.opts.decisions.delete(variantKey);
    this.published.delete(variantKey);
    await this.opts.cache.delete(CacheKeys.decision(variantKey));
    await this.send({ v: 1, op: 'delete', from: this.opts.instanceId, variantKey });
  }

  /** A variant's shared decision: local layer, then Redis. */
  async get(variantKey: string): Promise<Decision | undefined> {
    return this.opts.cache.get(CacheKeys.decision(variantKey));
  }

  /**
   * Loads every decision in Redis into the DecisionCache (newer ones only). Returns how many
   * changed the cache; 0 when Redis is down or not configured. Concurrent calls share one scan.
   */
  async loadAll(): Promise<number> {
    if (this.loading) return this.loading;
    this.loading = this.scanAndApply().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /**
   * Followers (and the leader, harmlessly): subscribe to the channel, reload on (re)connect and
   * every resyncIntervalMs. No-op without Redis.
   */
  startFollowing(): void {
    const connection = this.opts.connection;
    if (!connection || this.subscriber) return;
    const sub = connection.duplicateForSubscribe();
    this.subscriber = sub;
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.onMessage(text);
    });
    // After every (re)connect: once SUBSCRIBE is confirmed on this socket (so nothing published
    // from now on can be missed), fill in what was published while we were not listening.
    const subscribeThenLoad = (): void => {
      sub.subscribe(this.channel).then(
        () => void this.loadAll(),
        (err: unknown) => this.log.debug({ err: String(err) }, 'subscribe failed; retried on reconnect'),
      );
    };
    sub.on('ready', subscribeThenLoad);
    this.offStateChange = connection.onStateChange((up) => {
      if (!up) return;
      if (this.opts.isLeader()) void this.republish();
      else void this.loadAll();
    });
    this.resyncTimer = setInterval(() => void this.loadAll(), this.opts.resyncIntervalMs ?? 10_000);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.publishTimer) clearInterval(this.publishTimer);
    this.publishTimer = undefined;
    this.offTrigger?.();
    this.offTrigger = undefined;
    this.offRegistry?.();
    this.offRegistry = undefined;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.offStateChange?.();
    this.offStateChange = undefined;
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) {
      sub.removeAllListeners('message');
      sub.removeAllListeners('ready');
      sub.disconnect();
    }
  }

  /** Leadership moved away: stop re-writing old decisions after an outage. */
  forgetPublished(): void {
    this.published.clear();
  }

  private async republish(): Promise<void> {
    const decisions = [...this.published.values()];
    for (const d of decisions) {
      await this.opts.cache.set(CacheKeys.decision(d.variantKey), d);
      await this.send({ v: 1, op: 'set', from: this.opts.instanceId, decision: d });
    }
    if (decisions.length > 0)
      this.log.info({ count: decisions.length }, "redis back: re-published this leader's decisions");
  }

  private async scanAndApply(): Promise<number> {
    const found = await this.opts.cache.scanRedis(CacheKeys.prefix('decision'));
    if (!found) return 0;
    let changed = 0;
    for (const decision of found.values()) {
      this.opts.cache.setLocal(CacheKeys.decision(decision.variantKey), decision);
      if (this.applyIfNewer(decision)) changed++;
    }
    return changed;
  }

  /** True when the decision replaced an older one (or filled a gap). */
  private applyIfNewer(decision: Decision): boolean {
    const held = this.opts.decisions.get(decision.variantKey);
    if (held && held.decidedAt >= decision.decidedAt) return false;
    const { current, previous } = this.opts.decisions.set(decision);
    if (!previous || previous.desiredReplicas !== current.desiredReplicas) {
      this.opts.trigger?.publish(decisionEventOf(current));
    }
    try {
      this.opts.onRemoteDecision?.(current, previous);
    } catch (err) {
      this.log.error({ err: String(err), variantKey: decision.variantKey }, 'onRemoteDecision failed');
    }
    return true;
  }

  private onMessage(text: string): void {
    const message = parseChannelMessage(text);
    if (!message) {
      this.log.debug('ignoring malformed message on the decisions channel');
      return;
    }
    if (message.from === this.opts.instanceId) return;
    if (message.op === 'set') {
      this.opts.cache.setLocal(CacheKeys.decision(message.decision.variantKey), message.decision);
      this.applyIfNewer(message.decision);
      return;
    }
    this.published.delete(message.variantKey);
    void this.opts.cache.delete(CacheKeys.decision(message.variantKey));
    if (this.opts.decisions.delete(message.variantKey)) {
      try {
        this.opts.onRemoteDelete?.(message.variantKey);
      } catch (err) {
        this.log.error({ err: String(err), variantKey: message.variantKey }, 'onRemoteDelete failed');
      }
    }
  }

  private async send(message: ChannelMessage): Promise<void> {
    const connection = this.opts.connection;
    if (!connection) return;
    await connection.run((c) => c.publish(this.channel, JSON.stringify(message)));
  }
}

function parseChannelMessage(text: string): ChannelMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(raw) || raw.v !== 1 || typeof raw.from !== 'string') return undefined;
  if (raw.op === 'set') {
    const decision = parseDecision(raw.decision);
    return decision ? { v: 1, op: 'set', from: raw.from, decision } : undefined;
  }
  if (raw.op === 'delete' && typeof raw.variantKey === 'string' && raw.variantKey.includes('/')) {
    return { v: 1, op: 'delete', from: raw.from, variantKey: raw.variantKey };
  }
  return undefined;
}

const FRESHNESS: readonly Freshness[] = ['fresh', 'stale', 'unavailable'];

/** A Decision from JSON (Redis, pub/sub), or undefined when any field is missing or wrong. */
export function parseDecision(raw: unknown): Decision | undefined {
  if (!isRecord(raw)) return undefined;
  const r = raw;
  const str = (v: unknown): v is string => typeof v === 'string';
  const optStr = (v: unknown): v is string | undefined | null => v === undefined || v === null || typeof v === 'string';
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every(str);
  if (!str(r.variantKey) || !r.variantKey.includes('/') || !str(r.namespace) || !str(r.variantName) || !str(r.modelID))
    return undefined;
  if (!optStr(r.accelerator) || !optStr(r.clamp)) return undefined;
  if (!count(r.desiredReplicas) || !count(r.currentReplicas)) return undefined;
  if (!strings(r.reasons) || !strings(r.steps)) return undefined;
  const age = r.metricsAgeMs;
  if (!(age === undefined || age === null || (typeof age === 'number' && Number.isFinite(age) && age >= 0)))
    return undefined;
  if (!FRESHNESS.includes(r.freshness as Freshness)) return undefined;
  if (typeof r.decidedAt !== 'number' || !Number.isFinite(r.decidedAt)) return undefined;
  const nonNegative = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
  const waiting = nonNegative(r.modelWaiting);
  const completions = nonNegative(r.modelCompletions);
  return {
    variantKey: r.variantKey,
    namespace: r.namespace,
    variantName: r.variantName,
    modelID: r.modelID,
    accelerator: r.accelerator ?? undefined,
    desiredReplicas: r.desiredReplicas,
    currentReplicas: r.currentReplicas,
    reasons: r.reasons,
    steps: r.steps,
    clamp: r.clamp ?? undefined,
    metricsAgeMs: typeof age === 'number' ? age : undefined,
    freshness: r.freshness as Freshness,
    decidedAt: r.decidedAt,
    modelWaiting: waiting,
    modelCompletions: completions,
    gpuShortfall: nonNegative(r.gpuShortfall),
    serviceModel: serviceModelView(r.serviceModel),
  };
}

/** SLO mode's per-variant view (domain/slo.ts), or undefined when absent or malformed. */
function serviceModelView(v: unknown): ServiceModelView | undefined {
  if (!isRecord(v)) return undefined;
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!num(v.alpha) || !num(v.beta) || !num(v.gamma) || !num(v.samples) || typeof v.confident !== 'boolean')
    return undefined;
  return {
    alpha: v.alpha,
    beta: v.beta,
    gamma: v.gamma,
    samples: v.samples,
    confident: v.confident,
    ratePerReplica: num(v.ratePerReplica) ? v.ratePerReplica : undefined,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
