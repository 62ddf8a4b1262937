/**
 * The learned service model of one variant (pure): iteration time (ms) = α + β·(tokens computed in
 * the step) + γ·(KV tokens the step reads), the model llm-d WVA's QueueingModelAnalyzer learns
 * (docs/developer-guide/slo-queuemodel.md, "How It Works" and "Theoretical Background") and the one
 * the token fleet runs (src/sim/fleet/profiles.ts).
 *
 * Estimator: a Kalman filter on the state x = [α, β, γ] with a random-walk process model. Each
 * observation (observations.ts) is a measured latency y with a regressor h built from measured
 * batch and token counts, y = h·x + noise: linear in x, so the plain Kalman update is exact and no
 * linearisation is needed (WVA uses an extended Kalman filter because its observation goes through
 * its queueing model; ours does not).
 *
 * Contract:
 *  - `updateServiceModel(prev, observations, now)` returns a new state; `prev` is never mutated.
 *  - Robust to outliers: an innovation beyond HUBER_K standard deviations is down-weighted (Huber:
 *    the noise is inflated so that its correction is bounded, never dropped), so one wild sample
 *    moves the estimate by a bounded amount.
 *  - A change of speed (another GPU behind the same variant, a driver update) shows as a run of
 *    such outliers: after CHANGE_RUN of them in a row the covariance is widened back towards the
 *    prior, so the filter re-learns in a few cycles instead of creeping.
 *  - `reopenServiceModel(s, now)`: the same estimate with its covariance widened back towards the
 *    prior, no standing confidence (the relative spreads dropped, so it is confident again only once
 *    fresh observations of both kinds bring them back within MAX_REL_STD) and `reopenedAt` set until
 *    then (while it is set the learner also takes full-cache replicas' ITL, observations.ts). For a
 *    model that measurement contradicts (contradiction.ts), which a run of outliers may not reveal:
 *    a replica that teaches nothing (full cache) gives no outlier at all.
 *  - Non-negative: after each update a negative parameter is projected to 0 (a time per token
 *    cannot be negative; the projection is the usual constrained-Kalman shortcut).
 *  - Confidence (`confident`): enough samples of both kinds (ITL and prefill) over at least
 *    MIN_UPDATES updates (the 1-minute windows of successive cycles overlap, and many replicas of
 *    one cycle see the same moment: a cold start's first overloaded minute alone must not make a
 *    model confident), and the relative standard deviation of the predicted latency at the latest
 *    observation of each kind at most MAX_REL_STD. Only a confident model sizes replicas (the
 *    engine falls back to saturation sizing before).
 *  - The state is a plain JSON value (shared store, /debug/decisions).
 */

/** The state of one variant's learner (JSON-serialisable). */
export interface ServiceModelState {
  /** ms per iteration. */
  readonly alpha: number;
  /** ms per token computed. */
  readonly beta: number;
  /** ms per KV token read. */
  readonly gamma: number;
  /** 3x3 covariance of [α, β, γ], row-major. */
  readonly covariance: readonly number[];
  /** Observations taken in (outliers included, down-weighted). */
  readonly samples: number;
  readonly confident: boolean;
  /** Epoch ms of the last update. */
  readonly updatedAt: number;
  /** Observations of each kind taken in (absent in states written before they existed: 0). */
  readonly itlSamples?: number;
  readonly prefillSamples?: number;
  /** Consecutive down-weighted observations (a run means the speed changed). */
  readonly outlierRun?: number;
  /** Updates that took observations in (absent in states written before it existed: 0). */
  readonly updates?: number;
  /** Epoch ms measurement contradicted the model, until it is confident again (absent: not re-opened). */
  readonly reopenedAt?: number;
  /** Relative standard deviation of the prediction at the latest observation of each kind. */
  readonly itlRelStd?: number;
  readonly prefillRelStd?: number;
}

export type ObservationKind = 'itl' | 'prefill';

/** One measured latency and the regressor it is linear in: y ≈ h[0]·α + h[1]·β + h[2]·γ. */
export interface Observation {
  readonly kind: ObservationKind;
  /** Measured latency, ms. */
  readonly y: number;
  readonly h: readonly [number, number, number];
}

