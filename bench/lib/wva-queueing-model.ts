/**
 * `wva-queueing-model`: WVA v0.9's experimental QueueingModelAnalyzer as its document defines it, re-implemented
 * as a bench baseline (not product code), on the metrics the token-level fleet serves.
 *
 * Source: llm-d WVA `docs/developer-guide/slo-queuemodel.md` (the analyzer lives in
 * `internal/engines/analyzers/queueingmodel/`; its code is not in the reference index, so the document is the
 * definition). What it defines, and what this file does:
 *  - ConfigMap (§2, §8): `sloMultiplier` k (default 3, > 1), explicit `targetTTFT` / `targetITL` in ms (both or
 *    neither); SLO resolution (§3): explicit targets, else inferred from learned parameters and k
 *    (TTFT = kα + (β+γ)·i, ITL = kα + β + γ(i + (o+1)/2), the maximum over variants), else 1.5× the observed
 *    means capped at 10 s / 500 ms.
 *  - Workload per variant (§4.1): pods with traffic only, token lengths, TTFT and ITL averaged weighted by each
 *    pod's arrival rate; the model's arrivals are the sum over busy pods.
 *  - The tuner (§4.2): an extended Kalman filter over (α, β, γ), identity transition, observations (mean TTFT,
 *    mean ITL) against the queueing model's prediction, updates with NIS ≥ 7.378 (χ²₂, 95 %) rejected and the
 *    previous estimate kept; replicas younger than 120 s (TransientDelaySeconds) are not tuned on.
 *  - Cold start (§5, §9.5): the bootstrap α = 0.9·ITL, β+γ = (TTFT − α)/i, γ from the ITL equation; if any is
 *    ≤ 0, the defaults α 5 ms, β 0.05 ms, γ 0.00005 ms.
 *  - The queueing model (§9.2–9.4): δ = β(i+o)/(o+1) + γ(i + o/2), ρ = λ(β(i+o) + γ(o+1)(i+o/2)),
 *    T_iter = α/(1−ρ), TTFT = T_iter + (β+γ)i, ITL = T_iter + β + γ(i + (o+1)/2), concurrency n = λ(o+1)T_iter.
 *  - Sizing (§4.3): binary search of the largest per-replica rate λ* whose predicted TTFT and ITL stay within the
 *    targets (and whose concurrency stays within the max batch, 256 by default), then `ceil(arrivals / λ*)`.
 *  - Failure (§4.4): a variant without metrics, traffic or parameters gets zero capacity; when no variant can be
 *    analysed the model gets no decision (KEDA holds: modelled as the current count).
 *
 * Where the document is silent, chosen here (each says why at its code):
 *  - "arrival rate" per pod: vLLM serves no arrival counter per replica, so `rate(vllm:request_success_total[1m])`
 *    (completions; a saturated replica under-reports its arrivals, as WVA's would).
 *  - The rate the tuner predicts at: the variant's arrivals per busy replica.
 *  - Beyond ρ = 1 the closed form has no answer; the document's analyzer bounds the batch (256) and the queue, so
 *    here the iteration time is at most a full batch's, α + 256·δ, and the tuner still learns from a loaded replica.
 *  - EKF details the document leaves out are taken from WVA's tuner code and defaults
 *    (internal/engines/analyzers/queueingmodel/tuner/tuner.go, defaults.go, and analyzer.go): measurement noise
 *    5 %/1.96 of each observed mean, process noise 5 % of each parameter per cycle, a state box of 0.01x to 100x the
 *    initial estimate (clamped), a rejected update restoring state and covariance from before the prediction, an
 *    update that makes a parameter ≤ 0 rejected, the parameter store keyed by variant (so a variant whose pods move
 *    to another GPU keeps learning from the old estimate), a new tuner updating at once on its bootstrap observation.
 *    Not found there, chosen here: the initial covariance, 50 % (bootstrap) or 100 % (defaults) of each parameter,
 *    and a Jacobian by central differences. WVA's tuner predicts with its numerical M/M/1/K queue analyzer; here the
 *    document's closed form (§9) stands in for it.
 *  - Several variants: the model's arrivals go to the cheapest variant first, `ceil(left / λ*)` replicas up to its
 *    max, the rest to the next; unused variants fall to their minimum (the model keeps one replica).
 *  - A target the learned model says no load meets (λ* = 0: even an idle replica misses it) is an analysis failure
 *    (§4.4's "queueing model error": zero capacity, the variant holds). With the bootstrap taken on an overloaded
 *    replica (§9.5 assumes light load) the first α can sit above the ITL target, and the NIS gate then keeps the
 *    filter from moving: the variant holds. The bench reports that as it happens.
 *  - A variant's parameters are "confident" (the contract's flag) after 3 accepted updates (the document: the tuner
 *    converges in 3–10 reconcile cycles).
 * The HPA in front is the scenario's, value = desired replicas with AverageValue 1, as for `wva-v2`.
 */
