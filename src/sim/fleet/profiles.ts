/**
 * Accelerator profiles for one replica serving meta-llama/Llama-3.1-8B-Instruct (BF16, TP 1) in
 * vLLM v1, and the step-time model the emulator runs on.
 *
 * Step time follows llm-d WVA's iteration-time model (α/β/γ, `docs/developer-guide/slo-queuemodel.md`
 * in llm-d/llm-d-workload-variant-autoscaler, §9 "Hardware Parameters"):
 *
 *   stepMs = α + β × (tokens computed in the step) + γ × (KV tokens the step reads)
 *
 * α is the per-iteration floor (reading the weights once plus scheduling/sampling overhead), β the
 * compute per token (GPU FLOP throughput), γ the KV-cache read per cached token (HBM bandwidth).
 * A decode sequence computes 1 token and reads its whole context; a prefill chunk of c tokens
 * computes c and reads what is already cached plus itself.
 *
 * Every number is derived below from the model's shape and the GPU's datasheet, with the
 * arithmetic shown, and checked against a published measurement where one exists.
 */
import type { Accelerator } from './types.js';

export interface StepTimeParams {
  /** Per-step floor in ms (weights read + engine overhead). */
  readonly alphaMs: number;
  /** Compute per batched token in ms. */
  readonly betaMsPerToken: number;
  /** KV-cache read per cached token in ms. */
  readonly gammaMsPerKvToken: number;
}

export interface AcceleratorProfile extends StepTimeParams {
  readonly accelerator: Accelerator;
  /** KV blocks (16 tokens each) one replica holds for Llama-3.1-8B at gpu_memory_utilization 0.9. */
  readonly numGpuBlocks: number;
  /** Prompt tokens per second one replica prefills at a full 8,192-token step (no decode in the step). */
  readonly peakPrefillTokensPerS: number;
  /** Where the numbers come from. */
  readonly source: string;
}

// ---- Llama-3.1-8B-Instruct shape (huggingface.co/meta-llama/Llama-3.1-8B-Instruct, config.json) ----
/** 8.03 B parameters × 2 bytes (BF16) = 16.06 GB of weights read once per step. */
const WEIGHT_BYTES = 8.03e9 * 2;
/** Forward FLOPs per token ≈ 2 × parameters. */
const FLOPS_PER_TOKEN = 2 * 8.03e9;
/** 32 layers × 8 KV heads × 128 head dim × 2 (K and V) × 2 bytes = 131,072 B = 128 KiB per token. */
export const KV_BYTES_PER_TOKEN = 32 * 8 * 128 * 2 * 2;
/** vLLM's default block size. */
export const DEFAULT_BLOCK_SIZE = 16;
const GIB = 1024 ** 3;

/**
 * KV blocks vLLM allocates: (total × gpu_memory_utilization − weights − activation peak and
 * non-torch memory) / (block_size × KV bytes per token). The 1.5 GiB of activations and
 * non-torch memory is vLLM's own profile for this model: vllm-project/vllm#10517 (Llama-3.1-8B-Instruct
 * on a 23.58 GiB GPU: weights 14.99 GiB, peak torch 17.06 GiB at a 20,000-token profile,
 * non-torch 0.35 GiB, 1,952 GPU blocks); scaled to an 8,192-token profile (max_num_batched_tokens)
 * that is ≈ 0.85 GiB + 0.35 GiB, rounded up to 1.5 GiB for CUDA graphs.
 * Cross-check with that issue: (23.58 × 0.9 − 14.99 − 2.07 − 0.35) GiB / 2 MiB per block = 1,956 ≈ 1,952.
 */
function gpuBlocks(totalGiB: number): number {
  const kvBytes = (totalGiB * 0.9 - WEIGHT_BYTES / GIB - 1.5) * GIB;
  return Math.floor(kvBytes / (DEFAULT_BLOCK_SIZE * KV_BYTES_PER_TOKEN));
}

/**
 * Engine overhead per step beyond the weight read (scheduling, sampling, detokenising, launch):
 * vLLM's CI (buildkite.com/vllm/performance-benchmark/builds/9515, latency_llama8B_tp1, H200,
 * batch 8, 32 prompt / 128 output tokens) measured 833 ms = 6.5 ms per step; the H200 reads the
 * 16.06 GB of weights in 16.06 / 4.8 TB/s = 3.35 ms, and 8 tokens of compute and KV are < 0.5 ms,
 * leaving ≈ 2.5 ms of overhead per step.
 */
const STEP_OVERHEAD_MS = 2.5;

/**
 * Prefill runs at an assumed model FLOPs utilisation of 0.5 of the dense BF16 peak (large GEMMs;
 * an assumption, not a measurement: no per-GPU vLLM prefill figure for this model was found).
 * The resulting H100 peak (~30 k prompt tokens/s) sits in the range vLLM users report for 8B models.
 */
