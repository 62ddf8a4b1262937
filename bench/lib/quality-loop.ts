/**
 * The closed loop of the quality bench, on simulated time only (fleet `realtime: false`): every
 * cycle the policy observes the fleet (one emulated Prometheus scrape), KEDA hands its metric to
 * one emulated HPA per variant, the HPA sets the Deployment's replicas, and the fleet advances.
 * New pods take the fleet's start-up delay to become ready. Arrivals are the fleet's seeded Poisson
 * stream, independent of scaling: every policy sees the same requests.
 */
import type { Variant } from '../../src/domain/variant.js';
import type { VariantState } from '../../src/engine/saturation-analyzer.js';
import { VllmFleet } from '../../src/sim/fleet/index.js';
import type { FleetModelSnapshot, FleetVariantSpec, FlowControlSpec } from '../../src/sim/fleet/types.js';
import { HpaEmulator, type HpaSettings } from './quality-hpa.js';
import { ScrapeHistory } from './quality-observer.js';
import type { ScalingPolicy } from './quality-policies.js';
import { peakRateWithin, rateAt, type LoadTrace } from './quality-trace.js';

export interface LoopVariant {
  readonly variant: Variant;
  /** The fleet side of the variant (`deployment` must equal variant.deployment). */
  readonly fleet: FleetVariantSpec;
}

export interface LoopSettings {
  readonly namespace: string;
  readonly modelID: string;
  readonly variants: readonly LoopVariant[];
  readonly trace: LoadTrace;
  readonly seed: number;
  /** Engine interval = HPA sync period = scrape interval (all aligned: the best case for every policy). */
  readonly cycleMs: number;
  readonly hpa: HpaSettings;
  /** A minute is "over budget" when a request that started in it had waited longer than this. */
  readonly waitBudgetMs: number;
  /** The gateway's flow control (EPP saturation detector); undefined: requests stay on the replica that took them. */
  readonly flowControl?: FlowControlSpec;
}

export interface MinuteRecord {
  readonly minute: number;
  readonly rps: number;
  /** Replicas (all variants, pending included) averaged over the minute. */
  readonly replicas: number;
  readonly ready: number;
  /** Longest arrival → start wait of a request that started in this minute (gateway time included). */
  readonly maxWaitMs: number;
  readonly maxQueue: number;
}

export interface CycleRecord {
  readonly atMs: number;
  readonly current: number;
  readonly ready: number;
  readonly waiting: number;
  readonly desired: number;
  /** Sum over variants of the metric value the policy gave the HPA, and its AverageValue target. */
  readonly value: number;
  readonly target: number;
  readonly note: string;
}

export interface RunResult {
  readonly policy: string;
  readonly replicaMinutes: number;
  /** Replica-minutes per variant deployment. */
  readonly replicaMinutesByDeployment: ReadonlyMap<string, number>;
  readonly minutes: readonly MinuteRecord[];
  readonly overBudgetMinutes: number;
  readonly p95WaitMs: number;
  readonly maxWaitMs: number;
  readonly meanWaitMs: number;
  /** Peak of gateway + replica queues, sampled every fleet tick. */
  readonly peakQueue: number;
  readonly peakReplicas: number;
  readonly arrivals: number;
  readonly completed: number;
  readonly cycles: readonly CycleRecord[];
}

/** A minute counts as over budget when its longest wait exceeds the budget. */
export function countOverBudget(minutes: readonly Pick<MinuteRecord, 'maxWaitMs'>[], budgetMs: number): number {
  return minutes.filter((m) => m.maxWaitMs > budgetMs).length;
}

interface Pass {
  readonly minutes: MinuteRecord[];
  readonly cycles: CycleRecord[];
  readonly replicaMs: Map<string, number>;
  readonly final: FleetModelSnapshot;
  readonly meanWaitMs: number | undefined;
}

/**
 * Runs one policy over the trace. Two identical passes on the same seed: the first resets the
 * fleet's wait statistics every minute (per-minute longest wait), the second keeps them for the
 * whole run (p95 over all requests, peak queue). The passes must take the same decisions; that is
 * checked, so a non-deterministic loop cannot go unnoticed.
 */
export function runPolicy(makePolicy: () => ScalingPolicy, s: LoopSettings): RunResult {
  const perMinute = runPass(makePolicy(), s, true);
  const whole = runPass(makePolicy(), s, false);
  const a = perMinute.cycles.map((c) => `${c.current}/${c.desired}`).join(',');
  const b = whole.cycles.map((c) => `${c.current}/${c.desired}`).join(',');
  if (a !== b) throw new Error('quality bench: the two passes of one policy diverged (the loop is not deterministic)');
  const policy = makePolicy().name;
  let replicaMinutes = 0;
  const byDeployment = new Map<string, number>();
  for (const [dep, ms] of whole.replicaMs) {
    byDeployment.set(dep, ms / 60_000);
    replicaMinutes += ms / 60_000;
  }
  return {
    policy,
    replicaMinutes,
    replicaMinutesByDeployment: byDeployment,
    minutes: perMinute.minutes,
    overBudgetMinutes: countOverBudget(perMinute.minutes, s.waitBudgetMs),
    p95WaitMs: whole.final.waitP95Ms ?? 0,
    maxWaitMs: whole.final.waitMaxMs,
    meanWaitMs: whole.meanWaitMs ?? 0,
    peakQueue: whole.final.maxQueue,
    peakReplicas: Math.max(...whole.cycles.map((c) => c.current)),
    arrivals: whole.final.arrivals,
    completed: whole.final.completed,
    cycles: whole.cycles,
  };
}

