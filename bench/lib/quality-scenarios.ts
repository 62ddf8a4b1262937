/**
 * The quality bench's fleet, scenarios and policy rows, shared by `bench/scaling-quality.ts` (which
 * reports them) and `bench/decision-trace.ts` (which records the engine's decisions on every one of
 * them to check that a refactor changes none). A run is one scenario at one seed and pod start-up.
 */
import { EMPTY_SATURATION_CONFIG } from '../../src/config/saturation-config.js';
import type { DecisionConfig } from '../../src/engine/model-decision.js';
import { BACKLOG_DRAIN_S } from '../../src/engine/capacity-targets.js';
import { parseTriggerMetadata } from '../../src/config/trigger-metadata.js';
import { exampleBehaviourHpa, kubernetesDefaultHpa, type HpaSettings } from './quality-hpa.js';
import type { LoopSettings, LoopVariant } from './quality-loop.js';
import {
  EnginePolicy,
  KedaWaitingPolicy,
  OraclePolicy,
  WithCronTrigger,
  WvaRulePolicy,
  thresholdsFrom,
  type ScalingPolicy,
} from './quality-policies.js';
import { BURSTY_TRACE, RAMPED_TRACE, peakSchedule, type LoadTrace } from './quality-trace.js';

export const NS = 'bench';
export const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
export const CYCLE_MS = 15_000;
export const WAIT_BUDGET_MS = 5_000;
export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 16;
/** One replica: 16 slots x 0.05 KV, 2 s mean service -> 8 req/s flat out, KV 0.80 when full. */
export const REPLICA = { maxBatch: 16, kvPerRequest: 0.05, serviceTimeMs: 2000 };
/**
 * The oracle sizes for KV at 0.70 (the engine's own target: kvCacheThreshold - kvSpareTrigger): 14 running = 7 req/s.
 */
export const ORACLE_RPS_PER_REPLICA = 7;
/** Pod start-up of the main runs (s) and the seeds and start-ups the bench's spread and sweep use. */
export const DEFAULT_STARTUP_S = 60;
export const DEFAULT_SEEDS = 5;
export const SWEEP_SEEDS = 3;
export const DEFAULT_SWEEP_STARTUPS_S: readonly number[] = [10, 20, 30, 60];

export const decisionConfig: DecisionConfig = {
  saturation: EMPTY_SATURATION_CONFIG,
  scaleToZero: { enabled: false, retentionMs: 600_000 },
  maxScaleUpRate: 2,
};

/**
 * The forecast oracle sees the offered rate this far ahead (s): a pod asked for now serves after the start-up, and a
 * change is seen up to one cycle late.
 */
export function forecastSeconds(startupMs: number): number {
  return (startupMs + CYCLE_MS) / 1000;
}

/**
 * The cron windows open this many whole minutes before a known peak (cron has minute resolution): at least the
 * forecast's lead.
 */
export function cronLeadMinutes(startupMs: number): number {
  return Math.ceil(forecastSeconds(startupMs) / 60);
}

function variantsFor(startupMs: number): LoopVariant[] {
  return [
    {
      variant: parseTriggerMetadata(NS, 'llama-8b-a100', {
        modelID: MODEL,
        accelerator: 'A100',
        variantCost: '10',
        minReplicas: String(MIN_REPLICAS),
        maxReplicas: String(MAX_REPLICAS),
      }),
      fleet: { deployment: 'llama-8b-a100', replicas: 1, ...REPLICA, startupDelayMs: startupMs },
    },
  ];
}

export interface Scenario {
  readonly id: string;
  readonly trace: LoadTrace;
  readonly hpaName: string;
  readonly hpa: HpaSettings;
  /**
   * Requests held at the gateway while every replica is saturated (EPP flow control), else they stay on their
   * replica.
   */
  readonly flowControl: boolean;
}

const K8S_DEFAULT: Pick<Scenario, 'hpaName' | 'hpa'> = {
  hpaName: 'Kubernetes default HPA',
  hpa: kubernetesDefaultHpa(MIN_REPLICAS, MAX_REPLICAS),
};
const EXAMPLE: Pick<Scenario, 'hpaName' | 'hpa'> = {
  hpaName: 'example behaviour, tolerance 0',
  hpa: exampleBehaviourHpa(MIN_REPLICAS, MAX_REPLICAS),
};
export const SCENARIOS: readonly Scenario[] = [
  { id: 'primary', trace: BURSTY_TRACE, ...K8S_DEFAULT, flowControl: false },
  { id: 'ramped', trace: RAMPED_TRACE, ...K8S_DEFAULT, flowControl: false },
  { id: 'sharp-example-hpa', trace: BURSTY_TRACE, ...EXAMPLE, flowControl: false },
  { id: 'ramped-example-hpa', trace: RAMPED_TRACE, ...EXAMPLE, flowControl: false },
  { id: 'flow-control', trace: BURSTY_TRACE, ...K8S_DEFAULT, flowControl: true },
  { id: 'flow-control-ramped', trace: RAMPED_TRACE, ...K8S_DEFAULT, flowControl: true },
  { id: 'flow-control-example-hpa', trace: BURSTY_TRACE, ...EXAMPLE, flowControl: true },
];

export const makeEnginePolicy = (): ScalingPolicy => new EnginePolicy(decisionConfig);

/** The three policies the targets compare: this engine, WVA's rule, KEDA's trigger. */
export function reactingPolicies(makeEngine: () => ScalingPolicy = makeEnginePolicy): (() => ScalingPolicy)[] {
  return [makeEngine, () => new WvaRulePolicy(thresholdsFrom(decisionConfig)), () => new KedaWaitingPolicy(5)];
}

/** The reactive oracle (lookahead 0) or the forecast oracle, at a pod start-up. */
export function oraclePolicy(startupMs: number, lookaheadS = 0): ScalingPolicy {
  return new OraclePolicy(
    ORACLE_RPS_PER_REPLICA,
    startupMs / 1000,
    BACKLOG_DRAIN_S,
    decisionConfig.maxScaleUpRate,
    lookaheadS,
  );
}

/**
 * Every row of a main run, in this order: the three policies, the two oracles, the three policies
 * again with KEDA's cron trigger for the trace's peaks beside each one's (an operator's schedule).
 */
export function policyRows(
  trace: LoadTrace,
  startupMs: number,
  makeEngine: () => ScalingPolicy = makeEnginePolicy,
): (() => ScalingPolicy)[] {
  const schedule = peakSchedule(trace, cronLeadMinutes(startupMs), ORACLE_RPS_PER_REPLICA);
  const reacting = reactingPolicies(makeEngine);
  return [
    ...reacting,
    () => oraclePolicy(startupMs),
    () => oraclePolicy(startupMs, forecastSeconds(startupMs)),
    ...reacting.map((make) => () => new WithCronTrigger(make(), schedule)),
  ];
}

/** The rows of a sweep run: the three policies and the reactive oracle. */
export function sweepRows(
  startupMs: number,
  makeEngine: () => ScalingPolicy = makeEnginePolicy,
): (() => ScalingPolicy)[] {
  return [...reactingPolicies(makeEngine), () => oraclePolicy(startupMs)];
}

export function settingsFor(sc: Scenario, seed: number, startupMs: number): LoopSettings {
  return {
    namespace: NS,
    modelID: MODEL,
    variants: variantsFor(startupMs),
    trace: sc.trace,
    seed,
    cycleMs: CYCLE_MS,
    hpa: sc.hpa,
    waitBudgetMs: WAIT_BUDGET_MS,
    ...(sc.flowControl ? { flowControl: {} } : {}),
  };
}