const PREFILL_MFU = 0.5;

interface Datasheet {
  /** GPU memory as the driver reports it (GiB). */
  readonly memoryGiB: number;
  /** HBM/GDDR bandwidth, bytes per second. */
  readonly bandwidth: number;
  /** Dense BF16 tensor FLOP/s (without sparsity). */
  readonly bf16Flops: number;
  readonly sheet: string;
}

/** Datasheet figures (nvidia.com product pages, SXM/80 GB parts where several exist). */
const DATASHEETS: Record<Accelerator, Datasheet> = {
  // H100 SXM 80 GB: 3.35 TB/s, 989 TFLOPS BF16 dense (1,979 with sparsity); driver reports 79.19 GiB usable.
  H100: { memoryGiB: 79.19, bandwidth: 3.35e12, bf16Flops: 989e12, sheet: 'nvidia.com/en-us/data-center/h100' },
  // A100 SXM 80 GB: 2,039 GB/s, 312 TFLOPS BF16 dense; driver reports 79.15 GiB usable.
  A100: { memoryGiB: 79.15, bandwidth: 2.039e12, bf16Flops: 312e12, sheet: 'nvidia.com/en-us/data-center/a100' },
  // L4 24 GB: 300 GB/s, 121 TFLOPS BF16 dense (242 with sparsity); driver reports 22.49 GiB (23,034 MiB).
  L4: { memoryGiB: 22.49, bandwidth: 300e9, bf16Flops: 121e12, sheet: 'nvidia.com/en-us/data-center/l4' },
};

function profileOf(accelerator: Accelerator): AcceleratorProfile {
  const d = DATASHEETS[accelerator];
  // α: weights read once per step + overhead. H100: 16.06e9 / 3.35e12 = 4.79 ms + 2.5 = 7.29 ms;
  // A100: 7.88 + 2.5 = 10.38 ms; L4: 53.5 + 2.5 = 56.0 ms.
  const alphaMs = (WEIGHT_BYTES / d.bandwidth) * 1000 + STEP_OVERHEAD_MS;
  // β: 2 × 8.03e9 FLOPs / (peak × 0.5). H100: 0.0325 ms; A100: 0.103 ms; L4: 0.265 ms per token.
  const betaMsPerToken = (FLOPS_PER_TOKEN / (d.bf16Flops * PREFILL_MFU)) * 1000;
  // γ: 128 KiB per cached token / bandwidth. H100: 3.9e-5 ms (WVA's default γ is 5e-5 ms/token);
  // A100: 6.4e-5 ms; L4: 4.4e-4 ms.
  const gammaMsPerKvToken = (KV_BYTES_PER_TOKEN / d.bandwidth) * 1000;
  const params = { alphaMs, betaMsPerToken, gammaMsPerKvToken };
  const chunk = 8192;
  const peakPrefillTokensPerS = Math.round((chunk / stepTimeMs(params, chunk, chunk)) * 1000);
  return {
    accelerator,
    ...params,
    // H100: (79.19 × 0.9 − 14.96 − 1.5) GiB / 2 MiB = 28,061 blocks (449 k tokens);
    // A100: 28,042 blocks; L4: (22.49 × 0.9 − 16.46) GiB / 2 MiB = 1,936 blocks (31 k tokens).
    numGpuBlocks: gpuBlocks(d.memoryGiB),
    peakPrefillTokensPerS,
    source:
      `llm-d/llm-d-workload-variant-autoscaler docs/developer-guide/slo-queuemodel.md (α/β/γ step model); ` +
      `${d.sheet} (bandwidth, BF16 FLOP/s); vllm-project/vllm#10517 (Llama-3.1-8B memory profile); ` +
      `buildkite.com/vllm/performance-benchmark/builds/9515 (per-step overhead)`,
  };
}

/** The profile of each accelerator for Llama-3.1-8B-Instruct. */
export const ACCELERATOR_PROFILES: Readonly<Record<Accelerator, AcceleratorProfile>> = {
  H100: profileOf('H100'),
  A100: profileOf('A100'),
  L4: profileOf('L4'),
};

export const ACCELERATORS: readonly Accelerator[] = ['H100', 'A100', 'L4'];

/** Duration of one engine step that computes `tokens` tokens and reads `kvTokens` cached tokens. */
export function stepTimeMs(p: StepTimeParams, tokens: number, kvTokens: number): number {
  return p.alphaMs + p.betaMsPerToken * tokens + p.gammaMsPerKvToken * kvTokens;
}

/** The step-time parameters scaled by a factor (a variant calibrated to a legacy service time). */
export function scaledStepTime(p: StepTimeParams, scale: number): StepTimeParams {
  return {
    alphaMs: p.alphaMs * scale,
    betaMsPerToken: p.betaMsPerToken * scale,
    gammaMsPerKvToken: p.gammaMsPerKvToken * scale,
  };
}
