/**
 * bench/scaling-quality.ts (`npm run bench:quality`): scaling quality of three policies on the
 * same bursty trace, in a deterministic closed loop on simulated time (no wall clock, no gRPC:
 * the real gRPC path is covered by the demo, the activation bench and the integration tests).
 *
 * Policies: this engine (`decideModel`), WVA's original +1/-1 rule, and KEDA's `prometheus` trigger
 * on sum(vllm:num_requests_waiting) with threshold 5; plus an oracle as a reference row (not a
 * baseline). Each drives replicas through the same emulated HPA. Reported per policy:
 * replica-minutes, minutes with a request waiting longer than the budget, p95 wait, peak queue.
 * Targets: ours has at most half the over-budget minutes of either baseline, at no more than 1.25x
 * WVA's replica-minutes, and no baseline is both cheaper and better.
 *
 * The primary scenario is the sharp trace under Kubernetes' default HPA behaviour. Also run, and
 * reported the same way: the same levels ramped over 3 minutes, and the HPA behaviour of
 * deploy/examples/vllm-llama-8b.yaml with tolerance 0.
 *
 * Options: --seed N (default 1), --seeds N (primary scenario on seeds 1..N: spread of the figures),
 * --verbose (per-cycle log of the primary scenario), --json, --no-write (leave bench/RESULTS.md alone).
 */
import { EMPTY_SATURATION_CONFIG } from '../src/config/saturation-config.js';
import { DEFAULT_SATURATION } from '../src/domain/saturation.js';
import type { DecisionConfig } from '../src/engine/model-decision.js';
import { parseTriggerMetadata } from '../src/grpc/metadata.js';
import { describeHpa, exampleBehaviourHpa, kubernetesDefaultHpa, type HpaSettings } from './lib/quality-hpa.js';
import { runPolicy, type LoopSettings, type LoopVariant, type RunResult } from './lib/quality-loop.js';
import { EnginePolicy, KedaWaitingPolicy, OraclePolicy, WvaRulePolicy, thresholdsFrom, type ScalingPolicy } from './lib/quality-policies.js';
import { evaluateTargets, type TargetVerdict } from './lib/quality-targets.js';
import { BURSTY_TRACE, RAMPED_TRACE, describeTrace, type LoadTrace } from './lib/quality-trace.js';
import { machineLine, writeResultsSection } from './lib/results.js';

