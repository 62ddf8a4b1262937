/**
 * SharedDecisionStore and RedisLock against a real redis-server: replicas sharing one Redis
 * agree on every variant's decision, a fresh process answers from Redis before it computes
 * anything, a follower catches up after Redis was killed and restarted, and the lock has one
 * holder at a time with takeover after expiry.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { decisionEventOf, DecisionTrigger, type DecisionEvent } from '../../src/cache/decision-trigger.js';
import { CacheKeys } from '../../src/cache/cache-keys.js';
import { RedisConnection } from '../../src/cache/redis-connection.js';
import { RedisLock } from '../../src/cache/redis-lock.js';
import { VariantRegistry } from '../../src/cache/variant-registry.js';
import { SharedDecisionStore, createSharedDecisionCache } from '../../src/cache/shared-decisions.js';
import type { Decision } from '../../src/domain/decision.js';
import { silentLogger } from '../../src/observability/logger.js';
import { waitFor } from '../helpers/ports.js';
import { RedisServer } from '../helpers/redis.js';

let server: RedisServer;
let raw: Redis;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  raw = new Redis(server.url, { retryStrategy: () => 100 });
  raw.on('error', () => undefined);
});
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await server.start();
  await waitFor(async () => (await raw.ping().catch(() => '')) === 'PONG', 5_000, 'raw client');
  await raw.flushall();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connection(): Promise<RedisConnection> {
  const c = new RedisConnection({
    url: server.url,
    logger: silentLogger(),
    probeIntervalMs: 50,
    commandTimeoutMs: 200,
  });
  cleanups.push(() => c.close());
  expect(await c.waitUntilUp(5_000)).toBe(true);
  return c;
}

/** One scaler replica's view: its own connection, multi-layer cache and DecisionCache. */
async function replica(
  id: string,
  opts: { leader?: boolean; follow?: boolean; registry?: VariantRegistry } = {},
): Promise<{
  store: SharedDecisionStore;
  decisions: DecisionCache;
  trigger: DecisionTrigger;
  connection: RedisConnection;
  remote: Decision[];
}> {
  const conn = await connection();
  const decisions = new DecisionCache();
  const trigger = new DecisionTrigger();
  const remote: Decision[] = [];
  const store = new SharedDecisionStore({
    cache: createSharedDecisionCache({
      localTtlMs: 5000,
      redisTtlMs: 600_000,
      connection: conn,
      logger: silentLogger(),
    }),
    connection: conn,
    decisions,
    trigger,
    logger: silentLogger(),
    instanceId: id,
    resyncIntervalMs: 60_000,
    isLeader: () => opts.leader === true,
    onRemoteDecision: (d) => void remote.push(d),
    ...(opts.registry ? { registry: opts.registry } : {}),
  });
  if (opts.follow !== false) store.startFollowing();
  cleanups.push(() => store.stop());
  return { store, decisions, trigger, connection: conn, remote };
}

function decision(i: number, desired: number, decidedAt: number): Decision {
  return {
    variantKey: `prod/variant-${i}`,
    namespace: 'prod',
    variantName: `variant-${i}`,
    modelID: `org/model-${i % 7}`,
    accelerator: i % 2 === 0 ? 'H100' : undefined,
    desiredReplicas: desired,
    currentReplicas: Math.max(0, desired - 1),
    reasons: [`reason ${i}`],
    steps: ['analyze', 'target'],
    clamp: undefined,
    metricsAgeMs: 500,
    freshness: 'fresh',
    decidedAt,
  };
}

/** Waits until the follower holds exactly what the leader holds, for every variant. */
async function converged(leader: DecisionCache, follower: DecisionCache, n: number): Promise<void> {
  await waitFor(
    () => {
      if (follower.size !== n) return false;
      return leader.list().every((d) => {
        const f = follower.get(d.variantKey);
        return f !== undefined && f.desiredReplicas === d.desiredReplicas && f.decidedAt === d.decidedAt;
      });
    },
    5_000,
    `follower converged on ${n} decisions`,
  );
}