/**
 * The prior: WVA's documented defaults order of magnitude (α ~ 10 ms, β ~ 0.05 ms/token, γ ~ 5e-5
 * ms/token, slo-queuemodel.md "Defaults Reference"), with a standard deviation wide enough to hold
 * an L4 (α ≈ 56 ms, γ ≈ 4e-4) as well as an H100.
 */
export const PRIOR_MEAN: readonly [number, number, number] = [10, 0.05, 5e-5];
export const PRIOR_STD: readonly [number, number, number] = [50, 0.3, 1e-3];
/** Relative process noise per update: the parameters may drift this much (1 σ) per observation. */
export const DRIFT = 0.01;
/** Measurement noise: relative (1 σ) plus an absolute floor in ms. */
export const NOISE_REL = 0.1;
export const NOISE_ABS_MS = 0.5;
/** Huber threshold in innovation standard deviations. */
export const HUBER_K = 3;
/** Down-weighted observations in a row that mean the speed changed. */
export const CHANGE_RUN = 6;
/** Samples of each kind, and in all, before the model may be confident. */
export const MIN_KIND_SAMPLES = 5;
export const MIN_SAMPLES = 12;
/** Updates (engine cycles that gave observations) before the model may be confident: 2 minutes at 15 s. */
export const MIN_UPDATES = 8;
/** Largest relative standard deviation of a prediction for the model to be confident. */
export const MAX_REL_STD = 0.1;

type Vec3 = [number, number, number];
type Mat3 = number[];

function priorCovariance(): Mat3 {
  const [a, b, g] = PRIOR_STD;
  return [a * a, 0, 0, 0, b * b, 0, 0, 0, g * g];
}

/** A learner that knows nothing yet. */
export function initialServiceModel(now: number): ServiceModelState {
  return {
    alpha: PRIOR_MEAN[0],
    beta: PRIOR_MEAN[1],
    gamma: PRIOR_MEAN[2],
    covariance: priorCovariance(),
    samples: 0,
    confident: false,
    updatedAt: now,
    itlSamples: 0,
    prefillSamples: 0,
    outlierRun: 0,
    updates: 0,
  };
}

function mulMatVec(p: Mat3, h: readonly number[]): Vec3 {
  return [
    (p[0] ?? 0) * (h[0] ?? 0) + (p[1] ?? 0) * (h[1] ?? 0) + (p[2] ?? 0) * (h[2] ?? 0),
    (p[3] ?? 0) * (h[0] ?? 0) + (p[4] ?? 0) * (h[1] ?? 0) + (p[5] ?? 0) * (h[2] ?? 0),
    (p[6] ?? 0) * (h[0] ?? 0) + (p[7] ?? 0) * (h[1] ?? 0) + (p[8] ?? 0) * (h[2] ?? 0),
  ];
}

function dot(a: readonly number[], b: readonly number[]): number {
  return (a[0] ?? 0) * (b[0] ?? 0) + (a[1] ?? 0) * (b[1] ?? 0) + (a[2] ?? 0) * (b[2] ?? 0);
}

/** Variance of the prediction h·x. */
function predictionVariance(p: Mat3, h: readonly number[]): number {
  return Math.max(0, dot(h, mulMatVec(p, h)));
}

/** Widened back towards the prior (a change of speed): the larger of each variance and a quarter of the prior's. */
function widened(p: Mat3): Mat3 {
  const prior = priorCovariance();
  const out = [...p];
  for (let i = 0; i < 3; i++) out[i * 4] = Math.max(out[i * 4] ?? 0, (prior[i * 4] ?? 0) / 4);
  return out;
}

/** A model measurement contradicts, re-opened so that it re-learns (see the file header). */
export function reopenServiceModel(s: ServiceModelState, now: number): ServiceModelState {
  const { itlRelStd: _itl, prefillRelStd: _prefill, ...rest } = s;
  return { ...rest, covariance: widened([...s.covariance]), outlierRun: 0, confident: false, reopenedAt: now };
}

/**
 * One scalar Kalman update with Huber down-weighting, preceded by the random-walk drift (each
 * parameter's variance grows by (DRIFT × its scale)²), in place on `x` and `p`: the learner runs
 * once per observation of every replica every cycle (20,000 a cycle at 1,000 variants of 10 pods),
 * so it allocates nothing. Returns whether the observation was an outlier (down-weighted).
 */