import type { VariantState } from '../../src/engine/saturation-analyzer.js';
import type { LearnedServiceModel, PolicyObservation, PolicyOutput, ScalingPolicy } from './quality-policies.js';
import type { TokenPodView } from './token-observer.js';

/** Iteration time = α + β·(tokens computed) + γ·(KV tokens read), in ms. */
export interface ServiceParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** One replica's load as the model sees it. */
export interface QmWorkload {
  /** Arrivals at one replica, requests per second. */
  readonly rps: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface SloTarget {
  readonly ttftMs: number;
  readonly itlMs: number;
}

export interface QueueingModelConfig {
  readonly sloMultiplier: number;
  /** Explicit targets (the per-model entry's targetTTFT / targetITL); undefined: inferred. */
  readonly target: SloTarget | undefined;
  readonly maxBatchSize: number;
  readonly fallbackHeadroom: number;
  readonly maxFallbackTtftMs: number;
  readonly maxFallbackItlMs: number;
  readonly maxNis: number;
  readonly transientDelayMs: number;
  readonly defaults: ServiceParams;
  readonly baseFactor: number;
}

/** The document's defaults (§8). */
export const QM_DEFAULTS: QueueingModelConfig = {
  sloMultiplier: 3,
  target: undefined,
  maxBatchSize: 256,
  fallbackHeadroom: 1.5,
  maxFallbackTtftMs: 10_000,
  maxFallbackItlMs: 500,
  maxNis: 7.378,
  transientDelayMs: 120_000,
  defaults: { alpha: 5, beta: 0.05, gamma: 0.00005 },
  baseFactor: 0.9,
};

// ---------------------------------------------------------------------------------------------
// The queueing model (§9)
// ---------------------------------------------------------------------------------------------

/** ρ at `rps` requests per second on one replica (λ per ms, as T_iter is in ms). */
export function utilization(p: ServiceParams, w: QmWorkload): number {
  const { inputTokens: i, outputTokens: o } = w;
  return (w.rps / 1000) * (p.beta * (i + o) + p.gamma * (o + 1) * (i + o / 2));
}

export interface QmPrediction {
  readonly iterationMs: number;
  readonly ttftMs: number;
  readonly itlMs: number;
  /** Mean concurrent requests (Little's law), at most the max batch. */
  readonly concurrency: number;
  /** The batch is full: arrivals beyond what it serves wait (the iteration time is the full batch's). */
  readonly saturated: boolean;
}

/**
 * Mean TTFT and ITL the model predicts. Without `maxBatchSize`, undefined when the replica is unstable (ρ ≥ 1). With
 * it, the iteration time is at most a full batch's, α + B·δ (T_iter = α + n·δ with n ≤ B): the document's analyzer
 * bounds the batch and the queue (DefaultMaxBatchSize, DefaultMaxQueueSize), so it predicts a finite latency at any
 * load, and the tuner can learn from a loaded replica whose estimate says ρ ≥ 1.
 */
export function predictLatency(p: ServiceParams, w: QmWorkload, maxBatchSize?: number): QmPrediction | undefined {
  const rho = utilization(p, w);
  const { inputTokens: i, outputTokens: o } = w;
  const delta = (p.beta * (i + o)) / (o + 1) + p.gamma * (i + o / 2);
  const full = maxBatchSize === undefined ? Infinity : p.alpha + maxBatchSize * delta;
  const open = rho < 1 ? p.alpha / (1 - rho) : Infinity;
  const iterationMs = Math.min(open, full);
  if (!Number.isFinite(iterationMs)) return undefined;
  const saturated = full <= open;
  return {
    iterationMs,
    ttftMs: iterationMs + (p.beta + p.gamma) * i,
    itlMs: iterationMs + p.beta + p.gamma * (i + (o + 1) / 2),
    concurrency: saturated ? (maxBatchSize ?? 0) : (w.rps / 1000) * (o + 1) * iterationMs,
    saturated,
  };
}

/**
 * λ*: the largest per-replica rate (req/s) whose predicted TTFT and ITL are within the target and whose concurrency
 * is within the max batch, by binary search between 0 and the rate at ρ = 1 (§4.3). 0 when even an idle replica
 * misses the target.
 */
export function maxRatePerReplica(
  p: ServiceParams,
  inputTokens: number,
  outputTokens: number,
  target: SloTarget,
  maxBatchSize: number,
): number {
  const ok = (rps: number): boolean => {
    const x = predictLatency(p, { rps, inputTokens, outputTokens }, maxBatchSize);
    return !!x && !x.saturated && x.ttftMs <= target.ttftMs && x.itlMs <= target.itlMs;
  };
  const atOne = utilization(p, { rps: 1, inputTokens, outputTokens });
  if (!(atOne > 0) || !ok(0)) return 0;
  let lo = 0;
  let hi = 1 / atOne; // ρ = 1
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** §3.2: the SLO inferred from learned parameters and k. */
export function inferredSlo(p: ServiceParams, k: number, inputTokens: number, outputTokens: number): SloTarget {
  return {
    ttftMs: k * p.alpha + (p.beta + p.gamma) * inputTokens,
    itlMs: k * p.alpha + p.beta + p.gamma * (inputTokens + (outputTokens + 1) / 2),
  };
}

/** §9.5: (α, β, γ) from light-load observations; undefined when any comes out ≤ 0. */
export function bootstrapParams(
  ttftMs: number,
  itlMs: number,
  inputTokens: number,
  outputTokens: number,
  baseFactor = QM_DEFAULTS.baseFactor,
): ServiceParams | undefined {
  const alpha = baseFactor * itlMs;
  const betaPlusGamma = (ttftMs - alpha) / inputTokens;
  const gamma = (itlMs - alpha - betaPlusGamma) / (inputTokens + (outputTokens + 1) / 2 - 1);
  const beta = betaPlusGamma - gamma;
  return alpha > 0 && beta > 0 && gamma > 0 && Number.isFinite(alpha + beta + gamma)
    ? { alpha, beta, gamma }
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// The tuner: an extended Kalman filter over (α, β, γ) (§4.2)
// ---------------------------------------------------------------------------------------------

/**
 * Measurement noise (standard deviation) as a share of each observed mean: WVA's tuner defaults (tuner/defaults.go)
 * expect a 95 % interval of ±5 % around each observation, DefaultErrorLevel 0.05 / DefaultTPercentile 1.96.
 */
const MEASUREMENT_REL = 0.05 / 1.96;
/** Process noise per cycle as a share of each parameter: DefaultPercentChange 0.05. */
const PROCESS_REL = 0.05;
/**
 * The initial covariance (in neither the document nor the defaults file): 50 % of each bootstrapped parameter, 100 % of
 * a default.
 */
const INITIAL_REL_BOOTSTRAP = 0.5;
const INITIAL_REL_DEFAULTS = 1;
/** State bounds around the initial estimate (DefaultMinStateFactor 0.01, DefaultMaxStateFactor 100): a clamp. */
const MIN_STATE_FACTOR = 0.01;
const MAX_STATE_FACTOR = 100;
/** Accepted updates before the parameters count as confident. */
export const CONFIDENT_UPDATES = 3;

export interface TunerState {
  readonly x: readonly [number, number, number];
  /** 3x3 row-major. */
  readonly P: readonly number[];
  /** The state limiter's box, set from the initial estimate. */
  readonly min: readonly number[];
  readonly max: readonly number[];
  readonly accepted: number;
  readonly rejected: number;
}

export interface TunerObservation {
  readonly workload: QmWorkload;
  readonly ttftMs: number;
  readonly itlMs: number;
}

const asParams = (x: readonly number[]): ServiceParams => ({ alpha: x[0] ?? 0, beta: x[1] ?? 0, gamma: x[2] ?? 0 });

function diag3(v: readonly number[]): number[] {
  return [v[0] ?? 0, 0, 0, 0, v[1] ?? 0, 0, 0, 0, v[2] ?? 0];
}

/** The tuner's first state: the bootstrap when it works, else the defaults, with a covariance to match. */
export function initialTunerState(obs: TunerObservation, cfg: QueueingModelConfig = QM_DEFAULTS): TunerState {
  const boot = bootstrapParams(
    obs.ttftMs,
    obs.itlMs,
    obs.workload.inputTokens,
    obs.workload.outputTokens,
    cfg.baseFactor,
  );
  const p = boot ?? cfg.defaults;
  const rel = boot ? INITIAL_REL_BOOTSTRAP : INITIAL_REL_DEFAULTS;
  const x: [number, number, number] = [p.alpha, p.beta, p.gamma];
  return {
    x,
    P: diag3(x.map((v) => (rel * v) ** 2)),
    min: x.map((v) => v * MIN_STATE_FACTOR),
    max: x.map((v) => v * MAX_STATE_FACTOR),
    accepted: 0,
    rejected: 0,
  };
}

function observe(x: readonly number[], w: QmWorkload, maxBatchSize: number): [number, number] | undefined {
  const y = predictLatency(asParams(x), w, maxBatchSize);
  return y ? [y.ttftMs, y.itlMs] : undefined;
}

/**
 * One cycle of the filter: predict (identity transition, process noise), update on the observation, keep the
 * previous estimate when the NIS reaches `maxNis` or when a parameter would become ≤ 0.
 */
export function tunerStep(
  s: TunerState,
  obs: TunerObservation,
  maxNis = QM_DEFAULTS.maxNis,
  maxBatchSize = QM_DEFAULTS.maxBatchSize,
): TunerState {
  const x = s.x;
  const P = s.P.map((v, k) => v + (k % 4 === 0 ? (PROCESS_REL * (x[k / 4] ?? 0)) ** 2 : 0));
  const h = observe(x, obs.workload, maxBatchSize);
  // A rejected update restores the state and covariance from before the prediction (WVA's tuner stashes both).
  const reject: TunerState = { ...s, rejected: s.rejected + 1 };
  if (!h) return reject;
  // Jacobian H (2x3) by central differences.
  const H: number[] = [];
  const cols: [number, number][] = [];
  for (let j = 0; j < 3; j++) {
    const d = Math.max(Math.abs(x[j] ?? 0) * 1e-4, 1e-12);
    const up = [...x];
    const down = [...x];
    up[j] = (up[j] ?? 0) + d;
    down[j] = Math.max((down[j] ?? 0) - d, 1e-12);
    const hu = observe(up, obs.workload, maxBatchSize);
    const hd = observe(down, obs.workload, maxBatchSize);
    if (!hu || !hd) return reject;
    const span = (up[j] ?? 0) - (down[j] ?? 0);
    cols.push([(hu[0] - hd[0]) / span, (hu[1] - hd[1]) / span]);
  }
  for (let r = 0; r < 2; r++) for (let j = 0; j < 3; j++) H.push(cols[j]?.[r] ?? 0);
  const at = (M: readonly number[], r: number, c: number, n: number): number => M[r * n + c] ?? 0;
  // PHt (3x2) = P Hᵀ; S (2x2) = H P Hᵀ + R.
  const PHt: number[] = [];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 2; c++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += at(P, r, k, 3) * at(H, c, k, 3);
      PHt.push(v);
    }
  const S: number[] = [];
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += at(H, r, k, 3) * at(PHt, k, c, 2);
      S.push(v);
    }
  S[0] = (S[0] ?? 0) + (MEASUREMENT_REL * obs.ttftMs) ** 2;
  S[3] = (S[3] ?? 0) + (MEASUREMENT_REL * obs.itlMs) ** 2;
  const det = at(S, 0, 0, 2) * at(S, 1, 1, 2) - at(S, 0, 1, 2) * at(S, 1, 0, 2);
  if (!(det > 0)) return reject;
  const Si = [at(S, 1, 1, 2) / det, -at(S, 0, 1, 2) / det, -at(S, 1, 0, 2) / det, at(S, 0, 0, 2) / det];
  const y = [obs.ttftMs - h[0], obs.itlMs - h[1]];
  const y0 = y[0] ?? 0;
  const y1 = y[1] ?? 0;
  const nis = y0 * (at(Si, 0, 0, 2) * y0 + at(Si, 0, 1, 2) * y1) + y1 * (at(Si, 1, 0, 2) * y0 + at(Si, 1, 1, 2) * y1);
  if (!(nis < maxNis)) return reject;
  // K (3x2) = P Hᵀ S⁻¹.
  const K: number[] = [];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 2; c++) K.push(at(PHt, r, 0, 2) * at(Si, 0, c, 2) + at(PHt, r, 1, 2) * at(Si, 1, c, 2));
  // The state limiter clamps into the box; the positivity check then guards a box that reaches 0.
  const next = [0, 1, 2].map((r) =>
    Math.min(s.max[r] ?? Infinity, Math.max(s.min[r] ?? 0, (x[r] ?? 0) + at(K, r, 0, 2) * y0 + at(K, r, 1, 2) * y1)),
  );
  if (next.some((v) => !(v > 0) || !Number.isFinite(v))) return reject;
  // P' = (I − K H) P.
  const IKH: number[] = [];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++)
      IKH.push((r === c ? 1 : 0) - (at(K, r, 0, 2) * at(H, 0, c, 3) + at(K, r, 1, 2) * at(H, 1, c, 3)));
  const Pn: number[] = [];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += at(IKH, r, k, 3) * at(P, k, c, 3);
      Pn.push(v);
    }
  // Symmetrise: rounding would otherwise drift the covariance off symmetric over many cycles.
  const Ps = Pn.map((v, k) => (v + at(Pn, k % 3, Math.floor(k / 3), 3)) / 2);
  return { ...s, x: [next[0] ?? 0, next[1] ?? 0, next[2] ?? 0], P: Ps, accepted: s.accepted + 1 };
}

