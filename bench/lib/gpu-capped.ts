/**
 * A cluster whose GPUs run out, for the quality bench (issue 21, "a scenario with a capped GPU type"):
 *
 *  - `cappedTokenFleet` wraps the token-level fleet so that a Deployment gets pods only while GPUs of its type are
 *    free (one GPU per replica). Replicas beyond that are Pending: the Deployment reports them in `current` (the HPA
 *    created them, so they cost), never in `ready`, and the fleet does not start them until a GPU frees up; then their
 *    start-up begins, as a pod's does once the scheduler binds it. Pods that hold GPUs keep them; Kubernetes removes
 *    Pending pods first on a scale-down, so a Deployment's bound pods are min(replicas, what it held). Types without a
 *    cap are unlimited. Bench wiring only: the fleet itself is unchanged.
 *  - `cappedInventory` is the GpuInventory snapshot Kubernetes would show for that cluster, from the replica counts a
 *    policy observes: what the Engine shell's placement stage reads in a real cluster.
 *  - `PlacementStage` is the Engine shell's `place()` for one model (src/engine/engine.ts): the pure `placeModels`
 *    after `decideModel`, through `placementModelOf` / `isSteady` / `withPlacement`, with the shell's memory of
 *    blocked variants and moves back.
 *  - `CappedOracle` is the reactive (or forecast) oracle for several variants on a capped cluster: it knows each
 *    variant's throughput and the caps, and never asks for a replica that cannot be placed.
 */
import { resolvePriority } from '../../src/config/saturation-config.js';
import type { Decision } from '../../src/domain/decision.js';
import {
  DEFAULT_LIMITER_CONFIG,
  type GpuInventory,
  type GpuTypeInventory,
  type VariantGpu,
} from '../../src/domain/gpu.js';
import { modelKey, type Variant } from '../../src/domain/variant.js';
import { scaleUpCap } from '../../src/engine/capacity-targets.js';
import { returnHoldMs } from '../../src/engine/engine.js';
import {
  isSteady,
  placementModelOf,
  withPlacement,
  type DecisionConfig,
  type ModelOutcome,
} from '../../src/engine/model-decision.js';
import { placeModels, type RebalanceMemory } from '../../src/engine/placement.js';
import type { VariantState } from '../../src/engine/saturation-analyzer.js';
import type { PolicyObservation, PolicyOutput, ScalingPolicy } from './quality-policies.js';
import type { TokenFleet, TokenFleetFactory } from './token-fleet.js';

/** GPUs in the cluster per accelerator type (one per replica); a type not listed has as many as anyone asks for. */
export type GpuCaps = ReadonlyMap<string, number>;

/**
 * Pods holding GPUs per Deployment, in the order given: first every Deployment keeps the pods it had bound (up to its
 * replicas and the cap), then the free GPUs of each type go to the Deployments still short, in order.
 */
export function boundReplicas(
  deployments: readonly { readonly name: string; readonly type: string | undefined; readonly replicas: number }[],
  held: ReadonlyMap<string, number>,
  caps: GpuCaps,
): Map<string, number> {
  const room = new Map(caps);
  const out = new Map<string, number>();
  for (const d of deployments) {
    const r = d.type === undefined ? undefined : room.get(d.type);
    const keep = Math.min(d.replicas, held.get(d.name) ?? 0, r === undefined ? Infinity : Math.max(0, r));
    out.set(d.name, keep);
    if (d.type !== undefined && r !== undefined) room.set(d.type, r - keep);
  }
  for (const d of deployments) {
    const have = out.get(d.name) ?? 0;
    const r = d.type === undefined ? undefined : room.get(d.type);
    const add = r === undefined ? d.replicas - have : Math.min(d.replicas - have, Math.max(0, r));
    out.set(d.name, have + add);
    if (d.type !== undefined && r !== undefined) room.set(d.type, r - add);
  }
  return out;
}

