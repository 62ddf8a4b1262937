/**
 * The token-level quality bench's traffic, fleet and policy rows (issue 20): the Azure LLM inference
 * trace (or any CSV of its format) and WVA's published benchmark scenarios, each at pod start-ups of
 * 60 s and 110 s on seeds 1–3, with the eight policies in the same run.
 *
 * WVA's scenarios, from its benchmark (llm-d/llm-d guides/workload-autoscaling/README.wva.md, "Benchmark
 * Results", which points to llm-d WVA docs/benchmark.md for the full runs): single-variant H100, Poisson
 * arrivals, prefill heavy 4,000 input / 1,000 output tokens at 20 req/s, decode heavy 1,000 / 4,000,
 * symmetrical 1,000 / 1,000 (600 s runs), and bursty ~1,000 / ~1,000 at 15 → 2 → 10 → 15 → 5 → 2 req/s
 * over 900 s (the stages' lengths are not published: 150 s each here). Their HPA: min 1 / max 10,
 * scale-up window 0 s and 10 pods per 150 s, scale-down window 240 s and 10 pods per 150 s. Their pod
 * start-ups were 65 s (Qwen3-0.6B) and 103–110 s (Qwen3-32B).
 *
 * `gpu-capped` (issue 21): one model on a cheap L4 variant and a dear H100 variant in a cluster with few L4 GPUs;
 * replicas the cluster cannot place stay Pending, cost and serve nothing (bench/lib/gpu-capped.ts). There the engine
 * also runs with its placement stage (`engine-placement`), and WVA V2 with its GPU limiter.
 */
import { parseTriggerMetadata } from '../../src/config/trigger-metadata.js';
import { BACKLOG_DRAIN_S } from '../../src/engine/capacity-targets.js';
import type { TokenRequest } from '../../src/sim/traffic/trace-csv.js';
import { kubernetesDefaultHpa, wvaBenchmarkHpa, type HpaSettings } from './quality-hpa.js';
import {
  EnginePolicy,
  KedaWaitingPolicy,
  OraclePolicy,
  WvaRulePolicy,
  thresholdsFrom,
  type LearnedServiceModel,
  type PolicyObservation,
  type PolicyOutput,
  type ScalingPolicy,
  type SloObjective,
} from './quality-policies.js';
import {
  EngineSloPolicy,
  LlmdKedaEppPolicy,
  LlmdKedaTokenPolicy,
  WvaV2Policy,
  engineSloConfig,
} from './quality-recipes.js';
import { CappedOracle, PlacementStage, freeReplicas, type GpuCaps } from './gpu-capped.js';
import { decisionConfig, forecastSeconds } from './quality-scenarios.js';
import type { Accelerator, SpeedChange } from './token-fleet.js';
import { QM_DEFAULTS, WvaQueueingModelPolicy } from './wva-queueing-model.js';
import type { TokenLoopVariant } from './token-loop.js';
import { Prng } from '../../src/sim/fleet/prng.js';

export const NS = 'bench';
export const MODEL = 'Qwen/Qwen3-32B';
export const CYCLE_MS = 15_000;
export const WAIT_BUDGET_MS = 5_000;
export const STARTUPS_S: readonly number[] = [60, 110];
export const SEEDS: readonly number[] = [1, 2, 3];
/** Cost of one H100 replica-minute in the GPU-cost figure (the README's example variantCost for an H100). */
export const H100_COST = 30;
/**
 * Cost of one L4 replica-minute. An L4 serves about a sixteenth of what an H100 does at chat's mix on the fleet
 * (its step floor is 56 ms against 7 ms), so at 1/30 of the H100's cost it is the cheaper way to serve a request
 * (about half the cost per request): every cost-aware policy grows it first, WVA's cost-efficiency order and plain
 * cheapest-first alike, and the cap is what stops it.
 */
export const L4_COST = 1;
/**
 * The oracles size replicas for the offered rate at this share of a replica's measured throughput (WVA V2's scale-up
 * threshold).
 */
export const ORACLE_UTILIZATION = 0.85;