// ---------------------------------------------------------------------------------------------
// Workload aggregation (§4.1) and the policy
// ---------------------------------------------------------------------------------------------

export interface VariantWorkload {
  /** Sum of the busy pods' arrival rates (req/s). */
  readonly totalRps: number;
  readonly busyPods: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Arrival-weighted means over the busy pods that report them; undefined when none does. */
  readonly ttftMs: number | undefined;
  readonly itlMs: number | undefined;
}

/** Arrival-rate-weighted means over the pods with traffic; undefined without traffic or token lengths. */
export function aggregateWorkload(pods: readonly TokenPodView[]): VariantWorkload | undefined {
  const busy = pods.filter(
    (p) => (p.completionRps ?? 0) > 0 && p.avgPromptTokens !== undefined && p.avgOutputTokens !== undefined,
  );
  const total = busy.reduce((n, p) => n + (p.completionRps ?? 0), 0);
  if (!(total > 0)) return undefined;
  const weighted = (f: (p: TokenPodView) => number | undefined): number | undefined => {
    let w = 0;
    let s = 0;
    for (const p of busy) {
      const v = f(p);
      if (v === undefined) continue;
      w += p.completionRps ?? 0;
      s += (p.completionRps ?? 0) * v;
    }
    return w > 0 ? s / w : undefined;
  };
  return {
    totalRps: total,
    busyPods: busy.length,
    inputTokens: weighted((p) => p.avgPromptTokens) ?? 0,
    outputTokens: weighted((p) => p.avgOutputTokens) ?? 0,
    ttftMs: weighted((p) => p.avgTtftMs),
    itlMs: weighted((p) => p.avgItlMs),
  };
}

