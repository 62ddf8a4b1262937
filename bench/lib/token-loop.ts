/**
 * The quality bench's closed loop on the token-level fleet, on simulated time only: the scenario's
 * requests are handed to the fleet up front (each arrives at its `atMs`), and every cycle the policy
 * observes the fleet (one emulated Prometheus scrape), KEDA hands its metrics to one emulated HPA per
 * variant, the HPA sets the Deployment's replicas, and the fleet advances. New pods take the start-up
 * to become ready. Every policy gets the same requests; the fleet is deterministic for a seed.
 *
 * Recorded per run: the time to first token of every request (the fleet's 'first-token' events), the
 * replica time per variant (pending pods included), one record per cycle, the longest wait per minute.
 */
import { createHash } from 'node:crypto';
import type { Variant } from '../../src/domain/variant.js';
import type { VariantState } from '../../src/engine/saturation-analyzer.js';
import { lowerBound, type TokenRequest } from '../../src/sim/traffic/trace-csv.js';
import {
  minuteP95TtftMs,
  policyFigures,
  wrongDirectionActions,
  type PolicyFigures,
  type TtftByArrival,
  type WrongAction,
} from './quality-figures.js';
import { HpaEmulator, type HpaSettings } from './quality-hpa.js';
import type { LearnedServiceModel, ScalingPolicy } from './quality-policies.js';
import type { Accelerator, SpeedChange, TokenFleetFactory } from './token-fleet.js';
import { TokenScrapeHistory } from './token-observer.js';

export interface TokenLoopVariant {
  readonly variant: Variant;
  readonly accelerator: Accelerator;
  readonly startupDelayMs: number;
  /** Ready at t = 0. */
  readonly initialReplicas: number;
  /** The variant's pods move to another GPU mid-run (the speed-change scenario). */
  readonly speedChange?: SpeedChange;
}

export interface TokenLoopSettings {
  readonly namespace: string;
  readonly modelID: string;
  readonly variants: readonly TokenLoopVariant[];
  /** Sorted by `atMs`; those at or after `durationMs` are not sent. */
  readonly requests: readonly TokenRequest[];
  readonly durationMs: number;
  readonly seed: number;
  /** Scrape interval = decision interval = HPA sync period (aligned: the best case for every policy). */
  readonly cycleMs: number;
  /** The scenario's HPA; a policy's own `behaviour` replaces its behaviour (min and max stay). */
  readonly hpa: HpaSettings;
  /** A minute is over budget when a request that started in it had waited longer than this. */
  readonly waitBudgetMs: number;
  readonly flowControl: boolean;
  readonly fleet: TokenFleetFactory;
}

export interface TokenCycle {
  readonly atMs: number;
  /** All variants, pending included, before the HPA's sync. */
  readonly current: number;
  readonly ready: number;
  /** What the HPA set. */
  readonly desired: number;
  /** Requests waiting at the gateway and in the replicas' queues. */
  readonly backlog: number;
  /** Arrivals over the last minute (req/s), for the plots. */
  readonly offeredRps: number;
  readonly note: string;
}

export interface TokenRunResult {
  readonly policy: string;
  readonly figures: PolicyFigures;
  readonly cycles: readonly TokenCycle[];
  readonly wrong: readonly WrongAction[];
  /** Digest of every cycle's replica counts: two runs that decided the same have the same digest. */
  readonly decisions: string;
  /** Requests sent, and those without a first token at the end. */
  readonly sent: number;
  readonly censored: number;
  /** p95 TTFT (ms) of the requests that arrived in each minute; undefined for a minute without arrivals. */
  readonly minuteP95TtftMs: readonly (number | undefined)[];
  /**
   * What the policy had learned of each variant after each cycle's decision (policies exposing
   * `learnedServiceModels`; empty otherwise).
   */
  readonly learned: readonly { readonly atMs: number; readonly models: ReadonlyMap<string, LearnedServiceModel> }[];
}

/** Arrivals per second over [fromMs, toMs) of a sorted request list (the window clipped at 0). */
export function arrivalRate(requests: readonly TokenRequest[], fromMs: number, toMs: number): number {
  const from = Math.max(0, fromMs);
  if (toMs <= from) return 0;
  return ((lowerBound(requests, toMs) - lowerBound(requests, from)) * 1000) / (toMs - from);
}

/**
 * The offered rate a perfect observer of the gateway knows at `t`: arrivals over the last cycle,
 * [t - cycle, t) (none before t = 0). What the oracles read; a minute's average would lag a step by
 * half a minute. The reactive oracle reacts to it and never reads arrivals still to come: the
 * coming cycles are the forecast oracle's (`peakOfferedRps`).
 */
