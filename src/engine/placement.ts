/**
 * Placement (pure): the last stage of a cycle where Kubernetes shows the GPUs. It takes every
 * model's targets (steps 3-7, computed as if GPUs were endless) and one inventory snapshot, and
 * returns targets that fit: no decision asks for replicas that cannot be placed.
 *
 *  - Replicas a variant keeps (up to its current count) are never touched: their pods exist.
 *  - New replicas go, one at a time, to the cheapest variant of their model that is below its max
 *    and has room: a node of its accelerator type with enough free GPUs for one replica, the
 *    operator's quotas (WVA v0.9 `limiters:`, cluster and namespace scope) and the namespace's
 *    ResourceQuota on GPU requests. When the cheap type is exhausted they spill over to the
 *    next-cheapest variant with room. A replica that fits nowhere is not asked for: it is the
 *    model's shortfall, said in a reason (code `gpu-shortfall`).
 *  - A variant whose pods stay Unschedulable (fragmentation, taints: what counts cannot show)
 *    is full: those replicas move to the next variant with room.
 *  - Models competing for one type share it by priority, as WVA's GreedyByScore optimizer does
 *    (llm-d WVA internal/engines/pipeline/greedy_score_optimizer.go, fairShareValue: priority x
 *    unmet demand): each next replica goes to the model with the highest priority x replicas
 *    still wanted, ties by model key, so the split ends where those products are level.
 *  - Coming back: a model holding steady (fresh data, nothing pending, nothing in flight) with a
 *    replica on a dearer variant gets one replica on a cheaper variant that was blocked earlier and
 *    has had room for `returnHoldMs` (hysteresis); the scale-down step then removes the dearer one
 *    (most expensive first) once the new one is ready. One move at a time per model, the next only
 *    after the dearer variant shrank (or ten holds passed), so a move the load cannot afford is
 *    not repeated.
 *
 * Variants whose pod template requests no GPU, or whose Deployment is not seen yet, are not
 * limited (said in a trace line).
 */
import {
  namespaceCap,
  replicasThatFit,
  UNLIMITED,
  type GpuInventory,
  type LimiterConfig,
  type VariantGpu,
} from '../domain/gpu.js';
import type { Variant } from '../domain/variant.js';
import { reasonNote, traceNote, type Note } from './notes.js';

export interface PlacementVariant {
  readonly variant: Variant;
  readonly current: number;
  /** The target steps 3-7 chose (min/max applied). */
  readonly desired: number;
  /**
   * What one replica serves in the unit the model was sized in (SLO mode: req/s within its
   * targets). Absent on every variant: replicas are interchangeable (saturation sizing).
   */
  readonly capacity?: number | undefined;
}

export interface PlacementModel {
  /** `namespace/modelID`. */
  readonly key: string;
  readonly namespace: string;
  /** WVA's `priority` (> 0, default 1). */
  readonly priority: number;
  readonly variants: readonly PlacementVariant[];
  /** Holding with fresh, complete data, nothing pending and nothing in flight: it may move back. */
  readonly steady: boolean;
}

/** The last move back to a cheaper variant, per model (kept by the engine shell). */
export interface RebalanceMemory {
  readonly at: number;
  /** The dearer variant a replica should leave, and its replicas then. */
  readonly from: string;
  readonly fromCurrent: number;
}

export interface PlacementInput {
  readonly models: readonly PlacementModel[];
  readonly inventory: GpuInventory;
  readonly limits: LimiterConfig;
  readonly now: number;
  /** Last time each variant wanted room and had none (kept by the engine shell). */
  readonly lastBlockedAt: ReadonlyMap<string, number>;
  readonly lastRebalance: ReadonlyMap<string, RebalanceMemory>;
  /** How long a blocked variant must have room before a replica moves back to it. */
  readonly returnHoldMs: number;
}

export interface ModelPlacement {
  /** Every variant of the model. */
  readonly desired: ReadonlyMap<string, number>;
  readonly notes: readonly Note[];
  /** Replicas the model wanted that fit nowhere. */
  readonly shortfall: number;
  /** Set when this cycle moved a replica back to a cheaper variant. */
  readonly rebalance: RebalanceMemory | undefined;
}

export interface PlacementResult {
  readonly models: ReadonlyMap<string, ModelPlacement>;
  /** Variants that wanted room this cycle and had none. */
  readonly blocked: ReadonlySet<string>;
}

const byKey = (a: PlacementVariant, b: PlacementVariant): number =>
  a.variant.key < b.variant.key ? -1 : a.variant.key > b.variant.key ? 1 : 0;
const cheapestFirst = (a: PlacementVariant, b: PlacementVariant): number =>
  a.variant.cost - b.variant.cost || byKey(a, b);