describe('SharedDecisionStore on a real redis-server', () => {
  it('two replicas sharing one Redis see the same decision for every variant', async () => {
    const leader = await replica('leader', { leader: true });
    const follower = await replica('follower');
    await new Promise((r) => setTimeout(r, 100)); // subscriber connected
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) await leader.store.publish(decision(i, 1 + (i % 5), t0));
    await converged(leader.decisions, follower.decisions, 200);
    // A second round changes every answer; the follower follows.
    for (let i = 0; i < 200; i++) await leader.store.publish(decision(i, 10 + (i % 3), t0 + 1_000));
    await converged(leader.decisions, follower.decisions, 200);
    for (let i = 0; i < 200; i++) {
      const key = `prod/variant-${i}`;
      expect((await follower.store.get(key))?.desiredReplicas).toBe(leader.decisions.get(key)?.desiredReplicas);
    }
    expect(follower.remote.length).toBeGreaterThanOrEqual(400);
    // Decisions from JSON keep their undefined fields and are frozen in the DecisionCache.
    const f1 = follower.decisions.get('prod/variant-1');
    expect(f1?.accelerator).toBeUndefined();
    expect(Object.isFrozen(f1)).toBe(true);
  });

  it('startPublishing: an engine-style write on the leader reaches the follower and fires its trigger', async () => {
    const leader = await replica('leader', { leader: true });
    const follower = await replica('follower');
    leader.store.startPublishing(100);
    await new Promise((r) => setTimeout(r, 100));
    const events: DecisionEvent[] = [];
    follower.trigger.subscribe('prod/variant-1', (e) => void events.push(e));
    // What the engine does: DecisionCache.set, then a trigger event when the count changed.
    const write = (d: Decision, changed: boolean): void => {
      leader.decisions.set(d);
      if (changed) leader.trigger.publish(decisionEventOf(d));
    };
    write(decision(1, 0, 1_000), true);
    await waitFor(() => events.length === 1, 5_000, 'follower trigger event');
    expect(events[0]).toMatchObject({ variantKey: 'prod/variant-1', desiredReplicas: 0, active: false });
    write(decision(1, 2, 2_000), true);
    await waitFor(() => events.length === 2 && events[1]?.active === true, 5_000, 'activation event on follower');
    // Same count, new cycle: no trigger event, but the periodic refresh still publishes it
    // (fresh reasons, Redis TTL renewed).
    write(decision(1, 2, 3_000), false);
    await waitFor(() => follower.decisions.get('prod/variant-1')?.decidedAt === 3_000, 5_000, 'refresh published');
    expect(events).toHaveLength(2);
    // A follower never publishes, even when its trigger fires.
    follower.store.startPublishing(50);
    await new Promise((r) => setTimeout(r, 150));
    expect(await follower.store.publishChanged()).toBe(0);
  });

  it('an older decision (late message or replay) never replaces a newer one', async () => {
    const leader = await replica('leader', { leader: true });
    const follower = await replica('follower');
    await new Promise((r) => setTimeout(r, 100));
    await leader.store.publish(decision(1, 5, 2_000));
    await converged(leader.decisions, follower.decisions, 1);
    const other = await replica('old-leader');
    await other.store.publish(decision(1, 2, 1_000)); // stale
    await new Promise((r) => setTimeout(r, 200));
    expect(follower.decisions.get('prod/variant-1')?.desiredReplicas).toBe(5);
  });

  it('a removed variant disappears from the followers', async () => {
    const leader = await replica('leader', { leader: true });
    const follower = await replica('follower');
    await new Promise((r) => setTimeout(r, 100));
    await leader.store.publish(decision(1, 3, 1));
    await converged(leader.decisions, follower.decisions, 1);
    await leader.store.remove('prod/variant-1');
    await waitFor(() => follower.decisions.get('prod/variant-1') === undefined, 5_000, 'removed on follower');
    expect(await raw.exists(CacheKeys.decision('prod/variant-1'))).toBe(0);
  });

  it("a variant leaving the leader's registry loses its shared decision: no resync brings it back", async () => {
    const leaderVariants = new VariantRegistry();
    const followerVariants = new VariantRegistry();
    const leader = await replica('leader', { leader: true, registry: leaderVariants });
    const follower = await replica('follower', { registry: followerVariants });
    leader.store.startPublishing(60_000);
    follower.store.startPublishing(60_000);
    await new Promise((r) => setTimeout(r, 100));
    const variant = (name: string) => ({
      key: `prod/${name}`,
      namespace: 'prod',
      name,
      modelID: 'org/model-1',
      accelerator: undefined,
      cost: 10,
      deployment: name,
      minReplicas: 0,
      maxReplicas: 10,
      saturation: {},
      scaleToZero: undefined,
      scaleToZeroRetentionMs: undefined,
      source: 'scaledobject' as const,
      deleting: false,
    });
    for (const r of [leaderVariants, followerVariants])
      for (const n of ['variant-1', 'variant-2']) r.upsert(variant(n));
    await leader.store.publish(decision(1, 3, 1));
    await leader.store.publish(decision(2, 4, 1));
    await converged(leader.decisions, follower.decisions, 2);
    // A follower's registry is not the authority: its removal touches nothing shared.
    followerVariants.remove('prod/variant-2');
    await new Promise((r) => setTimeout(r, 100));
    expect(await raw.exists(CacheKeys.decision('prod/variant-2'))).toBe(1);
    // The leader's is.
    leaderVariants.remove('prod/variant-1');
    await waitFor(() => follower.decisions.get('prod/variant-1') === undefined, 5_000, 'removed on follower');
    expect(leader.decisions.get('prod/variant-1')).toBeUndefined();
    expect(await raw.exists(CacheKeys.decision('prod/variant-1'))).toBe(0);
    expect(await follower.store.loadAll()).toBe(0);
    expect(follower.decisions.get('prod/variant-1')).toBeUndefined();
    expect(follower.decisions.get('prod/variant-2')?.desiredReplicas).toBe(4);
  });

  it('a freshly started replica answers from Redis right after loadAll(), before any engine cycle', async () => {
    const leader = await replica('leader', { leader: true });
    for (let i = 0; i < 300; i++) await leader.store.publish(decision(i, 2 + (i % 4), 5_000));
    const fresh = await replica('restarted', { follow: false });
    expect(fresh.decisions.size).toBe(0);
    expect(await fresh.store.loadAll()).toBe(300);
    for (const d of leader.decisions.list()) {
      expect(fresh.decisions.get(d.variantKey)?.desiredReplicas).toBe(d.desiredReplicas);
    }
    expect(await fresh.store.loadAll()).toBe(0); // nothing newer the second time
  });

  it('after Redis was killed and restarted (empty), the leader re-publishes and the follower catches up', async () => {
    const leader = await replica('leader', { leader: true });
    const follower = await replica('follower');
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 20; i++) await leader.store.publish(decision(i, 1, 1_000));
    await converged(leader.decisions, follower.decisions, 20);

    await server.stop();
    await waitFor(() => !leader.connection.isUp(), 5_000, 'leader sees redis down');
    // While down, publishing never throws and the leader keeps answering locally.
    for (let i = 0; i < 20; i++) await leader.store.publish(decision(i, 4, 2_000));
    expect(leader.decisions.get('prod/variant-3')?.desiredReplicas).toBe(4);
    expect(follower.decisions.get('prod/variant-3')?.desiredReplicas).toBe(1);

    await server.start(); // no persistence: Redis is empty now
    await waitFor(() => leader.connection.isUp() && follower.connection.isUp(), 10_000, 'both reconnected');
    await waitFor(
      async () => (await raw.exists(CacheKeys.decision('prod/variant-19'))) === 1,
      5_000,
      'leader re-published',
    );
    // By itself (periodic resync is 60 s here, so this is the reconnect path): the re-published
    // messages or the reload after re-subscribing.
    await converged(leader.decisions, follower.decisions, 20);
  });
});