export function offeredRpsAt(requests: readonly TokenRequest[], t: number, cycleMs: number): number {
  return arrivalRate(requests, t - cycleMs, t);
}

/** Each sent request's TTFT by its arrival; those without a first token at `endMs` at their lower bound. */
export function ttftByArrival(
  sent: readonly TokenRequest[],
  firstTokens: readonly { arrivedAtMs: number; atMs: number }[],
  endMs: number,
): TtftByArrival[] {
  const served = [...firstTokens].sort((a, b) => a.arrivedAtMs - b.arrivedAtMs);
  const out: TtftByArrival[] = [];
  let j = 0;
  for (const r of sent) {
    const s = served[j];
    if (s && Math.abs(s.arrivedAtMs - r.atMs) < 1e-3) {
      j++;
      out.push({ arrivedAtMs: r.atMs, ttftMs: s.atMs - s.arrivedAtMs });
    } else out.push({ arrivedAtMs: r.atMs, ttftMs: endMs - r.atMs });
  }
  return out;
}

/**
 * TTFTs (ms) of the requests that got a first token, and the time waited so far by those that did not:
 * the events' arrival times are matched against the sent requests' (both sorted).
 */
export function ttftSample(
  sent: readonly TokenRequest[],
  firstTokens: readonly { arrivedAtMs: number; atMs: number }[],
  endMs: number,
): { servedMs: number[]; censoredMs: number[] } {
  const served = [...firstTokens].sort((a, b) => a.arrivedAtMs - b.arrivedAtMs);
  const censoredMs: number[] = [];
  let j = 0;
  for (const r of sent) {
    const s = served[j];
    if (s && Math.abs(s.arrivedAtMs - r.atMs) < 1e-3) j++;
    else censoredMs.push(endMs - r.atMs);
  }
  return { servedMs: served.map((s) => s.atMs - s.arrivedAtMs), censoredMs };
}

export function runTokenPolicy(policy: ScalingPolicy, s: TokenLoopSettings): TokenRunResult {
  const { namespace, modelID } = s;
  if (60_000 % s.cycleMs !== 0) throw new Error(`cycleMs ${s.cycleMs} must divide a minute`);
  const sent = s.requests.slice(0, lowerBound(s.requests, s.durationMs));
  const firstTokens: { arrivedAtMs: number; atMs: number }[] = [];
  const fleet = s.fleet({
    namespace,
    modelID,
    variants: s.variants.map((v) => ({
      deployment: v.variant.deployment,
      replicas: v.initialReplicas,
      startupDelayMs: v.startupDelayMs,
      accelerator: v.accelerator,
      ...(v.speedChange ? { speedChange: v.speedChange } : {}),
    })),
    seed: s.seed,
    flowControl: s.flowControl,
    onRequestEvent: (e) => {
      if (e.kind === 'first-token') firstTokens.push({ arrivedAtMs: e.arrivedAtMs, atMs: e.atMs });
    },
  });
  fleet.enqueueRequests(namespace, modelID, sent);
  const hpaSettings: HpaSettings = { ...s.hpa, ...policy.behaviour };
  const hpas = new Map(s.variants.map((v) => [v.variant.key, new HpaEmulator(hpaSettings)]));
  const keyOfDeployment = new Map(s.variants.map((v) => [v.variant.deployment, v.variant.key]));
  const costOfDeployment = new Map(s.variants.map((v) => [v.variant.deployment, v.variant.cost]));
  const history = new TokenScrapeHistory();
  const cycles: TokenCycle[] = [];
  const replicaMs = new Map(s.variants.map((v) => [v.variant.deployment, 0]));
  const maxWaitPerMinute: number[] = [];
  const learned: { atMs: number; models: ReadonlyMap<string, LearnedServiceModel> }[] = [];

  for (let t = 0; t < s.durationMs; t += s.cycleMs) {
    const model = fleet.model();
    history.scrape(model, t);
    const variants: VariantState[] = s.variants.map((v) => {
      const st = fleet.deploymentStatus(namespace, v.variant.deployment);
      if (!st) throw new Error(`fleet has no deployment ${v.variant.deployment}`);
      return { variant: v.variant, current: st.current, ready: st.ready };
    });
    const offeredRps = offeredRpsAt(sent, t, s.cycleMs);
    const out = policy.decide({
      now: t,
      namespace,
      modelID,
      variants,
      metrics: history.modelMetrics(t, (dep) => keyOfDeployment.get(dep)),
      sumWaiting: history.sumWaitingLatest(),
      offeredRps,
      // The highest last-minute rate over the coming `ms`, sampled every cycle: the forecast oracle's perfect forecast.
      peakOfferedRps: (ms) => {
        let peak = offeredRps;
        for (let u = t + s.cycleMs; u <= t + ms; u += s.cycleMs)
          peak = Math.max(peak, offeredRpsAt(sent, u, s.cycleMs));
        return peak;
      },
      tokens: history.tokenView(),
    });
    const models = policy.learnedServiceModels?.();
    if (models && models.size > 0) learned.push({ atMs: t, models });
    let current = 0;
    let desired = 0;
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
      // Pods exist (and cost) from the moment the HPA creates them; the count holds until the next cycle.
      replicaMs.set(v.variant.deployment, (replicaMs.get(v.variant.deployment) ?? 0) + n * s.cycleMs);
    }
    cycles.push({
      atMs: t,
      current,
      ready: variants.reduce((n, v) => n + Math.min(v.ready, v.current), 0),
      desired,
      backlog: model.gatewayQueue + model.waiting,
      offeredRps: arrivalRate(sent, t - 60_000, t),
      note: out.note,
    });
    fleet.step(s.cycleMs);
    if ((t + s.cycleMs) % 60_000 === 0) {
      maxWaitPerMinute.push(fleet.model().waitMaxMs);
      fleet.resetStats();
    }
  }
  const ttft = ttftSample(sent, firstTokens, s.durationMs);
  const rate = (fromMs: number, toMs: number): number => arrivalRate(sent, fromMs, toMs);
  const figures = policyFigures({
    policy: policy.name,
    ttft,
    replicaMsByDeployment: replicaMs,
    costOf: (dep) => costOfDeployment.get(dep) ?? 0,
    cycles,
    rate,
    maxWaitMsPerMinute: maxWaitPerMinute,
    waitBudgetMs: s.waitBudgetMs,
  });
  return {
    policy: policy.name,
    figures,
    cycles,
    wrong: wrongDirectionActions(cycles, rate),
    decisions: createHash('sha256')
      .update(cycles.map((c) => `${c.current}/${c.desired}`).join(','))
      .digest('hex')
      .slice(0, 16),
    sent: sent.length,
    censored: ttft.censoredMs.length,
    minuteP95TtftMs: minuteP95TtftMs(ttftByArrival(sent, firstTokens, s.durationMs), s.durationMs),
    learned,
  };
}