/**
 * Replicas of a model sized by capacity (SLO mode) are not interchangeable: an H100 replica may
 * serve what several L4 replicas do. Its wants are then counted in replicas of its cheapest variant
 * per unit of capacity (the `unit`), and a replica of variant v placed covers capacity(v) / unit of
 * them; the next replica goes to the cheapest variant per unit of capacity with room. A variant
 * without a capacity in such a model counts as one unit, tried last. Without capacities everything
 * is 1 and the order is by cost per replica, as in saturation sizing.
 */
function unitOf(model: PlacementModel): number {
  let unit: number | undefined;
  let best = Infinity;
  for (const pv of model.variants) {
    const c = pv.capacity;
    if (c === undefined || !(c > 0)) continue;
    const perUnit = pv.variant.cost / c;
    if (perUnit < best) {
      best = perUnit;
      unit = c;
    }
  }
  return unit ?? 1;
}

function worth(pv: PlacementVariant, unit: number): number {
  return pv.capacity !== undefined && pv.capacity > 0 ? pv.capacity / unit : 1;
}

function placementOrder(model: PlacementModel): PlacementVariant[] {
  if (!model.variants.some((pv) => pv.capacity !== undefined)) return [...model.variants].sort(cheapestFirst);
  const costPerUnit = (pv: PlacementVariant): number =>
    pv.capacity !== undefined && pv.capacity > 0 ? pv.variant.cost / pv.capacity : Infinity;
  return [...model.variants].sort((a, b) => costPerUnit(a) - costPerUnit(b) || cheapestFirst(a, b));
}

/** What is left this cycle: per-node free GPUs per type, quota room per type and namespace. */
class Room {
  private readonly free = new Map<string, number[]>();
  private readonly cluster = new Map<string, { room: number; name: string; cap: number }>();
  private readonly perNamespace = new Map<string, { room: number; name: string; cap: number }>();
  private readonly resourceQuota = new Map<string, number>();

  constructor(
    private readonly inventory: GpuInventory,
    private readonly limits: LimiterConfig,
  ) {
    for (const [type, t] of inventory.types) this.free.set(type, [...t.nodeFree]);
    for (const [ns, byResource] of inventory.namespaceQuotas)
      for (const [resource, q] of byResource) this.resourceQuota.set(`${ns}|${resource}`, q.room);
  }

  /** Why one more replica of `vg` in `namespace` does not fit; undefined when it does. */
  whyNot(namespace: string, vg: VariantGpu): string | undefined {
    const g = vg.gpusPerReplica;
    if (vg.fullReason !== undefined) return vg.fullReason;
    if (vg.type !== undefined) {
      const free = this.free.get(vg.type);
      if (!free) return `no ${vg.type} node in the cluster`;
      if (replicasThatFit(free, g) < 1) {
        const total = free.reduce((s, f) => s + Math.max(0, f), 0);
        return total >= g
          ? `${total} ${vg.type} GPU(s) free but no node has ${g} (fragmented)`
          : `${vg.type} full (${total} free, ${g} per replica)`;
      }
      const c = this.clusterRoom(vg.type);
      if (c.room < g) return `quota "${c.name}" caps ${vg.type} at ${c.cap} GPU(s)`;
      const n = this.namespaceRoom(namespace, vg.type);
      if (n.room < g) return `quota "${n.name}" caps ${vg.type} in ${namespace} at ${n.cap} GPU(s)`;
    }
    if (vg.resource !== undefined) {
      const rq = this.inventory.namespaceQuotas.get(namespace)?.get(vg.resource);
      const room = this.resourceQuota.get(`${namespace}|${vg.resource}`);
      if (rq && room !== undefined && room < g)
        return `ResourceQuota ${rq.name} in ${namespace}: ${Math.max(0, room)} of ${rq.hard} requests.${vg.resource} left`;
    }
    return undefined;
  }

  /** Takes one replica's GPUs (call only after whyNot said it fits). */
  take(namespace: string, vg: VariantGpu): void {
    const g = vg.gpusPerReplica;
    if (vg.type !== undefined) {
      const free = this.free.get(vg.type);
      if (free) {
        // Best fit: the node with the least room that still fits, so large holes stay for large pods.
        let best = -1;
        for (let i = 0; i < free.length; i++) {
          const f = free[i] ?? 0;
          if (f >= g && (best < 0 || f < (free[best] ?? 0))) best = i;
        }
        if (best >= 0) free[best] = (free[best] ?? 0) - g;
      }
      this.clusterRoom(vg.type).room -= g;
      this.namespaceRoom(namespace, vg.type).room -= g;
    }
    if (vg.resource !== undefined) {
      const k = `${namespace}|${vg.resource}`;
      const room = this.resourceQuota.get(k);
      if (room !== undefined) this.resourceQuota.set(k, room - g);
    }
  }