describe('RedisLock on a real redis-server', () => {
  async function lock(id: string, ttlMs = 600): Promise<RedisLock> {
    const l = new RedisLock({
      connection: await connection(),
      key: CacheKeys.lock('wva-system', 'engine'),
      holderId: id,
      ttlMs,
      renewIntervalMs: ttlMs / 3,
      logger: silentLogger(),
    });
    cleanups.push(() => l.stop());
    return l;
  }

  it('one holder at a time among contenders; the holder renews past its TTL', async () => {
    const locks = await Promise.all(['a', 'b', 'c', 'd'].map((id) => lock(id)));
    await Promise.all(locks.map((l) => l.tick()));
    expect(locks.filter((l) => l.isLeader())).toHaveLength(1);
    const holder = locks.find((l) => l.isLeader());
    expect(await raw.get(CacheKeys.lock('wva-system', 'engine'))).toBe(holder?.token);
    for (const l of locks) l.start();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100)); // 1 s in all: past the 600 ms TTL
      expect(locks.filter((l) => l.isLeader())).toHaveLength(1);
    }
    expect(holder?.isLeader()).toBe(true);
  });

  it('another replica takes over after the holder stops renewing and its lock expires', async () => {
    const a = await lock('a', 400);
    const b = await lock('b', 400);
    await a.tick();
    await b.tick();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    const changes: boolean[] = [];
    b.onChange((leader) => changes.push(leader));
    // a crashes: no renew, no release. b keeps trying.
    b.start();
    await waitFor(() => b.isLeader(), 3_000, 'takeover by b');
    expect(changes).toEqual([true]);
    // a's renewal now fails (token mismatch): it steps down instead of renewing b's lock.
    await a.tick();
    expect(a.isLeader()).toBe(false);
    expect(await raw.get(CacheKeys.lock('wva-system', 'engine'))).toBe(b.token);
  });

  it('stop() releases at once, and only its own lock', async () => {
    const a = await lock('a', 5_000);
    const b = await lock('b', 5_000);
    await a.tick();
    await a.stop();
    expect(await raw.exists(CacheKeys.lock('wva-system', 'engine'))).toBe(0);
    await b.tick();
    expect(b.isLeader()).toBe(true); // no need to wait 5 s
    // a stale release by a (already stopped, not leader) cannot delete b's lock
    await a.stop();
    expect(await raw.get(CacheKeys.lock('wva-system', 'engine'))).toBe(b.token);
  });

  it('a leader that cannot reach Redis steps down before its lock could expire', async () => {
    const a = await lock('a', 600);
    a.start();
    await waitFor(() => a.isLeader(), 2_000, 'a leads');
    const lostAt: number[] = [];
    a.onChange((leader) => (leader ? undefined : lostAt.push(performance.now())));
    const stoppedAt = performance.now();
    await server.stop();
    await waitFor(() => !a.isLeader(), 3_000, 'a steps down');
    expect((lostAt[0] ?? Infinity) - stoppedAt).toBeLessThan(600);
  });
});
