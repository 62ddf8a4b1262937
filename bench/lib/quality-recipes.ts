/**
 * What users run today instead of this scaler, each read from its source and reproduced on the
 * metrics the token-level fleet serves (issue 20, "Policies"):
 *
 *  - `wva-v2`: WVA v0.9's V2 token-based saturation analyzer, the default since v0.9.0
 *    (llm-d WVA docs/developer-guide/saturation-scaling-config.md, "Engine post-step formula" and
 *    "Per-replica demand"; the analyzer itself: internal/engines/analyzers/saturation_v2/analyzer.go).
 *  - `llmd-keda-epp`: the ScaledObject llm-d ships for KEDA + EPP metrics
 *    (llm-d/llm-d guides/workload-autoscaling/keda-epp/scaledobject.yaml).
 *  - `llmd-keda-token`: llm-d's token-aware KEDA recipe for P+D co-located pods
 *    (llm-d/llm-d guides/workload-autoscaling/keda-epp-token-aware/optimized-baseline/base/scaledobject.yaml).
 *  - `engine-slo` ("this engine, SLO mode"): this scaler's own engine with the saturation config's
 *    `default` entry `{ sloMode: true, targetTTFT, targetITL }` at the scenario's targets (issue 22).
 *
 * Each policy is a pure function of its observation plus, for WVA V2, the compute-bound capacity it
 * has learnt (its rolling history, as the analyzer keeps it). The HPA behaviour a recipe ships with is
 * part of the recipe and replaces the scenario's; its min/max replicas stay the scenario's.
 */
import type { VariantState } from '../../src/engine/saturation-analyzer.js';
import { parseSaturationConfig } from '../../src/config/saturation-config.js';
import type { DecisionConfig } from '../../src/engine/model-decision.js';
import type { HpaBehaviour } from './quality-hpa.js';
import {
  EnginePolicy,
  type LearnedServiceModel,
  type PolicyObservation,
  type PolicyOutput,
  type ScalingPolicy,
  type SloObjective,
} from './quality-policies.js';
import type { TokenPodView, TokenView } from './token-observer.js';

function tokensOf(obs: PolicyObservation, who: string): TokenView {
  if (!obs.tokens) throw new Error(`${who} reads token metrics: run it on the token-level fleet`);
  return obs.tokens;
}

// ---------------------------------------------------------------------------------------------
// WVA v0.9, V2 analyzer
// ---------------------------------------------------------------------------------------------

/**
 * The V2 analyzer's thresholds (its shipped `default` entry) and the engine parameters it parses from the Deployment.
 */
export interface WvaV2Config {
  /** k1 = KV capacity x kvCacheThreshold (shared with V1, 0.80). */
  readonly kvCacheThreshold: number;
  /** A replica with this many waiting requests exposes its compute-bound capacity k2 (5). */
  readonly queueLengthThreshold: number;
  /** RC = max(0, demand / scaleUpThreshold − anticipated supply) (0.85). */
  readonly scaleUpThreshold: number;
  /** SC = max(0, supply − demand / scaleDownBoundary) (0.70). */
  readonly scaleDownBoundary: number;
  /** The rolling average of observed k2 keeps this many values (RollingAverageWindowSize, 10). */
  readonly k2Window: number;
  /** vLLM's --max-num-batched-tokens and --max-num-seqs, for the derived k2 (the fleet's defaults). */
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
}

export const WVA_V2_DEFAULTS: WvaV2Config = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  scaleUpThreshold: 0.85,
  scaleDownBoundary: 0.7,
  k2Window: 10,
  maxNumBatchedTokens: 8192,
  maxNumSeqs: 256,
};

export interface WvaV2ReplicaCapacity {
  readonly pod: string;
  readonly deployment: string;
  /** KV tokens resident plus the local queue's charge. */
  readonly demand: number;
  /** min(k1, k2). */
  readonly effective: number;
}

export interface WvaV2Analysis {
  readonly totalDemand: number;
  readonly totalSupply: number;
  readonly totalAnticipatedSupply: number;
  /** Per variant key: median effective capacity of its ready pods (0 when it has none). */
  readonly perReplicaCapacity: ReadonlyMap<string, number>;
  readonly requiredCapacity: number;
  readonly spareCapacity: number;
}

/** The rolling k2 history per accelerator (the analyzer keys it by model, accelerator and output-length bucket). */
export type K2History = Map<string, number[]>;