/** The token fleet on a cluster with `caps` GPUs per type: replicas beyond them stay Pending and serve nothing. */
export function cappedTokenFleet(inner: TokenFleetFactory, caps: GpuCaps): TokenFleetFactory {
  return (o): TokenFleet => {
    for (const v of o.variants)
      if (v.speedChange && caps.has(v.accelerator))
        throw new Error(`capped fleet: ${v.deployment} changes GPU mid-run, not modelled with a cap`);
    const wanted = new Map(o.variants.map((v) => [v.deployment, v.replicas]));
    const spec = (): { name: string; type: string; replicas: number }[] =>
      o.variants.map((v) => ({ name: v.deployment, type: v.accelerator, replicas: wanted.get(v.deployment) ?? 0 }));
    let bound = boundReplicas(spec(), new Map(), caps);
    const fleet = inner({ ...o, variants: o.variants.map((v) => ({ ...v, replicas: bound.get(v.deployment) ?? 0 })) });
    /** Binds what now fits (a scale-down frees GPUs for another Deployment's Pending pods at once). */
    const rebind = (namespace: string): void => {
      const next = boundReplicas(spec(), bound, caps);
      for (const [d, n] of next) if (n !== bound.get(d)) fleet.setReplicas(namespace, d, n);
      bound = next;
    };
    return {
      enqueueRequests: (ns, id, requests) => fleet.enqueueRequests(ns, id, requests),
      step: (ms) => fleet.step(ms),
      setReplicas: (ns, d, n) => {
        if (!wanted.has(d)) return fleet.setReplicas(ns, d, n);
        wanted.set(d, n);
        rebind(ns);
      },
      deploymentStatus: (ns, d) => {
        const st = fleet.deploymentStatus(ns, d);
        const w = wanted.get(d);
        return st && w !== undefined ? { current: w, ready: Math.min(st.ready, w) } : st;
      },
      model: () => fleet.model(),
      resetStats: () => fleet.resetStats(),
    };
  };
}

/** The GPU resource every variant of the bench requests (one per replica). */
const RESOURCE = 'nvidia.com/gpu';

/**
 * The inventory Kubernetes would show of a capped cluster when the variants have these replica counts: each capped
 * type as `cap` one-GPU nodes, bound pods first (in variant order, as `boundReplicas` binds them), the replicas
 * beyond the cap Unschedulable (and their variant full, as the kube layer marks it). A type without a cap gets as
 * many free GPUs as every variant on it could ask for (its max replicas): room that never binds.
 */
export function cappedInventory(caps: GpuCaps, variants: readonly VariantState[]): GpuInventory {
  const typeOf = (v: Variant): string => v.accelerator ?? 'unknown';
  const held = new Map(variants.map((s) => [s.variant.key, s.current]));
  const bound = boundReplicas(
    variants.map((s) => ({ name: s.variant.key, type: typeOf(s.variant), replicas: s.current })),
    held,
    caps,
  );
  const types = new Map<string, GpuTypeInventory>();
  const vgs = new Map<string, VariantGpu>();
  for (const type of new Set(variants.map((s) => typeOf(s.variant)))) {
    const mine = variants.filter((s) => typeOf(s.variant) === type);
    const used = mine.reduce((n, s) => n + (bound.get(s.variant.key) ?? 0), 0);
    const allocatable =
      caps.get(type) ??
      Math.max(
        used,
        mine.reduce((n, s) => n + s.variant.maxReplicas, 0),
      );
    const byNamespace = new Map<string, number>();
    for (const s of mine)
      byNamespace.set(
        s.variant.namespace,
        (byNamespace.get(s.variant.namespace) ?? 0) + (bound.get(s.variant.key) ?? 0),
      );
    types.set(type, {
      type,
      resource: RESOURCE,
      allocatable,
      nodeFree: Array.from({ length: allocatable }, (_, i) => (i < used ? 0 : 1)),
      used,
      usedByNamespace: byNamespace,
    });
  }
  for (const s of variants) {
    const unschedulable = Math.max(0, s.current - (bound.get(s.variant.key) ?? 0));
    vgs.set(s.variant.key, {
      type: typeOf(s.variant),
      resource: RESOURCE,
      gpusPerReplica: 1,
      unschedulable,
      fullReason: unschedulable > 0 ? `${unschedulable} pod(s) Unschedulable (${typeOf(s.variant)} full)` : undefined,
    });
  }
  return { types, variants: vgs, namespaceQuotas: new Map() };
}

/**
 * The Engine shell's placement stage for one model against `cappedInventory`: what `Engine.place()` does with the
 * kube layer's snapshot, including its memory (when each variant was last blocked, each model's last move back).
 */
export class PlacementStage {
  private readonly lastBlockedAt = new Map<string, number>();
  private readonly lastRebalance = new Map<string, RebalanceMemory>();

  constructor(
    private readonly caps: GpuCaps,
    private readonly config: DecisionConfig,
    private readonly engineIntervalMs: number,
  ) {}

