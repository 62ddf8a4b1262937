/**
 * What SLO sizing needs of a model beyond the saturation analysis (pure): its objective and, per
 * variant, the workload one replica serves (mean prompt and output tokens of the model's finished
 * requests, weighted by each replica's completion rate; the batch limit from the variant's KV
 * capacity). Built by model-decision.ts from the cycle's metrics.
 */
import type { ReplicaMetrics } from '../../domain/metrics.js';
import type { SloTarget } from '../../domain/slo.js';
import type { Contradiction } from './contradiction.js';
import { DEFAULT_MAX_NUM_SEQS, type Workload } from './latency-model.js';

export interface SloInputs {
  readonly target: SloTarget;
  /** By variant key; undefined when the model's token counts are not known this cycle. */
  readonly workloads: ReadonlyMap<string, Workload> | undefined;
  /**
   * What the replicas measured over the last minute, for the reasons (model against measurement):
   * the highest p95 TTFT and ITL of any replica (ms); undefined when none reports it.
   */
  readonly measured?: { readonly ttftP95Ms: number | undefined; readonly itlMs: number | undefined };
  /**
   * By variant key: the measurement that contradicted the variant's confident model this cycle
   * (contradiction.ts); such a variant is not sized by its model. Absent: none.
   */
  readonly contradictions?: ReadonlyMap<string, Contradiction>;
}

/** The highest value of a field over the replicas that report it. */
function highest(
  replicas: readonly ReplicaMetrics[],
  pick: (r: ReplicaMetrics) => number | undefined,
): number | undefined {
  let out: number | undefined;
  for (const r of replicas) {
    const v = pick(r);
    if (v !== undefined && (out === undefined || v > out)) out = v;
  }
  return out;
}

/** Mean prompt and output tokens per request over the model's replicas, weighted by completions. */
export function modelTokens(replicas: readonly ReplicaMetrics[]): { prompt: number; output: number } | undefined {
  let w = 0;
  let p = 0;
  let o = 0;
  for (const r of replicas) {
    const rate = r.requestRate;
    if (rate === undefined || !(rate > 0)) continue;
    if (r.promptTokensPerRequest === undefined || r.outputTokensPerRequest === undefined) continue;
    w += rate;
    p += rate * r.promptTokensPerRequest;
    o += rate * r.outputTokensPerRequest;
  }
  return w > 0 && o / w >= 1 ? { prompt: p / w, output: o / w } : undefined;
}

/**
 * Each variant's workload: the model's token counts, and a batch limit of vLLM's max_num_seqs or
 * what its KV cache holds at full context (prompt + output), whichever is lower. A variant whose
 * replicas report no KV capacity gets max_num_seqs. Undefined when the model's token counts are not
 * known this cycle.
 */
export function workloadsOf(
  variantKeys: readonly string[],
  replicas: readonly ReplicaMetrics[],
): ReadonlyMap<string, Workload> | undefined {
  const tokens = modelTokens(replicas);
  if (!tokens) return undefined;
  const capacity = new Map<string, number>();
  for (const r of replicas)
    if (r.variantKey !== undefined && r.kvCapacityTokens !== undefined && r.kvCapacityTokens > 0)
      capacity.set(r.variantKey, r.kvCapacityTokens);
  const workloads = new Map<string, Workload>();
  for (const key of variantKeys) {
    const kv = capacity.get(key);
    const byKv = kv === undefined ? Infinity : Math.floor(kv / (tokens.prompt + tokens.output));
    workloads.set(key, {
      promptTokens: tokens.prompt,
      outputTokens: tokens.output,
      maxBatch: Math.max(1, Math.min(DEFAULT_MAX_NUM_SEQS, byKv)),
    });
  }
  return workloads;
}

/** SLO mode's inputs: the objective, each variant's workload (workloadsOf) and what the replicas measured. */
export function sloInputsOf(
  target: SloTarget,
  variantKeys: readonly string[],
  replicas: readonly ReplicaMetrics[],
): SloInputs {
  const measured = { ttftP95Ms: highest(replicas, (r) => r.ttftP95Ms), itlMs: highest(replicas, (r) => r.itlMeanMs) };
  return { target, workloads: workloadsOf(variantKeys, replicas), measured };
}