function kalmanStep(x: number[], p: number[], o: Observation): boolean {
  for (let i = 0; i < 3; i++) {
    // Scale: the estimate, but never below a thousandth of the prior's spread (a parameter at 0 may move).
    const scale = Math.max(Math.abs(x[i] as number), (PRIOR_STD[i] as number) * 1e-3);
    p[i * 4] = (p[i * 4] as number) + (DRIFT * scale) ** 2;
  }
  const h0 = o.h[0];
  const h1 = o.h[1];
  const h2 = o.h[2];
  const r = (NOISE_REL * o.y) ** 2 + NOISE_ABS_MS ** 2;
  const ph0 = (p[0] as number) * h0 + (p[1] as number) * h1 + (p[2] as number) * h2;
  const ph1 = (p[3] as number) * h0 + (p[4] as number) * h1 + (p[5] as number) * h2;
  const ph2 = (p[6] as number) * h0 + (p[7] as number) * h1 + (p[8] as number) * h2;
  const hph = Math.max(0, h0 * ph0 + h1 * ph1 + h2 * ph2);
  const innovation = o.y - (h0 * (x[0] as number) + h1 * (x[1] as number) + h2 * (x[2] as number));
  const s = hph + r;
  const z = Math.abs(innovation) / Math.sqrt(s);
  // Huber: beyond HUBER_K σ the innovation counts as if its variance were z/K times larger, so its
  // correction grows no further than K σ would give.
  const sEff = z > HUBER_K ? s * (z / HUBER_K) : s;
  const k0 = ph0 / sEff;
  const k1 = ph1 / sEff;
  const k2 = ph2 / sEff;
  x[0] = Math.max(0, (x[0] as number) + k0 * innovation);
  x[1] = Math.max(0, (x[1] as number) + k1 * innovation);
  x[2] = Math.max(0, (x[2] as number) + k2 * innovation);
  // Joseph-free form P - K (P h)ᵀ, with the effective S: P - ph phᵀ / sEff; then kept symmetric
  // (rounding drifts it apart).
  p[0] = (p[0] as number) - k0 * ph0;
  p[1] = (p[1] as number) - k0 * ph1;
  p[2] = (p[2] as number) - k0 * ph2;
  p[3] = (p[3] as number) - k1 * ph0;
  p[4] = (p[4] as number) - k1 * ph1;
  p[5] = (p[5] as number) - k1 * ph2;
  p[6] = (p[6] as number) - k2 * ph0;
  p[7] = (p[7] as number) - k2 * ph1;
  p[8] = (p[8] as number) - k2 * ph2;
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const m = ((p[i * 3 + j] as number) + (p[j * 3 + i] as number)) / 2;
      p[i * 3 + j] = m;
      p[j * 3 + i] = m;
    }
  return z > HUBER_K;
}

/** Relative standard deviation of the prediction for `h` under (x, p); Infinity when it predicts ≤ 0. */
export function relativeStd(
  state: Pick<ServiceModelState, 'alpha' | 'beta' | 'gamma' | 'covariance'>,
  h: readonly number[],
): number {
  const mean = dot(h, [state.alpha, state.beta, state.gamma]);
  if (!(mean > 0)) return Infinity;
  return Math.sqrt(predictionVariance([...state.covariance], h)) / mean;
}

/** Whether a state may size replicas (see the file header). */
export function isConfident(s: ServiceModelState): boolean {
  return (
    s.samples >= MIN_SAMPLES &&
    (s.updates ?? 0) >= MIN_UPDATES &&
    (s.itlSamples ?? 0) >= MIN_KIND_SAMPLES &&
    (s.prefillSamples ?? 0) >= MIN_KIND_SAMPLES &&
    (s.itlRelStd ?? Infinity) <= MAX_REL_STD &&
    (s.prefillRelStd ?? Infinity) <= MAX_REL_STD
  );
}

/** Finite and not negative (NaN fails both comparisons); no closure, it runs per observation. */
function finiteNonNegative(v: number): boolean {
  return v >= 0 && v < Infinity;
}

