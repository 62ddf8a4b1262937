/**
 * Pure decisions of the emulated vLLM v1 scheduler (vllm/v1/core/sched/scheduler.py): KV blocks a
 * sequence needs, and how many identical decode steps can be applied at once without any event
 * (a finish, a block shortage, the time bound) falling inside them.
 */
import type { StepTimeParams } from './profiles.js';

/** KV blocks that hold `tokens` tokens. */
export function blocksFor(tokens: number, blockSize: number): number {
  return Math.ceil(tokens / blockSize);
}

/**
 * Total duration of k consecutive decode steps of n sequences whose cached tokens sum to
 * `kvTokens` before the first step: step j reads kvTokens + n × (j + 1) tokens and computes n.
 */
export function decodeRunMs(p: StepTimeParams, n: number, kvTokens: number, k: number): number {
  const first = p.alphaMs + p.betaMsPerToken * n + p.gammaMsPerKvToken * (kvTokens + n);
  return k * first + (p.gammaMsPerKvToken * n * k * (k - 1)) / 2;
}

/** Most decode steps (≤ cap) that end within `budgetMs`. */
export function decodeStepsWithin(
  p: StepTimeParams,
  n: number,
  kvTokens: number,
  budgetMs: number,
  cap: number,
): number {
  if (cap <= 0 || budgetMs <= 0) return 0;
  if (decodeRunMs(p, n, kvTokens, cap) <= budgetMs) return cap;
  let lo = 0;
  let hi = cap;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (decodeRunMs(p, n, kvTokens, mid) <= budgetMs) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Most decode steps (≤ cap) whose new blocks fit in `freeBlocks`: each step a sequence caches one
 * more token, and takes a new block when that token starts one.
 */
export function decodeStepsWithinBlocks(
  computed: readonly number[],
  blockSize: number,
  freeBlocks: number,
  cap: number,
): number {
  const need = (k: number): number => {
    let sum = 0;
    for (const c of computed) sum += blocksFor(c + k, blockSize) - blocksFor(c, blockSize);
    return sum;
  };
  if (cap <= 0) return 0;
  if (need(cap) <= freeBlocks) return cap;
  let lo = 0;
  let hi = cap;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (need(mid) <= freeBlocks) lo = mid;
    else hi = mid;
  }
  return lo;
}