  readonly place = (
    obs: PolicyObservation,
    outcome: ModelOutcome,
    previous: ReadonlyMap<string, Decision>,
  ): ModelOutcome => {
    if (outcome.decisions.length === 0) return outcome;
    const key = modelKey(obs.namespace, obs.modelID);
    const model = placementModelOf(
      key,
      obs.namespace,
      resolvePriority(this.config.saturation, obs.namespace, obs.modelID),
      obs.variants,
      outcome,
      isSteady(outcome, previous),
    );
    const result = placeModels({
      models: [model],
      inventory: cappedInventory(this.caps, obs.variants),
      limits: this.config.saturation.limiter ?? DEFAULT_LIMITER_CONFIG,
      now: obs.now,
      lastBlockedAt: this.lastBlockedAt,
      lastRebalance: this.lastRebalance,
      returnHoldMs: returnHoldMs(this.engineIntervalMs),
    });
    for (const k of result.blocked) this.lastBlockedAt.set(k, obs.now);
    const p = result.models.get(key);
    if (!p) return outcome;
    if (p.rebalance) this.lastRebalance.set(key, p.rebalance);
    return withPlacement(outcome, p);
  };
}

/**
 * Free GPUs per variant (replicas of it that could still be placed), as WVA v0.9's gpu-inventory limiter sees them:
 * the type's free GPUs, one per replica. Variants sharing a type each see the whole room (the bench's capped
 * scenario has one variant per type).
 */
export function freeReplicas(caps: GpuCaps, variants: readonly VariantState[]): Map<string, number> {
  const inv = cappedInventory(caps, variants);
  const out = new Map<string, number>();
  for (const s of variants) {
    const t = inv.types.get(s.variant.accelerator ?? 'unknown');
    out.set(s.variant.key, t ? t.nodeFree.reduce((n, f) => n + f, 0) : Infinity);
  }
  return out;
}

/**
 * The oracles on several variants: the reactive oracle's sizing (OraclePolicy: the offered rate plus the backlog as
 * it will be when pods asked for now are ready, drained within `drainS`, at most `maxScaleUpRate` x current) in
 * requests per second, filled cheapest variant first up to its max and its type's cap, the rest on the next. It
 * knows each accelerator's throughput at the mix and the caps, so it asks for nothing that cannot be placed.
 */
export class CappedOracle implements ScalingPolicy {
  readonly name: string;

  constructor(
    /** Requests per second one replica of each accelerator (by name) serves, at the oracle's utilisation. */
    private readonly rpsOf: ReadonlyMap<string, number>,
    private readonly caps: GpuCaps,
    private readonly startupS: number,
    private readonly drainS: number,
    private readonly maxScaleUpRate: number,
    private readonly lookaheadS = 0,
  ) {
    this.name = lookaheadS > 0 ? `forecast oracle, ${lookaheadS} s ahead (reference)` : 'reactive oracle (reference)';
  }

  private rps(s: VariantState): number {
    const r = this.rpsOf.get(s.variant.accelerator ?? '');
    if (r === undefined || !(r > 0)) throw new Error(`oracle: no throughput for ${s.variant.accelerator ?? '?'}`);
    return r;
  }

  decide(obs: PolicyObservation): PolicyOutput {
    const readyRps = obs.variants.reduce((n, s) => n + Math.min(s.ready, s.current) * this.rps(s), 0);
    const pendingRps = obs.variants.reduce((n, s) => n + Math.max(0, s.current - s.ready) * this.rps(s), 0);
    const gateway = obs.metrics.gatewayQueue ?? 0;
    const shortfall = Math.max(0, obs.offeredRps - readyRps - pendingRps / 2);
    const backlog = gateway + (gateway > 0 ? shortfall * this.startupS : 0);
    const rate =
      this.lookaheadS > 0 ? Math.max(obs.offeredRps, obs.peakOfferedRps(this.lookaheadS * 1000)) : obs.offeredRps;
    let left = rate + backlog / this.drainS;
    const room = freeReplicas(this.caps, obs.variants);
    const values = new Map<string, number>();
    const byCost = [...obs.variants].sort(
      (a, b) => a.variant.cost - b.variant.cost || (a.variant.key < b.variant.key ? -1 : 1),
    );
    for (const s of byCost) {
      const fits = Math.min(s.variant.maxReplicas, s.current + (room.get(s.variant.key) ?? 0));
      const want = Math.max(s.variant.minReplicas, Math.ceil(left / this.rps(s) - 1e-9));
      const n = Math.max(s.variant.minReplicas, Math.min(want, fits, scaleUpCap(s.current, this.maxScaleUpRate)));
      values.set(s.variant.key, n);
      left = Math.max(0, left - n * this.rps(s));
    }
    return { values, target: 1, note: `rate ${rate.toFixed(1)} backlog ${backlog.toFixed(0)}` };
  }
}