  /** The tightest cluster-scope quota on `type` (WVA: a type an entry does not list is denied). */
  private clusterRoom(type: string): { room: number; name: string; cap: number } {
    let r = this.cluster.get(type);
    if (r) return r;
    r = { room: Infinity, name: '', cap: Infinity };
    const used = this.inventory.types.get(type)?.used ?? 0;
    for (const q of this.limits.quotas) {
      if (q.scope !== 'cluster') continue;
      const cap = q.quotas.get(type) ?? 0;
      if (cap === UNLIMITED) continue;
      if (cap - used < r.room) r = { room: cap - used, name: q.name, cap };
    }
    this.cluster.set(type, r);
    return r;
  }

  private namespaceRoom(namespace: string, type: string): { room: number; name: string; cap: number } {
    const k = `${namespace}|${type}`;
    let r = this.perNamespace.get(k);
    if (r) return r;
    r = { room: Infinity, name: '', cap: Infinity };
    const used = this.inventory.types.get(type)?.usedByNamespace.get(namespace) ?? 0;
    for (const q of this.limits.quotas) {
      if (q.scope !== 'namespace') continue;
      const cap = namespaceCap(q, namespace, type);
      if (cap === undefined || cap === UNLIMITED) continue;
      if (cap - used < r.room) r = { room: cap - used, name: q.name, cap };
    }
    this.perNamespace.set(k, r);
    return r;
  }
}

interface Work {
  readonly model: PlacementModel;
  readonly desired: Map<string, number>;
  readonly notes: Note[];
  /** The replicas `want` counts are of this capacity (unitOf). */
  readonly unit: number;
  /** Replicas still wanted, in units (1 per replica without capacities). */
  want: number;
  shortfall: number;
  readonly shortWhy: Set<string>;
  /** Replicas given per variant by the loop, and the first cheaper variant skipped for it. */
  readonly given: Map<string, { n: number; over: string | undefined; why: string | undefined }>;
}

/** A variant's GPU needs when it is limited by GPUs at all. */
function limited(inventory: GpuInventory, v: Variant): VariantGpu | undefined {
  const vg = inventory.variants.get(v.key);
  return vg && vg.gpusPerReplica > 0 ? vg : undefined;
}

/** Replicas that must go elsewhere (Unschedulable ones) and growth that may; a variant's min stays. */
function collectWants(work: Work, room: Room, inventory: GpuInventory, blocked: Set<string>): void {
  const { model, desired, notes } = work;
  for (const pv of [...model.variants].sort(byKey)) {
    const v = pv.variant;
    const vg = limited(inventory, v);
    if (!vg) {
      if (pv.desired > pv.current)
        notes.push(
          traceNote(
            3,
            'placement-unlimited',
            `placement: ${v.key} ${inventory.variants.has(v.key) ? 'requests no GPU' : 'has no Deployment seen yet'}: not limited`,
          ),
        );
      continue;
    }
    let d = desired.get(v.key) ?? pv.desired;
    if (vg.unschedulable > 0 && vg.fullReason !== undefined) {
      const keep = Math.max(v.minReplicas, pv.current - vg.unschedulable);
      if (d > keep) {
        work.want += (d - keep) * worth(pv, work.unit);
        notes.push(
          reasonNote(3, 'placement-full', `-${d - keep}: ${vg.fullReason}; moved to a variant with room`, v.key),
        );
        d = keep;
        blocked.add(v.key);
      }
    }
    if (d > pv.current) {
      const floor = Math.max(0, v.minReplicas - pv.current);
      const movable = d - pv.current - floor;
      for (let i = 0; i < floor; i++) {
        const why = room.whyNot(model.namespace, vg);
        if (why === undefined) room.take(model.namespace, vg);
        else notes.push(reasonNote(3, 'placement-min', `kept at minReplicas ${v.minReplicas} though ${why}`, v.key));
      }
      work.want += movable * worth(pv, work.unit);
      d = pv.current + floor;
    }
    desired.set(v.key, d);
  }
}

/**
 * One replica for `work`'s model: its cheapest variant (placementOrder) below max with room. Returns
 * the units it covers (worth), 0 when no variant has room.
 */
function placeOne(work: Work, room: Room, inventory: GpuInventory, blocked: Set<string>): number {
  const { model, desired } = work;
  let over: { key: string; why: string } | undefined;
  for (const pv of placementOrder(model)) {
    const v = pv.variant;
    const d = desired.get(v.key) ?? 0;
    if (d >= v.maxReplicas) continue;
    const vg = limited(inventory, v);
    const why = vg ? room.whyNot(model.namespace, vg) : undefined;
    if (why !== undefined) {
      blocked.add(v.key);
      over ??= { key: v.key, why };
      work.shortWhy.add(`${v.key}: ${why}`);
      continue;
    }
    if (vg) room.take(model.namespace, vg);
    desired.set(v.key, d + 1);
    const g = work.given.get(v.key) ?? { n: 0, over: over?.key, why: over?.why };
    work.given.set(v.key, { ...g, n: g.n + 1 });
    return worth(pv, work.unit);
  }
  return 0;
}