/**
 * Phase 1 of the analyzer for one ready pod: demand = TokensInUse + QueueLength x (avg input + avg output)
 * (the doc's charge for role `both`), k1 = capacity x kvCacheThreshold, k2 by its priority chain
 * (observed when the queue reaches queueLengthThreshold, else the rolling history, else derived from the
 * engine parameters as min(B·O/(I+O), S)·(I + O/2), else k1). TokensInUse is the 1 m peak of KV use times
 * the capacity from `vllm:cache_config_info`: the collector's `max_over_time`, as the doc notes.
 */
export function wvaV2Replica(p: TokenPodView, cfg: WvaV2Config, history: K2History): WvaV2ReplicaCapacity | undefined {
  if (p.kvCapacityTokens <= 0) return undefined; // no cache_config_info: the analyzer skips the replica
  const tokensInUse = p.kvPeak * p.kvCapacityTokens;
  const avgIn = p.avgPromptTokens ?? 0;
  const avgOut = p.avgOutputTokens ?? 0;
  const demand = tokensInUse + (avgIn > 0 ? p.waitingPeak * (avgIn + avgOut) : 0);
  const k1 = Math.floor(p.kvCapacityTokens * cfg.kvCacheThreshold);
  let k2: number;
  const h = history.get(p.accelerator) ?? [];
  if (p.waitingPeak >= cfg.queueLengthThreshold && tokensInUse > 0) {
    k2 = Math.floor(tokensInUse);
    h.push(k2);
    while (h.length > cfg.k2Window) h.shift();
    history.set(p.accelerator, h);
  } else if (h.length > 0) {
    k2 = Math.floor(h.reduce((a, b) => a + b, 0) / h.length);
  } else if (avgOut > 0) {
    const nSteady = Math.min((cfg.maxNumBatchedTokens * avgOut) / (avgIn + avgOut), cfg.maxNumSeqs);
    k2 = Math.floor(nSteady * (avgIn + avgOut / 2));
  } else {
    k2 = k1;
  }
  return { pod: p.pod, deployment: p.deployment, demand, effective: Math.min(k1, k2) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return 0;
  return n % 2 === 0 ? Math.floor(((s[n / 2 - 1] ?? 0) + (s[n / 2] ?? 0)) / 2) : (s[(n - 1) / 2] ?? 0);
}

/**
 * Phases 2–4: per-variant median capacity, supply over ready replicas, anticipated supply with the
 * pending ones, the flow-control queue's demand (its size x (avg input + avg output); no prefix cache in
 * the fleet), and the engine post-step's RC and SC.
 */
export function wvaV2Analyze(
  view: TokenView,
  variants: readonly VariantState[],
  cfg: WvaV2Config,
  history: K2History,
): WvaV2Analysis {
  const replicas = view.pods
    .map((p) => wvaV2Replica(p, cfg, history))
    .filter((r): r is WvaV2ReplicaCapacity => r !== undefined);
  let totalDemand = 0;
  let totalSupply = 0;
  let totalAnticipatedSupply = 0;
  const perReplicaCapacity = new Map<string, number>();
  for (const v of variants) {
    const mine = replicas.filter((r) => r.deployment === v.variant.deployment);
    const prc = median(mine.map((r) => r.effective));
    const ready = Math.max(0, Math.min(v.ready, v.current));
    const pending = Math.max(0, v.current - ready);
    perReplicaCapacity.set(v.variant.key, prc);
    totalDemand += mine.reduce((n, r) => n + r.demand, 0);
    totalSupply += ready * prc;
    totalAnticipatedSupply += (ready + pending) * prc;
  }
  const withAvg = view.pods.filter((p) => p.avgPromptTokens !== undefined || p.avgOutputTokens !== undefined);
  const avgIn = withAvg.length > 0 ? withAvg.reduce((n, p) => n + (p.avgPromptTokens ?? 0), 0) / withAvg.length : 0;
  const avgOut = withAvg.length > 0 ? withAvg.reduce((n, p) => n + (p.avgOutputTokens ?? 0), 0) / withAvg.length : 0;
  // estimateSchedulerQueueDemand: input = max(queue bytes / bytes per token, size x avg input), output = size x
  // avg output. The EPP's queue-bytes gauge is not served (nor in the contract), so the count path alone.
  totalDemand += view.gatewayQueue * (avgIn + avgOut);
  return {
    totalDemand,
    totalSupply,
    totalAnticipatedSupply,
    perReplicaCapacity,
    requiredCapacity: Math.max(0, totalDemand / cfg.scaleUpThreshold - totalAnticipatedSupply),
    spareCapacity: Math.max(0, totalSupply - totalDemand / cfg.scaleDownBoundary),
  };
}

/**
 * The optimizer on one model: the required capacity goes to the cheapest variant first, as many replicas
 * as it takes (ceil(RC / its per-replica capacity)), spilling to the next when one is at its max or, with
 * WVA's GPU limiter on (`room`: replicas of each variant the free GPUs still fit), out of room; spare
 * capacity comes off the most expensive variant first (floor(SC / its capacity)), never below the
 * variants' minimum nor the model's last replica.
 */
export function wvaV2Targets(
  a: WvaV2Analysis,
  variants: readonly VariantState[],
  room?: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map(variants.map((s) => [s.variant.key, s.current]));
  const byCost = [...variants].sort(
    (x, y) => x.variant.cost - y.variant.cost || (x.variant.key < y.variant.key ? -1 : 1),
  );
  if (a.requiredCapacity > 0) {
    let left = a.requiredCapacity;
    for (const v of byCost) {
      const prc = a.perReplicaCapacity.get(v.variant.key) ?? 0;
      if (prc <= 0 || left <= 0) continue;
      const add = Math.min(
        Math.ceil(left / prc),
        v.variant.maxReplicas - v.current,
        room?.get(v.variant.key) ?? Infinity,
      );
      if (add <= 0) continue;
      out.set(v.variant.key, v.current + add);
      left -= add * prc;
    }
  } else if (a.spareCapacity > 0) {
    let left = a.spareCapacity;
    let total = variants.reduce((n, s) => n + s.current, 0);
    for (const v of byCost.reverse()) {
      const prc = a.perReplicaCapacity.get(v.variant.key) ?? 0;
      if (prc <= 0) continue;
      const remove = Math.min(Math.floor(left / prc), v.current - v.variant.minReplicas, total - 1);
      if (remove <= 0) continue;
      out.set(v.variant.key, v.current - remove);
      left -= remove * prc;
      total -= remove;
    }
  }
  return out;
}

/**
 * `wva-v2`: the analyzer and optimizer each cycle; value = desired replicas, AverageValue 1 (wva_desired_replicas).
 * `limiter`, when given, is WVA's `enableLimiter: true` with its GPU-inventory limiter (llm-d WVA
 * docs/developer-guide/quota-limiter.md; the optimizer's side: internal/engines/pipeline/greedy_score_optimizer.go,
 * fairSharePick, which skips a variant whose accelerator has fewer free GPUs than one replica requests and takes the
 * next): per variant, how many more replicas the free GPUs of its type fit. WVA orders variants by cost per unit of
 * capacity, this bench by cost; they agree wherever the cheaper variant is also the cheaper per request (the
 * gpu-capped scenario's costs are chosen so).
 */
export class WvaV2Policy implements ScalingPolicy {
  readonly name = 'wva-v2';
  private readonly history: K2History = new Map();

  constructor(
    private readonly cfg: WvaV2Config = WVA_V2_DEFAULTS,
    private readonly limiter?: (variants: readonly VariantState[]) => ReadonlyMap<string, number>,
  ) {}

  decide(obs: PolicyObservation): PolicyOutput {
    const a = wvaV2Analyze(tokensOf(obs, this.name), obs.variants, this.cfg, this.history);
    return {
      values: wvaV2Targets(a, obs.variants, this.limiter?.(obs.variants)),
      target: 1,
      note:
        `demand ${Math.round(a.totalDemand)} supply ${Math.round(a.totalSupply)} ` +
        `anticipated ${Math.round(a.totalAnticipatedSupply)} RC ${Math.round(a.requiredCapacity)} SC ${Math.round(a.spareCapacity)}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// llm-d's KEDA recipes
// ---------------------------------------------------------------------------------------------

/**
 * keda-epp/scaledobject.yaml: pollingInterval 15; scale-up window 0 with 100 % per 15 s, scale-down
 * window 300 s with 100 % per 15 s (the HPA's default 10 % tolerance).
 */
export const LLMD_KEDA_EPP_BEHAVIOUR: HpaBehaviour = {
  tolerance: 0.1,
  scaleUpStabilizationMs: 0,
  scaleDownStabilizationMs: 300_000,
  scaleUpPolicies: [{ type: 'Percent', value: 100, periodMs: 15_000 }],
  scaleDownPolicies: [{ type: 'Percent', value: 100, periodMs: 15_000 }],
};

/**
 * `llmd-keda-epp`: two `prometheus` triggers, metricType AverageValue:
 * `sum(llm_d_epp_flow_control_queue_size)` threshold 1 and `sum(inference_objective_running_requests)`
 * threshold 16. The HPA takes the higher of the two counts.
 */
export class LlmdKedaEppPolicy implements ScalingPolicy {
  readonly name = 'llmd-keda-epp';
  readonly behaviour = LLMD_KEDA_EPP_BEHAVIOUR;

  decide(obs: PolicyObservation): PolicyOutput {
    const t = tokensOf(obs, this.name);
    const each = (v: number): Map<string, number> => new Map(obs.variants.map((s) => [s.variant.key, v]));
    return {
      values: each(t.gatewayQueue),
      target: 1,
      otherTriggers: [{ values: each(t.runningRequests), target: 16 }],
      note: `epp queue ${t.gatewayQueue}, running ${t.runningRequests}`,
    };
  }
}

/**
 * keda-epp-token-aware: "Add at most one pod per 3 min and remove at most one per 5 min, with a 5 min
 * scale-down stabilization window" (scale-up window 0).
 */
export const LLMD_KEDA_TOKEN_BEHAVIOUR: HpaBehaviour = {
  tolerance: 0.1,
  scaleUpStabilizationMs: 0,
  scaleDownStabilizationMs: 300_000,
  scaleUpPolicies: [{ type: 'Pods', value: 1, periodMs: 180_000 }],
  scaleDownPolicies: [{ type: 'Pods', value: 1, periodMs: 300_000 }],
};

/**
 * `llmd-keda-token`: `sum(llm_d_epp_inflight_tokens) / peakPrefillThroughput` (seconds of prefill
 * backlog) threshold 1.5, and `sum(vllm:kv_cache_usage_perc)` threshold 0.8, both AverageValue. The
 * recipe's divisor is "the ONE hardware-specific constant" (15928 tok/s for Qwen3-32B on H100 TP=2);
 * here it is the fleet's own peak prefill throughput for the variant's accelerator.
 *
 * The fleet serves `llm_d_epp_inflight_tokens` as llm-d's token-aware guide defines it: uncached prompt
 * tokens dispatched to an endpoint and not yet prefilled (llm-d/llm-d
 * guides/workload-autoscaling/keda-epp-token-aware README, "Metrics").
 */
export class LlmdKedaTokenPolicy implements ScalingPolicy {
  readonly name = 'llmd-keda-token';
  readonly behaviour = LLMD_KEDA_TOKEN_BEHAVIOUR;

  constructor(private readonly peakPrefillTokensPerS: number) {
    if (!(peakPrefillTokensPerS > 0)) throw new Error(`peak prefill throughput ${peakPrefillTokensPerS}: expected > 0`);
  }

  decide(obs: PolicyObservation): PolicyOutput {
    const t = tokensOf(obs, this.name);
    const each = (v: number): Map<string, number> => new Map(obs.variants.map((s) => [s.variant.key, v]));
    const backlogS = t.inflightTokens / this.peakPrefillTokensPerS;
    return {
      values: each(backlogS),
      target: 1.5,
      otherTriggers: [{ values: each(t.sumKvUsage), target: 0.8 }],
      note: `prefill backlog ${backlogS.toFixed(2)} s, sum KV ${t.sumKvUsage.toFixed(2)}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// This engine, SLO mode (issue 22)
// ---------------------------------------------------------------------------------------------

/** `base` with the saturation config's `default` entry in SLO mode at `slo` (parsed as a user's ConfigMap is). */
export function engineSloConfig(base: DecisionConfig, slo: SloObjective): DecisionConfig {
  const saturation = parseSaturationConfig({
    default: `sloMode: true\ntargetTTFT: ${slo.ttftMs}\ntargetITL: ${slo.itlMs}`,
  });
  return { ...base, saturation };
}

/** `engine-slo`: the engine recipe with SLO mode on; value = desired replicas, AverageValue 1. */
export class EngineSloPolicy implements ScalingPolicy {
  readonly name = 'this engine, SLO mode';
  private readonly inner: EnginePolicy;

  /** `place`: the Engine shell's placement stage, as EnginePolicy takes it (the scaler places in SLO mode too). */
  constructor(base: DecisionConfig, slo: SloObjective, place?: ConstructorParameters<typeof EnginePolicy>[2]) {
    this.inner = new EnginePolicy(engineSloConfig(base, slo), undefined, place);
  }

  decide(obs: PolicyObservation): PolicyOutput {
    return this.inner.decide(obs);
  }

  /** Each variant's learned α/β/γ and confidence, by variant key. */
  learnedServiceModels(): ReadonlyMap<string, LearnedServiceModel> {
    const out = new Map<string, LearnedServiceModel>();
    for (const [key, m] of this.inner.modelState?.service ?? [])
      out.set(key, { alpha: m.alpha, beta: m.beta, gamma: m.gamma, confident: m.confident });
    return out;
  }
}