export class WvaQueueingModelPolicy implements ScalingPolicy {
  readonly name = 'wva-queueing-model';
  private readonly store = new Map<string, TunerState>();
  /** When each pod was first scraped (its age for the transient delay). */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly cfg: QueueingModelConfig = QM_DEFAULTS) {
    if (!(cfg.sloMultiplier > 1)) throw new Error(`sloMultiplier ${cfg.sloMultiplier}: expected > 1`);
    if (cfg.target && !(cfg.target.ttftMs > 0 && cfg.target.itlMs > 0))
      throw new Error('targetTTFT and targetITL must both be > 0 when set');
  }

  learnedServiceModels(): ReadonlyMap<string, LearnedServiceModel> {
    const out = new Map<string, LearnedServiceModel>();
    for (const [variantKey, s] of this.store) {
      const p = asParams(s.x);
      out.set(variantKey, { ...p, confident: s.accepted >= CONFIDENT_UPDATES });
    }
    return out;
  }

  decide(obs: PolicyObservation): PolicyOutput {
    if (!obs.tokens) throw new Error(`${this.name} reads token metrics: run it on the token-level fleet`);
    const pods = obs.tokens.pods;
    const present = new Set(pods.map((p) => p.pod));
    for (const p of pods) if (!this.firstSeen.has(p.pod)) this.firstSeen.set(p.pod, obs.now);
    for (const pod of this.firstSeen.keys()) if (!present.has(pod)) this.firstSeen.delete(pod);

    interface Analysed {
      readonly state: VariantState;
      readonly workload: VariantWorkload | undefined;
      readonly params: ServiceParams | undefined;
    }
    const analysed: Analysed[] = obs.variants.map((state) => {
      const mine = pods.filter((p) => p.deployment === state.variant.deployment);
      const workload = aggregateWorkload(mine);
      if (!workload) return { state, workload, params: undefined };
      // WVA's parameter store is keyed by variant (namespace and variant name).
      const key = state.variant.key;
      // Tune only on replicas past the transient delay (§8 TransientDelaySeconds).
      const settled = aggregateWorkload(
        mine.filter((p) => obs.now - (this.firstSeen.get(p.pod) ?? obs.now) >= this.cfg.transientDelayMs),
      );
      if (settled?.ttftMs !== undefined && settled.itlMs !== undefined && settled.inputTokens > 0) {
        const tobs: TunerObservation = {
          workload: {
            rps: settled.totalRps / settled.busyPods,
            inputTokens: settled.inputTokens,
            outputTokens: settled.outputTokens,
          },
          ttftMs: settled.ttftMs,
          itlMs: settled.itlMs,
        };
        // A new variant's tuner starts from the bootstrap and runs its first update on the same observation, as
        // WVA's createTunerForVariant then Run does.
        const prev = this.store.get(key) ?? initialTunerState(tobs, this.cfg);
        this.store.set(key, tunerStep(prev, tobs, this.cfg.maxNis, this.cfg.maxBatchSize));
      }
      const s = this.store.get(key);
      return { state, workload, params: s ? asParams(s.x) : undefined };
    });

    const target = this.resolveTarget(analysed);
    const hold = (why: string): PolicyOutput => ({
      values: new Map(obs.variants.map((s) => [s.variant.key, s.current])),
      target: 1,
      note: `hold: ${why}`,
    });
    if (!target) return hold('no SLO target yet');
    const capacity = new Map<string, number>();
    for (const a of analysed) {
      const w = a.workload;
      capacity.set(
        a.state.variant.key,
        a.params && w ? maxRatePerReplica(a.params, w.inputTokens, w.outputTokens, target, this.cfg.maxBatchSize) : 0,
      );
    }
    if (![...capacity.values()].some((c) => c > 0)) return hold('no variant could be analysed');
    const arrivals = analysed.reduce((n, a) => n + (a.workload?.totalRps ?? 0), 0);
    const values = new Map<string, number>();
    const byCost = [...analysed].sort(
      (x, y) => x.state.variant.cost - y.state.variant.cost || (x.state.variant.key < y.state.variant.key ? -1 : 1),
    );
    let left = arrivals;
    for (const a of byCost) {
      const v = a.state.variant;
      const c = capacity.get(v.key) ?? 0;
      // A variant the analysis could not size keeps its replicas (the optimizer's safe hold).
      if (c <= 0) {
        values.set(v.key, a.state.current);
        continue;
      }
      const n = Math.min(v.maxReplicas, Math.max(v.minReplicas, Math.ceil(left / c - 1e-9)));
      values.set(v.key, n);
      left = Math.max(0, left - n * c);
    }
    // The model keeps one replica: on the cheapest variant when every count came out 0.
    const first = byCost[0];
    if (first && [...values.values()].every((n) => n === 0)) values.set(first.state.variant.key, 1);
    const notes = byCost.map(
      (a) => `${a.state.variant.deployment} λ* ${(capacity.get(a.state.variant.key) ?? 0).toFixed(2)}`,
    );
    return {
      values,
      target: 1,
      note: `arrivals ${arrivals.toFixed(2)} req/s, target TTFT ${target.ttftMs.toFixed(0)} ms ITL ${target.itlMs.toFixed(1)} ms; ${notes.join(', ')}`,
    };
  }

  /** §3: explicit, else inferred from learned parameters (max over variants), else 1.5x observed (capped). */
  private resolveTarget(
    analysed: readonly { workload: VariantWorkload | undefined; params: ServiceParams | undefined }[],
  ): SloTarget | undefined {
    if (this.cfg.target) return this.cfg.target;
    let inferred: SloTarget | undefined;
    for (const a of analysed) {
      if (!a.params || !a.workload) continue;
      const t = inferredSlo(a.params, this.cfg.sloMultiplier, a.workload.inputTokens, a.workload.outputTokens);
      inferred = inferred
        ? { ttftMs: Math.max(inferred.ttftMs, t.ttftMs), itlMs: Math.max(inferred.itlMs, t.itlMs) }
        : t;
    }
    if (inferred) return inferred;
    const seen = analysed.map((a) => a.workload).find((w) => w?.ttftMs !== undefined && w.itlMs !== undefined);
    if (!seen?.ttftMs || !seen.itlMs) return undefined;
    return {
      ttftMs: Math.min(seen.ttftMs * this.cfg.fallbackHeadroom, this.cfg.maxFallbackTtftMs),
      itlMs: Math.min(seen.itlMs * this.cfg.fallbackHeadroom, this.cfg.maxFallbackItlMs),
    };
  }
}