/** A steady model moves one replica from its dearest variant to a cheaper one whose room came back. */
function moveBack(work: Work, room: Room, input: PlacementInput): RebalanceMemory | undefined {
  const { model, desired } = work;
  if (!model.steady || work.want > 0 || work.shortfall > 0) return undefined;
  const { now, returnHoldMs } = input;
  const last = input.lastRebalance.get(model.key);
  if (last && now - last.at < returnHoldMs) return undefined;
  if (last) {
    const from = model.variants.find((pv) => pv.variant.key === last.from);
    if (from && from.current >= last.fromCurrent && now - last.at < 10 * returnHoldMs) return undefined;
  }
  const byCost = [...model.variants].sort(cheapestFirst);
  const dearest = [...byCost]
    .reverse()
    .find((pv) => pv.current > pv.variant.minReplicas && (desired.get(pv.variant.key) ?? 0) === pv.current);
  if (!dearest) return undefined;
  for (const pv of byCost) {
    const v = pv.variant;
    if (v.cost >= dearest.variant.cost) break;
    const blockedAt = input.lastBlockedAt.get(v.key);
    const d = desired.get(v.key) ?? 0;
    if (blockedAt === undefined || now - blockedAt < returnHoldMs || d >= v.maxReplicas) continue;
    const vg = limited(input.inventory, v);
    if (!vg || room.whyNot(model.namespace, vg) !== undefined) continue;
    room.take(model.namespace, vg);
    desired.set(v.key, d + 1);
    const held = `room on ${vg.type ?? 'its GPUs'} for ${Math.round(returnHoldMs / 1000)}s`;
    const from = `${dearest.variant.key} (cost ${dearest.variant.cost})`;
    const text = `+1 back from ${from}: ${held}; the dearer replica goes once this one is ready`;
    work.notes.push(
      reasonNote(3, 'placement-return', text, v.key),
      traceNote(3, 'placement-return', `placement: ${v.key} ${text}`),
    );
    return { at: now, from: dearest.variant.key, fromCurrent: dearest.current };
  }
  return undefined;
}

/** Units wanted below this are rounding, not a replica. */
const WANT_EPS = 1e-9;

export function placeModels(input: PlacementInput): PlacementResult {
  const { inventory } = input;
  const room = new Room(inventory, input.limits);
  const blocked = new Set<string>();
  const works: Work[] = [...input.models]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((model) => ({
      model,
      desired: new Map(model.variants.map((pv) => [pv.variant.key, pv.desired])),
      notes: [],
      unit: unitOf(model),
      want: 0,
      shortfall: 0,
      shortWhy: new Set<string>(),
      given: new Map(),
    }));
  for (const w of works) collectWants(w, room, inventory, blocked);
  // Priority x replicas still wanted decides who gets the next replica (WVA's fair-share value).
  for (;;) {
    let next: Work | undefined;
    for (const w of works) {
      if (w.want <= WANT_EPS) continue;
      if (!next || w.model.priority * w.want > next.model.priority * next.want) next = w;
    }
    if (!next) break;
    const covered = placeOne(next, room, inventory, blocked);
    if (covered > 0) next.want = Math.max(0, next.want - covered);
    else {
      // In units of the model's cheapest replica, rounded up: a part of one is still one short.
      next.shortfall += Math.ceil(next.want - WANT_EPS);
      next.want = 0;
    }
  }
  const models = new Map<string, ModelPlacement>();
  for (const w of works) {
    for (const [key, g] of w.given) {
      if (g.over === undefined) continue;
      w.notes.push(reasonNote(3, 'placement-spill', `+${g.n} spilled over from ${g.over}: ${g.why ?? ''}`, key));
    }
    if (w.shortfall > 0) {
      const why = [...w.shortWhy].join('; ') || 'every variant at its max';
      w.notes.push(
        reasonNote(3, 'gpu-shortfall', `GPU shortfall: ${w.shortfall} replica(s) fit nowhere (${why})`),
        traceNote(3, 'gpu-shortfall', `placement: ${w.shortfall} replica(s) not asked for: ${why}`),
      );
    }
    const rebalance = moveBack(w, room, input);
    models.set(w.model.key, { desired: w.desired, notes: w.notes, shortfall: w.shortfall, rebalance });
  }
  return { models, blocked };
}
