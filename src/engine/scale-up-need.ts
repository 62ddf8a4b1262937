/**
 * Step 3's need: how many replicas the model's load needs, by saturation (load over the per-replica
 * target, the gateway's queue counted as waiting; the KV load in tokens where every replica reports
 * its capacity) or the smaller throughput need when the replicas report completions. `factor`
 * scales the load (the look-ahead asks what the load one start-up ahead needs).
 */
import { cheapestFirst, inOrder, type ModelContext } from './model-context.js';
import { fmt } from './saturation-analyzer.js';
import { replicasNeeded, throughputNeed, waitingLoad } from './sizing.js';
import { replicasForTokens } from './token-capacity.js';
import { nextStartup, pendingReadyInS } from './lookahead.js';
import { mixedSizing } from './mixed-throughput.js';

export interface ScaleUpNeed {
  readonly needed: number;
  /** Each variant's learned rate when the need was sized by them (mixed-throughput.ts). */
  readonly capacities?: ReadonlyMap<string, number>;
  /** What sized it, for the reasons. */
  readonly load: string;
}

/** The KV need: in tokens when the feature is on and every reporting replica reports its capacity. */
function kvNeed(ctx: ModelContext, factor: number): { needed: number; text: string } {
  const a = ctx.analysis;
  const tokens = ctx.features.tokenCapacity ? a.tokens : undefined;
  if (!tokens) {
    const kv = a.totalKv * factor;
    return {
      needed: replicasNeeded(kv, ctx.kvPerReplica),
      text: `KV load ${fmt(kv)} at <= ${fmt(ctx.kvPerReplica)}/replica`,
    };
  }
  const next = inOrder(ctx, cheapestFirst).find((s) => s.current < s.variant.maxReplicas);
  const newCapacity = (next && tokens.capacityByVariant.get(next.variant.key)) ?? tokens.meanCapacity;
  const current = new Map(ctx.states.map((s) => [s.variant.key, s.current]));
  const scaled = { ...tokens, demandTokens: tokens.demandTokens * factor };
  const queued = tokens.queuedTokens > 0 ? ` (${Math.round(tokens.queuedTokens * factor)} queued)` : '';
  return {
    needed: replicasForTokens(scaled, current, ctx.kvPerReplica, newCapacity),
    text: `KV demand ${Math.round(scaled.demandTokens)} tokens${queued} at <= ${fmt(ctx.kvPerReplica)} of each replica's capacity`,
  };
}

export function scaleUpNeed(ctx: ModelContext, factor = 1): ScaleUpNeed {
  const a = ctx.analysis;
  const gateway = a.gatewayQueue ?? 0;
  const queueLoad = waitingLoad(a);
  const kv = kvNeed(ctx, factor);
  // The look-ahead's factor scales the KV load (work in progress grows with arrivals, Little's law),
  // not the queue: a short queue below its threshold is requests waiting for the next step, and
  // scaling its 1-minute peak by the trend bought a replica on noise (Azure trace at 5.5 req/s).
  const bySaturation = Math.max(kv.needed, replicasNeeded(queueLoad, ctx.queuePerReplica));
  // A backlog is not load that needs replicas for ever: when throughput is known it sizes the need.
  const startup = nextStartup(ctx);
  const startupS = startup.seconds;
  const pendingReadyIn = a.pendingTotal > 0 ? pendingReadyInS(ctx, startup) : undefined;
  const mixed = mixedSizing(ctx, pendingReadyIn);
  const byThroughput = throughputNeed(a, queueLoad, ctx.previousLoad, {
    learnedRate: ctx.learnedRate,
    factor,
    startupS,
    mixed,
    pendingReadyInS: pendingReadyIn,
  });
  const needed = byThroughput ? Math.min(bySaturation, byThroughput.needed) : bySaturation;
  const atGateway = gateway > 0 ? ` (${fmt(gateway)} at the gateway)` : '';
  const fromThroughput = byThroughput !== undefined && byThroughput.needed < bySaturation;
  const load = fromThroughput
    ? `throughput: ${byThroughput.why}`
    : `${kv.text}, queue ${fmt(queueLoad)}${atGateway} at <= ${fmt(ctx.queuePerReplica)}/replica`;
  // A need in replicas of the next variant: placement converts a spill to another by these rates.
  return fromThroughput && mixed ? { needed, load, capacities: mixed.rates } : { needed, load };
}