function runPass(policy: ScalingPolicy, s: LoopSettings, resetEveryMinute: boolean): Pass {
  const { namespace, modelID } = s;
  for (const v of s.variants) {
    if (v.variant.deployment !== v.fleet.deployment)
      throw new Error(
        `variant ${v.variant.key}: deployment ${v.variant.deployment} != fleet deployment ${v.fleet.deployment}`,
      );
  }
  if (60_000 % s.cycleMs !== 0) throw new Error(`cycleMs ${s.cycleMs} must divide a minute`);
  const fleet = new VllmFleet({
    models: [{ namespace, modelID, arrivalRate: rateAt(s.trace, 0), variants: s.variants.map((v) => v.fleet) }],
    realtime: false,
    seed: s.seed,
    histograms: false,
    ...(s.flowControl ? { flowControl: s.flowControl } : {}),
  });
  const hpas = new Map(s.variants.map((v) => [v.variant.key, new HpaEmulator(s.hpa)]));
  const keyOfDeployment = new Map(s.variants.map((v) => [v.variant.deployment, v.variant.key]));
  const history = new ScrapeHistory();
  const minutes: MinuteRecord[] = [];
  const cycles: CycleRecord[] = [];
  const replicaMs = new Map(s.variants.map((v) => [v.variant.deployment, 0]));
  const durationMs = s.trace.durationMin * 60_000;
  let minuteReplicaMs = 0;
  let minuteReadyMs = 0;

  for (let t = 0; t < durationMs; t += s.cycleMs) {
    fleet.setArrivalRate(namespace, modelID, rateAt(s.trace, t));
    const model = modelSnapshot(fleet);
    history.scrape(model, t);
    const variants: VariantState[] = s.variants.map((v) => {
      const st = fleet.deploymentStatus(namespace, v.variant.deployment);
      if (!st) throw new Error(`fleet has no deployment ${v.variant.deployment}`);
      return { variant: v.variant, current: st.current, ready: st.ready };
    });
    const out = policy.decide({
      now: t,
      namespace,
      modelID,
      variants,
      metrics: history.modelMetrics(model, t, (dep) => keyOfDeployment.get(dep)),
      sumWaiting: history.sumWaitingLatest(),
      offeredRps: rateAt(s.trace, t),
      peakOfferedRps: (ms) => peakRateWithin(s.trace, t, ms),
    });
    let current = 0;
    let desired = 0;
    let valueSum = 0;
    for (const v of variants) {
      const value = out.values.get(v.variant.key);
      if (value === undefined) throw new Error(`policy ${policy.name} gave no value for ${v.variant.key}`);
      const hpa = hpas.get(v.variant.key);
      if (!hpa) throw new Error(`no HPA for ${v.variant.key}`);
      const others = (out.otherTriggers ?? []).map((o, i) => {
        const other = o.values.get(v.variant.key);
        if (other === undefined)
          throw new Error(`policy ${policy.name} gave no value for ${v.variant.key} on its trigger ${i + 2}`);
        return { value: other, target: o.target };
      });
      const n = hpa.syncMetrics(t, v.current, [{ value, target: out.target }, ...others]);
      if (n !== v.current) fleet.setReplicas(namespace, v.variant.deployment, n);
      current += v.current;
      desired += n;
      valueSum += value;
    }
    cycles.push({
      atMs: t,
      current,
      ready: variants.reduce((n, v) => n + v.ready, 0),
      waiting: model.waiting + model.gatewayQueue,
      desired,
      value: valueSum,
      target: out.target,
      note: out.note,
    });
    // Pods exist (and cost) from the moment the HPA creates them; the count holds until the next cycle.
    for (const v of s.variants) {
      const st = fleet.deploymentStatus(namespace, v.variant.deployment);
      const ms = (st?.current ?? 0) * s.cycleMs;
      replicaMs.set(v.variant.deployment, (replicaMs.get(v.variant.deployment) ?? 0) + ms);
      minuteReplicaMs += ms;
    }
    fleet.step(s.cycleMs);
    for (const v of s.variants)
      minuteReadyMs += (fleet.deploymentStatus(namespace, v.variant.deployment)?.ready ?? 0) * s.cycleMs;

    const end = t + s.cycleMs;
    if (end % 60_000 === 0) {
      const snap = modelSnapshot(fleet);
      minutes.push({
        minute: end / 60_000 - 1,
        rps: Math.round(rateAt(s.trace, end - s.cycleMs) * 10) / 10,
        replicas: minuteReplicaMs / 60_000,
        ready: minuteReadyMs / 60_000,
        maxWaitMs: snap.waitMaxMs,
        maxQueue: snap.maxQueue,
      });
      minuteReplicaMs = 0;
      minuteReadyMs = 0;
      if (resetEveryMinute) fleet.resetStats();
    }
  }
  return { minutes, cycles, replicaMs, final: modelSnapshot(fleet), meanWaitMs: fleet.stats.meanWaitMs };
}

function modelSnapshot(fleet: VllmFleet): FleetModelSnapshot {
  const m = fleet.snapshot().models[0];
  if (!m) throw new Error('fleet snapshot has no model');
  return m;
}