/**
 * What one replica of an accelerator serves of a request mix, flat out: a single replica kept busy
 * (the gateway topped up to `backlog` requests every second, drawing the sample's requests in turn,
 * flow control on) for `warmupMs`, then its prompt and generated tokens counted over `measureMs`.
 * Returns requests per second at the sample's mean tokens per request (prompt + output): the oracles'
 * per-replica capacity, measured on the fleet itself rather than assumed.
 */
export function measureReplicaRps(
  fleetFactory: TokenFleetFactory,
  accelerator: Accelerator,
  sample: readonly TokenRequest[],
  opts: { warmupMs?: number; measureMs?: number; backlog?: number } = {},
): number {
  if (sample.length === 0) throw new Error('measureReplicaRps: empty request sample');
  const warmupMs = opts.warmupMs ?? 180_000;
  const measureMs = opts.measureMs ?? 180_000;
  const backlog = opts.backlog ?? 32;
  const ns = 'calibration';
  const model = 'm';
  const fleet = fleetFactory({
    namespace: ns,
    modelID: model,
    variants: [{ deployment: 'one', replicas: 1, startupDelayMs: 0, accelerator }],
    seed: 1,
    flowControl: true,
    onRequestEvent: () => undefined,
  });
  let next = 0;
  const tokensNow = (): number =>
    fleet.model().pods.reduce((n, p) => n + p.promptTokensTotal + p.generationTokensTotal, 0);
  let startTokens = 0;
  for (let t = 0; t < warmupMs + measureMs; t += 1000) {
    if (t === warmupMs) startTokens = tokensNow();
    const top = backlog - fleet.model().gatewayQueue;
    const batch: TokenRequest[] = [];
    for (let i = 0; i < top; i++) {
      const r = sample[next++ % sample.length];
      if (r) batch.push({ atMs: t, promptTokens: r.promptTokens, outputTokens: r.outputTokens });
    }
    if (batch.length > 0) fleet.enqueueRequests(ns, model, batch);
    fleet.step(1000);
  }
  const tokensPerS = ((tokensNow() - startTokens) * 1000) / measureMs;
  const meanTokens = sample.reduce((n, r) => n + r.promptTokens + r.outputTokens, 0) / sample.length;
  return tokensPerS / meanTokens;
}
