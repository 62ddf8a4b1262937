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
import { EngineSloPolicy, LlmdKedaEppPolicy, LlmdKedaTokenPolicy, WvaV2Policy } from './quality-recipes.js';
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
 * The oracles size replicas for the offered rate at this share of a replica's measured throughput (WVA V2's scale-up
 * threshold).
 */
export const ORACLE_UTILIZATION = 0.85;

/** Stable policy names (the JSON output's). */
export const POLICY_NAMES = [
  'engine',
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

/** The variant of a scenario: one H100 Deployment, one replica ready at t = 0. */
export function loopVariants(sc: TokenScenario, startupS: number): TokenLoopVariant[] {
  const deployment = 'qwen3-32b-h100';
  return [
    {
      variant: parseTriggerMetadata(NS, deployment, {
        modelID: MODEL,
        accelerator: sc.accelerator,
        variantCost: String(H100_COST),
        minReplicas: String(sc.hpa.minReplicas),
        maxReplicas: String(sc.hpa.maxReplicas),
      }),
      accelerator: sc.accelerator,
      startupDelayMs: startupS * 1000,
      initialReplicas: 1,
      ...(sc.speedChange ? { speedChange: sc.speedChange } : {}),
    },
  ];
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
}

/** The eight rows in the order, each a factory (a run needs a fresh policy). */
export function tokenPolicyRows(ctx: RowContext): Record<PolicyName, () => ScalingPolicy> {
  const after = ctx.replicaRpsAfter;
  const rps = after
    ? (now: number): number => (now >= after.atMs ? after.rps : ctx.replicaRps) * ORACLE_UTILIZATION
    : ctx.replicaRps * ORACLE_UTILIZATION;
  const slo = ctx.slo ?? CHAT_SLO;
  const oracle = (lookaheadS: number): ScalingPolicy =>
    new OraclePolicy(rps, ctx.startupS, BACKLOG_DRAIN_S, decisionConfig.maxScaleUpRate, lookaheadS);
  return {
    engine: () => new Named('engine', new EnginePolicy(decisionConfig)),
    'wva-v2': () => new Named('wva-v2', new WvaV2Policy()),
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
    'engine-slo': () => new Named('engine-slo', new EngineSloPolicy(decisionConfig, slo)),
  };
}
