/**
 * Validation of the fleet's user-facing specs, and the mapping of a variant spec onto the token
 * model: the accelerator profile gives step time and KV blocks; the older shorthands (maxBatch,
 * kvPerRequest, serviceTimeMs) set maxNumSeqs, numGpuBlocks and a step-time scale so that a variant
 * written for the request-level emulator keeps about its old capacity and KV use.
 */
import { ACCELERATORS, ACCELERATOR_PROFILES, DEFAULT_BLOCK_SIZE, scaledStepTime, stepTimeMs } from './profiles.js';
import type { StepTimeParams } from './profiles.js';
import type { VariantParams } from './pod.js';
import { blocksFor } from './scheduler.js';
import type { Accelerator, FleetVariantSpec } from './types.js';

/** Mean request lengths of a model's generated (Poisson) requests. */
export interface RequestTokenMeans {
  readonly promptMean: number;
  readonly outputMean: number;
}

/**
 * Azure LLM inference trace 2023, conversation service (Patel et al., "Splitwise", ISCA 2024;
 * Azure/AzurePublicDataset data/AzureLLMInferenceTrace_conv.csv): 19,366 requests, mean
 * ContextTokens 1,154.7, mean GeneratedTokens 211.1.
 */
export const DEFAULT_REQUEST_TOKENS: RequestTokenMeans = { promptMean: 1155, outputMean: 211 };

/** vLLM's defaults for --max-num-seqs and --max-num-batched-tokens (v1, chunked prefill on). */
export const VLLM_DEFAULTS = { maxNumSeqs: 256, maxNumBatchedTokens: 8192 } as const;

export function resolveRequestTokens(value: unknown, where: string): RequestTokenMeans {
  if (value === undefined) return DEFAULT_REQUEST_TOKENS;
  if (!value || typeof value !== 'object')
    throw new Error(`${where} must be an object ({ promptMean, outputMean }), got ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  return {
    promptMean: positive(v.promptMean, `${where}.promptMean`, 'a number of tokens ≥ 1', 1),
    outputMean: positive(v.outputMean, `${where}.outputMean`, 'a number of tokens ≥ 1', 1),
  };
}

export function resolveVariant(v: FleetVariantSpec, where: string, tokens: RequestTokenMeans): VariantParams {
  if (!v || typeof v !== 'object') throw new Error(`${where} must be an object`);
  nonEmpty(v.deployment, `${where}.deployment`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v.deployment)) {
    throw new Error(
      `${where}.deployment "${v.deployment}" must be a Kubernetes name (lowercase alphanumerics, '-', '.')`,
    );
  }
  const accelerator = v.accelerator ?? 'H100';
  if (!ACCELERATORS.includes(accelerator))
    throw new Error(`${where}.accelerator ${JSON.stringify(accelerator)} must be one of ${ACCELERATORS.join(', ')}`);
  const profile = ACCELERATOR_PROFILES[accelerator];
  const blockSize = integer(v.blockSize ?? DEFAULT_BLOCK_SIZE, `${where}.blockSize`, 1);
  if (v.maxBatch !== undefined) integer(v.maxBatch, `${where}.maxBatch`, 1);
  const maxNumSeqs = integer(v.maxNumSeqs ?? v.maxBatch ?? VLLM_DEFAULTS.maxNumSeqs, `${where}.maxNumSeqs`, 1);
  const maxNumBatchedTokens = integer(
    v.maxNumBatchedTokens ?? VLLM_DEFAULTS.maxNumBatchedTokens,
    `${where}.maxNumBatchedTokens`,
    1,
  );
  const kvPerRequest = v.kvPerRequest;
  if (kvPerRequest !== undefined && !(typeof kvPerRequest === 'number' && kvPerRequest > 0 && kvPerRequest <= 1))
    throw new Error(`${where}.kvPerRequest ${String(kvPerRequest)} must be in (0, 1]`);
  // What a mean request holds while it runs: its prompt and, on average, half its output.
  const meanRequestBlocks = blocksFor(tokens.promptMean + tokens.outputMean / 2, blockSize);
  const numGpuBlocks = integer(
    v.numGpuBlocks ??
      (kvPerRequest !== undefined
        ? Math.max(1, Math.round(meanRequestBlocks / kvPerRequest))
        : Math.floor((profile.numGpuBlocks * DEFAULT_BLOCK_SIZE) / blockSize)),
    `${where}.numGpuBlocks`,
    1,
  );
  let step: StepTimeParams = profile;
  if (v.serviceTimeMs !== undefined) {
    const serviceTimeMs = positive(v.serviceTimeMs, `${where}.serviceTimeMs`, 'a number of ms > 0', 0);
    const batch = Math.max(1, Math.min(maxNumSeqs, Math.floor(numGpuBlocks / meanRequestBlocks)));
    step = scaledStepTime(profile, serviceTimeMs / meanServiceMs(profile, tokens, batch));
  }
  return {
    deployment: v.deployment,
    accelerator: accelerator satisfies Accelerator,
    numGpuBlocks,
    blockSize,
    maxNumSeqs,
    maxNumBatchedTokens,
    step,
    startupDelayMs: nonNegative(v.startupDelayMs ?? 0, `${where}.startupDelayMs`, 'a number of ms ≥ 0'),
  };
}

/**
 * Time a mean request runs when `batch` requests decode beside it: its prefill step, then one
 * decode step per further output token with `batch` sequences at the mean context.
 */
export function meanServiceMs(p: StepTimeParams, tokens: RequestTokenMeans, batch: number): number {
  const context = tokens.promptMean + tokens.outputMean / 2;
  return (
    stepTimeMs(p, tokens.promptMean, tokens.promptMean) +
    Math.max(0, tokens.outputMean - 1) * stepTimeMs(p, batch, batch * context)
  );
}

export function nonEmpty(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0)
    throw new Error(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
}

/** A finite number above `min` (strictly, when min is 0; at least min otherwise). */
export function positive(value: unknown, what: string, expected: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (min === 0 ? value <= 0 : value < min))
    throw new Error(`${what} ${String(value)} must be ${expected}`);
  return value;
}

export function nonNegative(value: unknown, what: string, expected: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${what} ${String(value)} must be ${expected}`);
  return value;
}

export function integer(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new Error(`${what} ${String(value)} must be an integer ≥ ${min}`);
  return value;
}