const argv = process.argv.slice(2);
function intArg(name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} expects a positive integer, got ${argv[i + 1] ?? '<missing>'}`);
  return v;
}
const SEED = intArg('seed', 1);
const SEEDS = intArg('seeds', 1);
const VERBOSE = argv.includes('--verbose');
const JSON_OUT = argv.includes('--json');
const WRITE = !argv.includes('--no-write');

const NS = 'bench';
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const STARTUP_MS = 60_000;
const CYCLE_MS = 15_000;
const WAIT_BUDGET_MS = 5_000;
const MIN_REPLICAS = 1;
const MAX_REPLICAS = 16;
/** One replica: 16 slots x 0.05 KV, 2 s mean service -> 8 req/s flat out, KV 0.80 when full. */
const REPLICA = { maxBatch: 16, kvPerRequest: 0.05, serviceTimeMs: 2000, startupDelayMs: STARTUP_MS };
/** The oracle sizes for KV at 0.70 (the engine's own target: kvCacheThreshold - kvSpareTrigger): 14 running = 7 req/s. */
const ORACLE_RPS_PER_REPLICA = 7;

const decisionConfig: DecisionConfig = {
  saturation: EMPTY_SATURATION_CONFIG,
  scaleToZero: { enabled: false, retentionMs: 600_000 },
  maxScaleUpRate: 2,
};

const variants: LoopVariant[] = [
  {
    variant: parseTriggerMetadata(NS, 'llama-8b-a100', {
      modelID: MODEL, accelerator: 'A100', variantCost: '10', minReplicas: String(MIN_REPLICAS), maxReplicas: String(MAX_REPLICAS),
    }),
    fleet: { deployment: 'llama-8b-a100', replicas: 1, ...REPLICA },
  },
];

interface Scenario {
  readonly id: string;
  readonly trace: LoadTrace;
  readonly hpaName: string;
  readonly hpa: HpaSettings;
}

const K8S_DEFAULT: Pick<Scenario, 'hpaName' | 'hpa'> = { hpaName: 'Kubernetes default HPA', hpa: kubernetesDefaultHpa(MIN_REPLICAS, MAX_REPLICAS) };
const EXAMPLE: Pick<Scenario, 'hpaName' | 'hpa'> = { hpaName: 'example behaviour, tolerance 0', hpa: exampleBehaviourHpa(MIN_REPLICAS, MAX_REPLICAS) };
const scenarios: Scenario[] = [
  { id: 'primary', trace: BURSTY_TRACE, ...K8S_DEFAULT },
  { id: 'ramped', trace: RAMPED_TRACE, ...K8S_DEFAULT },
  { id: 'sharp-example-hpa', trace: BURSTY_TRACE, ...EXAMPLE },
  { id: 'ramped-example-hpa', trace: RAMPED_TRACE, ...EXAMPLE },
];

const policies: (() => ScalingPolicy)[] = [
  () => new EnginePolicy(decisionConfig),
  () => new WvaRulePolicy(thresholdsFrom(decisionConfig)),
  () => new KedaWaitingPolicy(5),
  () => new OraclePolicy(ORACLE_RPS_PER_REPLICA),
];

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly results: readonly RunResult[];
  readonly verdicts: readonly TargetVerdict[];
}

function run(sc: Scenario, seed: number): ScenarioResult {
  const settings: LoopSettings = { namespace: NS, modelID: MODEL, variants, trace: sc.trace, seed, cycleMs: CYCLE_MS, hpa: sc.hpa, waitBudgetMs: WAIT_BUDGET_MS };
  const results = policies.map((p) => runPolicy(p, settings));
  const [ours, wva, keda] = results;
  if (!ours || !wva || !keda) throw new Error('quality bench: missing policy results');
  return { scenario: sc, seed, results, verdicts: evaluateTargets(ours, wva, keda) };
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function table(results: readonly RunResult[]): string {
  const rows = results.map(
    (r) => `| ${r.policy} | ${r.replicaMinutes.toFixed(1)} | ${r.overBudgetMinutes} | ${sec(r.p95WaitMs)} | ${sec(r.maxWaitMs)} | ${r.peakQueue} | ${r.peakReplicas} |`,
  );
  return [
    `| policy | replica-minutes | minutes with a wait > ${WAIT_BUDGET_MS / 1000} s | p95 wait | max wait | peak queue | peak replicas |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function timeline(results: readonly RunResult[]): string {
  const head = `| min | req/s | ${results.map((r) => r.policy).join(' | ')} |`;
  const sep = `|---:|---:|${results.map(() => '---|').join('')}`;
  const lines: string[] = [head, sep];
  for (const [i, m0] of (results[0]?.minutes ?? []).entries()) {
    const cells = results.map((r) => {
      const m = r.minutes[i];
      if (!m) return '';
      return `${m.replicas.toFixed(1)} (${m.ready.toFixed(1)}) ${sec(m.maxWaitMs)}${m.maxWaitMs > WAIT_BUDGET_MS ? ' **!**' : ''}`;
    });
    lines.push(`| ${m0.minute} | ${m0.rps} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function verdictLines(v: readonly TargetVerdict[]): string {
  return v.map((t) => `- ${t.met ? 'met' : '**NOT met**'}: ${t.target}: ${t.detail}`).join('\n');
}

function scenarioTitle(r: ScenarioResult): string {
  return `${r.scenario.trace.name} trace, ${r.scenario.hpaName}`;
}

const started = performance.now();
const all = scenarios.map((sc) => run(sc, SEED));
const primary = all[0];
if (!primary) throw new Error('no primary scenario');
const spread: ScenarioResult[] = [];
for (let seed = 1; SEEDS > 1 && seed <= SEEDS; seed++) spread.push(seed === SEED ? primary : run(primary.scenario, seed));
const elapsedS = (performance.now() - started) / 1000;

if (VERBOSE) {
  for (const r of primary.results) {
    console.log(`\n# ${r.policy}`);
    for (const c of r.cycles) {
      console.log(`${(c.atMs / 60_000).toFixed(2).padStart(6)} min  cur ${String(c.current).padStart(2)} ready ${String(c.ready).padStart(2)} queue ${String(c.waiting).padStart(5)} -> ${String(c.desired).padStart(2)}  ${c.note}`);
    }
  }
}

if (JSON_OUT) {
  console.log(JSON.stringify(all.map((s) => ({
    scenario: s.scenario.id, seed: s.seed,
    results: s.results.map((r) => ({ policy: r.policy, replicaMinutes: r.replicaMinutes, overBudgetMinutes: r.overBudgetMinutes, p95WaitMs: r.p95WaitMs, maxWaitMs: r.maxWaitMs, peakQueue: r.peakQueue, peakReplicas: r.peakReplicas })),
    verdicts: s.verdicts,
  })), null, 2));
} else {
  for (const s of all) {
    console.log(`\n== ${scenarioTitle(s)} (seed ${s.seed}) ==\n${describeTrace(s.scenario.trace)}\nHPA: ${describeHpa(s.scenario.hpa)}\n`);
    console.log(table(s.results));
    console.log(verdictLines(s.verdicts));
  }
  if (spread.length > 0) {
    console.log(`\nPrimary scenario over seeds 1..${SEEDS}:`);
    for (const s of spread) console.log(`  seed ${s.seed}: ${s.results.map((r) => `${r.policy} ${r.replicaMinutes.toFixed(1)} rm / ${r.overBudgetMinutes} min`).join('; ')}; targets met ${s.verdicts.filter((v) => v.met).length}/${s.verdicts.length}`);
  }
  console.log(`\n(${elapsedS.toFixed(1)} s wall)`);
}

if (WRITE) {
  const sections = all.map((s, i) =>
    [
      `### ${i === 0 ? 'Primary: ' : ''}${scenarioTitle(s)}`,
      '',
      `HPA: ${describeHpa(s.scenario.hpa)}.`,
      '',
      table(s.results),
      '',
      verdictLines(s.verdicts),
    ].join('\n'),
  );
  const body = [
    `Machine: ${machineLine()}. Date: ${new Date().toISOString().slice(0, 10)}. Wall time of the whole bench: ${elapsedS.toFixed(1)} s.`,
    `Command: \`npm run bench:quality\` (tsx bench/scaling-quality.ts; \`--seed N\`, \`--seeds N\`, \`--verbose\`, \`--json\`, \`--no-write\`). Seed ${SEED}.`,
    '',
    `Trace (${BURSTY_TRACE.durationMin} simulated minutes): ${describeTrace(BURSTY_TRACE)}.`,
    `Thresholds: ${JSON.stringify(DEFAULT_SATURATION)}, maxScaleUpRate ${decisionConfig.maxScaleUpRate}, scale to zero off.`,
    '',
    ...sections.flatMap((x) => [x, '']),
    `#### Per minute, primary scenario: replicas (ready) averaged over the minute, longest wait of a request started in it (**!** = over budget)`,
    '',
    timeline(primary.results),
  ].join('\n');
  writeResultsSection('Scaling quality (bench/scaling-quality.ts)', body);
}
