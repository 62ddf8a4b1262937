/**
 * Predicted latency of one replica at an arrival rate (pure), from its learned iteration time
 * α + β·tokens + γ·KV tokens (service-model.ts), and the highest rate it takes within targets.
 *
 * WVA's QueueingModelAnalyzer solves a state-dependent Markovian queue with up to `maxBatchSize`
 * requests in service (llm-d WVA docs/developer-guide/slo-queuemodel.md, "Theoretical Background";
 * github.com/llm-inferno/queue-analysis). This is a closed-form approximation of the same system:
 *
 *  - Continuous batching in steady state. With λ req/s, P prompt and O output tokens per request, a
 *    step of length T ms holds n = λ·O·T/1000 decoding requests (Little's law: each stays O steps),
 *    computes n decode tokens plus λ·P·T/1000 prompt tokens of arrivals, and reads about
 *    n·(P + O/2) KV tokens. So T = α + T·ρ with ρ = λ/1000·(β·(P + O) + γ·O·(P + O/2)), i.e.
 *        ITL = T = α / (1 − ρ),
 *    finite while ρ < 1 (the replica keeps up) and while n fits the batch (maxBatch).
 *  - Time to first token = wait for the step in progress to end (uniform in [0, T]) + the step that
 *    prefills the prompt (T + β·P + γ·P) + waiting for a batch slot when the batch is full. The slot
 *    wait is M/M/c's (Erlang C) with c = maxBatch slots each held O·T ms; its p95 is
 *    ln(C / 0.05) / (c·μ − λ) when the chance of waiting C exceeds 5 %, else 0.
 *  - p95 TTFT = 0.95·T + prefill step for a prompt of PROMPT_P95_FACTOR × P + slot-wait p95. A mean
 *    prompt alone would understate the tail (prompt lengths are skewed).
 *
 * Every prediction is non-decreasing in λ (T, n and the slot wait all grow with λ), which makes the
 * binary search of `maxRateWithin` exact and sizing monotone.
 */
import type { ServiceModelState } from './service-model.js';

/** What a replica serves: mean tokens per request and its batch limit. */
export interface Workload {
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** Requests one replica runs at once: min(max_num_seqs, what its KV cache holds). */
  readonly maxBatch: number;
}

export interface LatencyTargets {
  /** p95 time to first token, ms. */
  readonly ttftMs: number;
  /** Mean inter-token latency, ms. */
  readonly itlMs: number;
}

export interface LatencyPrediction {
  readonly itlMs: number;
  readonly ttftP95Ms: number;
  /** Requests in the batch (decoding) on average. */
  readonly batch: number;
}

/** The p95 prompt over the mean prompt assumed for TTFT's tail. */
export const PROMPT_P95_FACTOR = 2;
/** vLLM's default max_num_seqs, the batch limit when the KV cache does not bind first. */
export const DEFAULT_MAX_NUM_SEQS = 256;

type Params = Pick<ServiceModelState, 'alpha' | 'beta' | 'gamma'>;

/** Per-token work of one request over its life (ms): its prompt and output computed, its KV read while it decodes. */
function requestWorkMs(p: Params, w: Workload): number {
  const P = w.promptTokens;
  const O = w.outputTokens;
  return p.beta * (P + O) + p.gamma * O * (P + O / 2);
}

/** ρ of the header: the share of each step that per-token work adds per unit of step time. */
function tokenLoad(p: Params, w: Workload, lambda: number): number {
  return (lambda / 1000) * requestWorkMs(p, w);
}

/**
 * The arrival rate (req/s) at which one replica stops keeping up (ρ = 1): what it serves flat out
 * at this workload's token mix, before its batch limit. Infinity when the model has no per-token work.
 */
export function flatOutRate(p: Params, w: Workload): number {
  const work = requestWorkMs(p, w);
  return work > 0 ? 1000 / work : Infinity;
}

/** Erlang C: the chance an arrival waits, for c servers at offered load a (stable recursion through Erlang B). */
export function erlangC(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return (c * b) / (c - a * (1 - b));
}

/** The p95 wait for a batch slot (ms): M/M/c with c slots each held `holdMs`. */
function slotWaitP95(lambda: number, slots: number, holdMs: number): number {
  if (lambda <= 0) return 0;
  const mu = 1000 / holdMs; // completions per second per slot
  const a = lambda / mu;
  const c = Math.max(1, Math.floor(slots));
  if (a >= c) return Infinity;
  const wait = erlangC(c, a);
  if (wait <= 0.05) return 0;
  return (Math.log(wait / 0.05) / (c * mu - lambda)) * 1000;
}

/** Predicted ITL and p95 TTFT at `lambda` req/s; Infinity where the replica cannot keep up. */
export function predictLatency(p: Params, w: Workload, lambda: number): LatencyPrediction {
  const rho = tokenLoad(p, w, lambda);
  if (!(rho < 1)) return { itlMs: Infinity, ttftP95Ms: Infinity, batch: Infinity };
  const t = p.alpha / (1 - rho);
  const batch = (lambda * w.outputTokens * t) / 1000;
  const slotWait = slotWaitP95(lambda, w.maxBatch, w.outputTokens * t);
  const prompt = PROMPT_P95_FACTOR * w.promptTokens;
  const prefillStep = t + (p.beta + p.gamma) * prompt;
  return { itlMs: t, ttftP95Ms: 0.95 * t + prefillStep + slotWait, batch };
}

function within(pred: LatencyPrediction, targets: LatencyTargets): boolean {
  return pred.itlMs <= targets.itlMs && pred.ttftP95Ms <= targets.ttftMs;
}

/** Relative precision of the binary search. */
const PRECISION = 1e-4;

/**
 * The highest arrival rate (req/s) one replica takes with both predictions within targets; 0 when
 * even an idle replica misses them (α alone above the ITL target, say).
 */
export function maxRateWithin(p: Params, w: Workload, targets: LatencyTargets): number {
  if (!within(predictLatency(p, w, 0), targets)) return 0;
  // An upper bound where the replica cannot keep up (ρ = 1), or a large rate when ρ does not grow.
  const flat = flatOutRate(p, w);
  let hi = Number.isFinite(flat) ? flat : 1e6;
  let lo = 0;
  if (within(predictLatency(p, w, hi), targets)) return hi;
  while (hi - lo > PRECISION * Math.max(hi, 1e-9)) {
    const mid = (lo + hi) / 2;
    if (within(predictLatency(p, w, mid), targets)) lo = mid;
    else hi = mid;
  }
  return lo;
}