function valid(o: Observation): boolean {
  return (
    o.y > 0 &&
    finiteNonNegative(o.y) &&
    finiteNonNegative(o.h[0]) &&
    finiteNonNegative(o.h[1]) &&
    finiteNonNegative(o.h[2])
  );
}

/** The state after taking in `observations` (in order); `prev` itself when none is usable. */
export function updateServiceModel(
  prev: ServiceModelState | undefined,
  observations: readonly Observation[],
  now: number,
): ServiceModelState | undefined {
  const usable = observations.filter(valid);
  if (usable.length === 0) return prev;
  const start = prev ?? initialServiceModel(now);
  const x = [start.alpha, start.beta, start.gamma];
  let p = start.covariance.slice();
  let run = start.outlierRun ?? 0;
  let itl = start.itlSamples ?? 0;
  let prefill = start.prefillSamples ?? 0;
  let itlRelStd = start.itlRelStd;
  let prefillRelStd = start.prefillRelStd;
  let lastItl: Observation | undefined;
  let lastPrefill: Observation | undefined;
  for (const o of usable) {
    run = kalmanStep(x, p, o) ? run + 1 : 0;
    if (run >= CHANGE_RUN) {
      p = widened(p);
      run = 0;
    }
    if (o.kind === 'itl') {
      itl++;
      lastItl = o;
    } else {
      prefill++;
      lastPrefill = o;
    }
  }
  const state = { alpha: x[0] as number, beta: x[1] as number, gamma: x[2] as number, covariance: p };
  // The uncertainty where the replicas run now: the latest regressor of each kind.
  if (lastItl) itlRelStd = relativeStd(state, lastItl.h);
  if (lastPrefill) prefillRelStd = relativeStd(state, lastPrefill.h);
  const next: ServiceModelState = {
    alpha: state.alpha,
    beta: state.beta,
    gamma: state.gamma,
    covariance: state.covariance,
    samples: start.samples + usable.length,
    updates: (start.updates ?? 0) + 1,
    confident: false,
    updatedAt: now,
    itlSamples: itl,
    prefillSamples: prefill,
    outlierRun: run,
    reopenedAt: start.reopenedAt,
    itlRelStd: itlRelStd !== undefined && Number.isFinite(itlRelStd) ? itlRelStd : undefined,
    prefillRelStd: prefillRelStd !== undefined && Number.isFinite(prefillRelStd) ? prefillRelStd : undefined,
  };
  if (!isConfident(next)) return next;
  return { ...next, reopenedAt: undefined, confident: true };
}

/** Predicted iteration time (ms) for a step computing `tokens` and reading `kvTokens`. */
export function iterationMs(
  s: Pick<ServiceModelState, 'alpha' | 'beta' | 'gamma'>,
  tokens: number,
  kvTokens: number,
): number {
  return s.alpha + s.beta * tokens + s.gamma * kvTokens;
}

/** A state read back from the shared store: the value when it has the contract's shape, else undefined. */
export function parseServiceModel(raw: unknown): ServiceModelState | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const num = (k: string): number | undefined => {
    const v = r[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const alpha = num('alpha');
  const beta = num('beta');
  const gamma = num('gamma');
  const samples = num('samples');
  const updatedAt = num('updatedAt');
  const cov = r['covariance'];
  if (
    alpha === undefined ||
    beta === undefined ||
    gamma === undefined ||
    samples === undefined ||
    updatedAt === undefined ||
    !Array.isArray(cov) ||
    cov.length !== 9 ||
    !cov.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    return undefined;
  const opt = (k: string): Record<string, number> => {
    const v = num(k);
    return v === undefined ? {} : { [k]: v };
  };
  const state: ServiceModelState = {
    alpha,
    beta,
    gamma,
    covariance: cov as number[],
    samples,
    confident: false,
    updatedAt,
    ...opt('itlSamples'),
    ...opt('prefillSamples'),
    ...opt('outlierRun'),
    ...opt('updates'),
    ...opt('reopenedAt'),
    ...opt('itlRelStd'),
    ...opt('prefillRelStd'),
  };
  // Confidence is recomputed, not trusted: the rule is this build's.
  return { ...state, confident: isConfident(state) };
}
