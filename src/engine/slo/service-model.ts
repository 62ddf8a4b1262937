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

/** Random-walk drift: each parameter's variance grows by (DRIFT × its scale)². */
function withDrift(p: Mat3, x: Vec3): Mat3 {
  const out = [...p];
  for (let i = 0; i < 3; i++) {
    // Scale: the estimate, but never below a thousandth of the prior's spread (a parameter at 0 may move).
    const scale = Math.max(Math.abs(x[i] ?? 0), (PRIOR_STD[i] ?? 0) * 1e-3);
    out[i * 4] = (out[i * 4] ?? 0) + (DRIFT * scale) ** 2;
  }
  return out;
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

/** Keeps the covariance symmetric (rounding drifts it apart). */
function symmetrised(p: Mat3): Mat3 {
  const out = [...p];
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const m = ((out[i * 3 + j] ?? 0) + (out[j * 3 + i] ?? 0)) / 2;
      out[i * 3 + j] = m;
      out[j * 3 + i] = m;
    }
  return out;
}

interface Step {
  readonly x: Vec3;
  readonly p: Mat3;
  readonly outlier: boolean;
}

/** One scalar Kalman update with Huber down-weighting. */
function kalmanStep(x: Vec3, p: Mat3, o: Observation): Step {
  const r = (NOISE_REL * o.y) ** 2 + NOISE_ABS_MS ** 2;
  const ph = mulMatVec(p, o.h);
  const hph = Math.max(0, dot(o.h, ph));
  const innovation = o.y - dot(o.h, x);
  const s = hph + r;
  const z = Math.abs(innovation) / Math.sqrt(s);
  // Huber: beyond HUBER_K σ the innovation counts as if its variance were z/K times larger, so its
  // correction grows no further than K σ would give.
  const sEff = z > HUBER_K ? s * (z / HUBER_K) : s;
  const k: Vec3 = [(ph[0] ?? 0) / sEff, (ph[1] ?? 0) / sEff, (ph[2] ?? 0) / sEff];
  const nx: Vec3 = [
    Math.max(0, x[0] + k[0] * innovation),
    Math.max(0, x[1] + k[1] * innovation),
    Math.max(0, x[2] + k[2] * innovation),
  ];
  // Joseph-free form P - K (P h)ᵀ, with the effective S: P - ph phᵀ / sEff.
  const np: Mat3 = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) np.push((p[i * 3 + j] ?? 0) - (k[i] ?? 0) * (ph[j] ?? 0));
  return { x: nx, p: symmetrised(np), outlier: z > HUBER_K };
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

function valid(o: Observation): boolean {
  return Number.isFinite(o.y) && o.y > 0 && o.h.every((v) => Number.isFinite(v) && v >= 0);
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
  let x: Vec3 = [start.alpha, start.beta, start.gamma];
  let p: Mat3 = [...start.covariance];
  let run = start.outlierRun ?? 0;
  let itl = start.itlSamples ?? 0;
  let prefill = start.prefillSamples ?? 0;
  let itlRelStd = start.itlRelStd;
  let prefillRelStd = start.prefillRelStd;
  for (const o of usable) {
    p = withDrift(p, x);
    const step = kalmanStep(x, p, o);
    x = step.x;
    p = step.p;
    run = step.outlier ? run + 1 : 0;
    if (run >= CHANGE_RUN) {
      p = widened(p);
      run = 0;
    }
    if (o.kind === 'itl') itl++;
    else prefill++;
  }
  const state = { alpha: x[0], beta: x[1], gamma: x[2], covariance: p };
  // The uncertainty where the replicas run now: the latest regressor of each kind.
  const lastItl = [...usable].reverse().find((o) => o.kind === 'itl');
  const lastPrefill = [...usable].reverse().find((o) => o.kind === 'prefill');
  if (lastItl) itlRelStd = relativeStd(state, lastItl.h);
  if (lastPrefill) prefillRelStd = relativeStd(state, lastPrefill.h);
  const next: ServiceModelState = {
    ...state,
    samples: start.samples + usable.length,
    updates: (start.updates ?? 0) + 1,
    confident: false,
    updatedAt: now,
    itlSamples: itl,
    prefillSamples: prefill,
    outlierRun: run,
    ...(start.reopenedAt !== undefined ? { reopenedAt: start.reopenedAt } : {}),
    ...(itlRelStd !== undefined && Number.isFinite(itlRelStd) ? { itlRelStd } : {}),
    ...(prefillRelStd !== undefined && Number.isFinite(prefillRelStd) ? { prefillRelStd } : {}),
  };
  if (!isConfident(next)) return next;
  const { reopenedAt: _reopened, ...settled } = next;
  return { ...settled, confident: true };
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