/** Stable policy names (the JSON output's). */
export const POLICY_NAMES = [
  'engine',
  'engine-placement',
  'wva-v2',
  'wva-queueing-model',
  'wva-v1',
  'llmd-keda-epp',
  'llmd-keda-token',
  'keda-waiting',
  'oracle-reactive',
  'oracle-forecast',
  'engine-slo',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export type { SloObjective } from './quality-policies.js';

/**
 * Interactive chat on Llama-3.1-8B: the first token within 2 s for 95 % of requests (what llm-d's token-aware recipe
 * sizes its threshold for, and the bench's 2 s budget), and 50 ms between tokens (20 tokens/s, well above reading
 * speed; an H100's idle step is 7 ms, so the ITL leaves room for a large batch).
 */
export const CHAT_SLO: SloObjective = { ttftMs: 2000, itlMs: 50 };

export interface TokenScenario {
  readonly name: string;
  /** What the JSON's "trace" says: a file name or the generator's description. */
  readonly trace: string;
  /** The scenario's requests on a seed (a replayed trace ignores the seed), sorted by arrival. */
  readonly requests: (seed: number) => readonly TokenRequest[];
  readonly durationMs: number;
  readonly hpa: HpaSettings;
  readonly hpaName: string;
  readonly accelerator: Accelerator;
  readonly slo: SloObjective;
  /** The variant's pods move to another GPU mid-run (the speed-change scenario only). */
  readonly speedChange?: SpeedChange;
  /**
   * Several variants of the model (the gpu-capped scenario): each its Deployment, accelerator and cost, one replica
   * ready at t = 0, the scenario's HPA min/max each. Undefined: one variant on `accelerator` at H100_COST.
   */
  readonly variants?: readonly ScenarioVariant[];
  /** GPUs per accelerator type in the cluster (one per replica); undefined: as many as any policy asks for. */
  readonly gpuCaps?: GpuCaps;
}

export interface ScenarioVariant {
  readonly deployment: string;
  readonly accelerator: Accelerator;
  readonly cost: number;
}

/** The bench's arrivals stream (the fleet's mulberry32), seeded apart from the fleet's own streams. */
function prng(seed: number): () => number {
  const p = new Prng(Math.imul(seed, 0x9e3779b9));
  return () => p.next();
}

export interface RateStage {
  readonly fromS: number;
  readonly rps: number;
}

/** Poisson arrivals at piecewise-constant rates over [0, durationS), every request `prompt` / `output` tokens. */
export function poissonRequests(
  stages: readonly RateStage[],
  durationS: number,
  promptTokens: number,
  outputTokens: number,
  seed: number,
): TokenRequest[] {
  const rand = prng(seed);
  const out: TokenRequest[] = [];
  for (const [i, st] of stages.entries()) {
    const end = stages[i + 1]?.fromS ?? durationS;
    if (!(st.rps > 0)) continue;
    let t = st.fromS;
    for (;;) {
      t += -Math.log(1 - rand()) / st.rps;
      if (t >= end) break;
      out.push({ atMs: t * 1000, promptTokens, outputTokens });
    }
  }
  return out;
}

function wvaScenario(
  name: string,
  stages: readonly RateStage[],
  durationS: number,
  prompt: number,
  output: number,
  slo: SloObjective = CHAT_SLO,
): TokenScenario {
  const describe = stages.map((s) => s.rps).join(' → ');
  return {
    slo,
    name,
    trace: `Poisson ${describe} req/s, ${prompt} prompt / ${output} output tokens, ${durationS} s`,
    requests: (seed: number) => poissonRequests(stages, durationS, prompt, output, seed),
    durationMs: durationS * 1000,
    hpa: wvaBenchmarkHpa(1, 10),
    hpaName: "WVA benchmark's HPA",
    accelerator: 'H100' as const,
  };
}

/**
 * Long prompts (4,000 tokens: documents, RAG): users of such a service accept a slower first token than in chat, so
 * 3 s p95; the ITL objective is chat's.
 */
const LONG_PROMPT_SLO: SloObjective = { ttftMs: 3000, itlMs: 50 };

export const WVA_SCENARIOS: readonly TokenScenario[] = [
  wvaScenario('wva-prefill-heavy', [{ fromS: 0, rps: 20 }], 600, 4000, 1000, LONG_PROMPT_SLO),
  wvaScenario('wva-decode-heavy', [{ fromS: 0, rps: 20 }], 600, 1000, 4000),
  wvaScenario('wva-symmetrical', [{ fromS: 0, rps: 20 }], 600, 1000, 1000),
  wvaScenario(
    'wva-bursty',
    [15, 2, 10, 15, 5, 2].map((rps, i) => ({ fromS: i * 150, rps })),
    900,
    1000,
    1000,
  ),
];

/**
 * A replayed trace: every request as it is, the run lasting until the last arrival plus two minutes
 * (so the last requests are served), whole minutes; Kubernetes' default HPA behaviour (no recipe
 * prescribes one for it), min 1, max 16.
 */
export function traceScenario(name: string, trace: string, requests: readonly TokenRequest[]): TokenScenario {
  const last = requests.at(-1)?.atMs ?? 0;
  return {
    name,
    trace,
    requests: () => requests,
    durationMs: Math.ceil((last + 120_000) / 60_000) * 60_000,
    hpa: kubernetesDefaultHpa(1, 16),
    hpaName: 'Kubernetes default HPA',
    accelerator: 'H100',
    // The Azure trace is the conversation service: chat.
    slo: CHAT_SLO,
  };
}

/**
 * The fleet's speed changes mid-run: a steady chat load (Poisson 4 req/s, 1,000 prompt / 200 output tokens) on A100
 * replicas whose pods move to L4s after 10 minutes (a node pool replaced by a cheaper GPU), 20 minutes in all. The
 * L4's step floor (56 ms) is above chat's 50 ms ITL, so the objective here is what an operator of that pool states:
 * 2 s p95 TTFT and 100 ms ITL, met by both GPUs. One A100 serves the load; it takes several L4s. Measures how long a
 * learner takes to re-converge and what the policies pay meanwhile.
 */
export const SPEED_CHANGE_SCENARIO: TokenScenario = {
  name: 'speed-change',
  trace: 'Poisson 4 req/s, 1000 prompt / 200 output tokens, 1200 s; A100 -> L4 at 600 s',
  requests: (seed: number) => poissonRequests([{ fromS: 0, rps: 4 }], 1200, 1000, 200, seed),
  durationMs: 1_200_000,
  hpa: wvaBenchmarkHpa(1, 16),
  hpaName: "WVA benchmark's HPA",
  accelerator: 'A100',
  slo: { ttftMs: 2000, itlMs: 100 },
  speedChange: { atMs: 600_000, accelerator: 'L4' },
};

/** L4 GPUs in the gpu-capped scenario's cluster: fewer L4 replicas than the load's step needs. */
export const L4_CAP = 3;

/**
 * A cheap type that runs out: chat requests (1,000 prompt / 200 output tokens, the mix an L4 serves within its 31 k
 * KV tokens) as Poisson arrivals at 10 req/s for 5 minutes, 30 req/s for 10, 10 req/s for 5. The model runs on an L4
 * variant and an H100 variant (one replica each at t = 0: the HPA's minimum is 1, KEDA's scale to zero is not
 * emulated); the cluster has L4_CAP L4 GPUs and an H100 for every replica asked for. The H100 replica alone serves the
 * low stages within 0.85 of its throughput; the step needs more than it and L4_CAP L4 replicas serve: many more L4
 * replicas than the cluster has, or the L4s it has and another H100.
 * Poisson rather than the Azure trace: a step whose size and timing are known and the same on every seed, so that
 * what the cap does can be read off the figures and the plot. Chat's objective; the L4's 56 ms step floor
 * is above chat's 50 ms ITL, so the ITL objective here is the speed-change scenario's 100 ms.
 */
export const GPU_CAPPED_SCENARIO: TokenScenario = {
  name: 'gpu-capped',
  trace: `Poisson 10 → 30 → 10 req/s, 1000 prompt / 200 output tokens, 1200 s; ${L4_CAP} L4 GPUs, H100s unlimited`,
  requests: (seed: number) =>
    poissonRequests(
      [
        { fromS: 0, rps: 10 },
        { fromS: 300, rps: 30 },
        { fromS: 900, rps: 10 },
      ],
      1200,
      1000,
      200,
      seed,
    ),
  durationMs: 1_200_000,
  hpa: wvaBenchmarkHpa(1, 16),
  hpaName: "WVA benchmark's HPA",
  accelerator: 'L4',
  slo: { ttftMs: 2000, itlMs: 100 },
  variants: [
    { deployment: 'qwen3-32b-l4', accelerator: 'L4', cost: L4_COST },
    { deployment: 'qwen3-32b-h100', accelerator: 'H100', cost: H100_COST },
  ],
  gpuCaps: new Map([['L4', L4_CAP]]),
};

/** The variants of a scenario: by default one H100 Deployment; each with one replica ready at t = 0. */
export function loopVariants(sc: TokenScenario, startupS: number): TokenLoopVariant[] {
  const specs = sc.variants ?? [{ deployment: 'qwen3-32b-h100', accelerator: sc.accelerator, cost: H100_COST }];
  return specs.map((v) => ({
    variant: parseTriggerMetadata(NS, v.deployment, {
      modelID: MODEL,
      accelerator: v.accelerator,
      variantCost: String(v.cost),
      minReplicas: String(sc.hpa.minReplicas),
      maxReplicas: String(sc.hpa.maxReplicas),
    }),
    accelerator: v.accelerator,
    startupDelayMs: startupS * 1000,
    initialReplicas: 1,
    ...(sc.speedChange ? { speedChange: sc.speedChange } : {}),
  }));
}

/** A policy under its stable name (the existing classes keep theirs: the decision trace keys on them). */
class Named implements ScalingPolicy {
  readonly behaviour;

  constructor(
    readonly name: PolicyName,
    private readonly inner: ScalingPolicy,
  ) {
    this.behaviour = inner.behaviour;
  }

  decide(obs: PolicyObservation): PolicyOutput {
    return this.inner.decide(obs);
  }

  learnedServiceModels(): ReadonlyMap<string, LearnedServiceModel> {
    return this.inner.learnedServiceModels?.() ?? new Map<string, LearnedServiceModel>();
  }
}

export interface RowContext {
  readonly startupS: number;
  /** Requests per second one replica serves flat out at the scenario's mix (measured on the fleet). */
  readonly replicaRps: number;
  /** Where the fleet's speed changes: the same after the change (the oracles know it). */
  readonly replicaRpsAfter?: { readonly atMs: number; readonly rps: number };
  /** The scenario's objective (WVA's queueing model and the SLO mode size for it); default chat's. */
  readonly slo?: SloObjective;
  /** The fleet's peak prefill throughput of the scenario's accelerator (ACCELERATOR_PROFILES). */
  readonly peakPrefillTokensPerS: number;
  /**
   * A scenario with several variants or a GPU cap: the cluster's caps and what one replica of each accelerator
   * serves flat out at the mix. The oracles then size per variant against the caps, `wva-v2` runs with WVA's GPU
   * limiter (`enableLimiter: true`) and `engine-placement` places against the caps.
   */
  readonly gpus?: { readonly caps: GpuCaps; readonly replicaRpsByAccelerator: ReadonlyMap<string, number> };
}

/** The eight rows in the order, each a factory (a run needs a fresh policy). */
export function tokenPolicyRows(ctx: RowContext): Record<PolicyName, () => ScalingPolicy> {
  const after = ctx.replicaRpsAfter;
  const rps = after
    ? (now: number): number => (now >= after.atMs ? after.rps : ctx.replicaRps) * ORACLE_UTILIZATION
    : ctx.replicaRps * ORACLE_UTILIZATION;
  const slo = ctx.slo ?? CHAT_SLO;
  const gpus = ctx.gpus;
  const oracle = (lookaheadS: number): ScalingPolicy =>
    gpus
      ? new CappedOracle(
          new Map([...gpus.replicaRpsByAccelerator].map(([a, r]) => [a, r * ORACLE_UTILIZATION])),
          gpus.caps,
          ctx.startupS,
          BACKLOG_DRAIN_S,
          decisionConfig.maxScaleUpRate,
          lookaheadS,
        )
      : new OraclePolicy(rps, ctx.startupS, BACKLOG_DRAIN_S, decisionConfig.maxScaleUpRate, lookaheadS);
  // Where no type is capped, the inventory has room for every replica: placement never binds, and the row decides
  // as `engine` does (it runs everywhere so that the bench shows it).
  const caps = gpus?.caps ?? new Map<string, number>();
  return {
    engine: () => new Named('engine', new EnginePolicy(decisionConfig)),
    'engine-placement': () =>
      new Named(
        'engine-placement',
        new EnginePolicy(decisionConfig, undefined, new PlacementStage(caps, decisionConfig, CYCLE_MS).place),
      ),
    'wva-v2': () =>
      new Named(
        'wva-v2',
        gpus ? new WvaV2Policy(undefined, (variants) => freeReplicas(gpus.caps, variants)) : new WvaV2Policy(),
      ),
    // The scenario's objective as the per-model entry's explicit targetTTFT / targetITL (WVA compares its predicted
    // mean TTFT with it: the document's model has no percentile).
    'wva-queueing-model': () =>
      new Named('wva-queueing-model', new WvaQueueingModelPolicy({ ...QM_DEFAULTS, target: slo })),
    'wva-v1': () => new Named('wva-v1', new WvaRulePolicy(thresholdsFrom(decisionConfig))),
    'llmd-keda-epp': () => new Named('llmd-keda-epp', new LlmdKedaEppPolicy()),
    'llmd-keda-token': () => new Named('llmd-keda-token', new LlmdKedaTokenPolicy(ctx.peakPrefillTokensPerS)),
    'keda-waiting': () => new Named('keda-waiting', new KedaWaitingPolicy(5)),
    'oracle-reactive': () => new Named('oracle-reactive', oracle(0)),
    'oracle-forecast': () => new Named('oracle-forecast', oracle(forecastSeconds(ctx.startupS * 1000))),
    // SLO mode places like the engine-placement row (placement bounds SLO sizing in the scaler); where nothing is
    // capped placement never binds.
    'engine-slo': () =>
      new Named(
        'engine-slo',
        new EngineSloPolicy(
          decisionConfig,
          slo,
          new PlacementStage(caps, engineSloConfig(decisionConfig, slo), CYCLE_MS).place,
        ),
      ),
  };
}
