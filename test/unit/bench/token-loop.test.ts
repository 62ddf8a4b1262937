import { describe, expect, it } from 'vitest';
import { wvaBenchmarkHpa } from '../../../bench/lib/quality-hpa.js';
import { createTokenFleet } from '../../../bench/lib/token-fleet-factory.js';
import type { TokenModelSnapshot, TokenPodSnapshot } from '../../../bench/lib/token-fleet.js';
import { measureReplicaRps, runTokenPolicy, type TokenLoopSettings } from '../../../bench/lib/token-loop.js';
import { TokenScrapeHistory } from '../../../bench/lib/token-observer.js';
import type { FleetHistogram, FleetPodLatency } from '../../../src/sim/fleet/types.js';
import {
  CHAT_SLO,
  MODEL,
  NS,
  POLICY_NAMES,
  loopVariants,
  poissonRequests,
  tokenPolicyRows,
  type TokenScenario,
} from '../../../bench/lib/token-scenarios.js';

const pod = (name: string, over: Partial<TokenPodSnapshot>): TokenPodSnapshot => ({
  pod: name,
  deployment: 'd',
  ready: true,
  running: 0,
  waiting: 0,
  kvUsage: 0,
  completed: 0,
  inferenceSeconds: 0,
  kvBlocksUsed: 0,
  numGpuBlocks: 1000,
  blockSize: 16,
  waitingPromptTokens: 0,
  runningTokens: 0,
  preemptions: 0,
  promptTokensTotal: 0,
  generationTokensTotal: 0,
  accelerator: 'H100',
  ...over,
});
/** Histogram sums and counts only (the observer's means read nothing else). */
const histogram = (sum: number, count: number): FleetHistogram => ({ bounds: [], counts: [count], sum, count });
const latency = (ttftSum: number, ttftCount: number, itlSum: number, itlCount: number): FleetPodLatency => ({
  ttft: histogram(ttftSum, ttftCount),
  itl: histogram(itlSum, itlCount),
  queueTime: histogram(0, 0),
});
const model = (pods: TokenPodSnapshot[], arrivalsTotal = 0): TokenModelSnapshot => ({
  namespace: NS,
  modelID: MODEL,
  gatewayQueue: 2,
  arrivalsTotal,
  waiting: 0,
  running: 0,
  waitMaxMs: 0,
  inflightTokens: 500,
  runningRequests: 3,
  gatewayQueuedTokens: 100,
  pods,
});

describe('token observer', () => {
  it("gives the gateway's arrivals as irate() of its request counter: the last two scrapes, missing before the second", () => {
    const h = new TokenScrapeHistory();
    const scrapes: { at: number; total: number; want: number | undefined }[] = [
      { at: 0, total: 40, want: undefined }, // one sample: irate has nothing, missing (never 0)
      { at: 15_000, total: 100, want: 4 },
      { at: 30_000, total: 100, want: 0 }, // nothing arrived: a measured 0
      { at: 45_000, total: 130, want: 2 }, // the last two scrapes only, not the window's first
    ];
    for (const s of scrapes) {
      h.scrape(model([pod('a', {})], s.total), s.at);
      expect(h.modelMetrics(s.at, () => 'v').gatewayArrivalRate, `at ${s.at}`).toBe(s.want);
    }
  });

  it('window means of the TTFT and ITL histograms and the completion rate; missing without observations', () => {
    const h = new TokenScrapeHistory();
    h.scrape(model([pod('a', { completed: 10, latency: latency(5, 10, 2, 100) })]), 0);
    h.scrape(model([pod('a', { completed: 16, latency: latency(5.6, 14, 3.5, 200) })]), 30_000);
    const v = h.tokenView().pods[0];
    expect(v?.completionRps).toBeCloseTo(0.2, 12);
    expect(v?.avgTtftMs).toBeCloseTo(150, 9);
    expect(v?.avgItlMs).toBeCloseTo(15, 9);
    // Nothing new in the next window: missing, never 0.
    h.scrape(model([pod('a', { completed: 16, latency: latency(5.6, 14, 3.5, 200) })]), 90_000);
    h.scrape(model([pod('a', { completed: 16, latency: latency(5.6, 14, 3.5, 200) })]), 105_000);
    expect(h.tokenView().pods[0]).toMatchObject({ completionRps: 0, avgTtftMs: undefined, avgItlMs: undefined });
  });

  it('peaks over 1 m, token means per finished request, latest sums, pending pods unseen', () => {
    const h = new TokenScrapeHistory();
    h.scrape(model([pod('a', { kvUsage: 0.6, waiting: 4 }), pod('p', { ready: false })]), 0);
    h.scrape(
      model([
        pod('a', { kvUsage: 0.3, waiting: 1, completed: 4, promptTokensTotal: 4000, generationTokensTotal: 800 }),
      ]),
      15_000,
    );
    const v = h.tokenView();
    expect(v.pods).toHaveLength(1);
    expect(v.pods[0]).toMatchObject({
      kvPeak: 0.6,
      waitingPeak: 4,
      kvCapacityTokens: 16_000,
      avgPromptTokens: 1000,
      avgOutputTokens: 200,
    });
    expect(v).toMatchObject({ sumKvUsage: 0.3, gatewayQueue: 2, inflightTokens: 500, runningRequests: 3 });
    // 75 s later the first sample has left the 1 m window.
    h.scrape(
      model([pod('a', { kvUsage: 0.1, completed: 4, promptTokensTotal: 4000, generationTokensTotal: 800 })]),
      75_000,
    );
    expect(h.tokenView().pods[0]).toMatchObject({ kvPeak: 0.1, avgPromptTokens: undefined });
    expect(h.modelMetrics(75_000, () => 'ns/d').replicas[0]).toMatchObject({
      kvCacheUsage: 0.1,
      requestRate: undefined,
    });
  });
});

describe('token loop on the real fleet', () => {
  const scenario: TokenScenario = {
    name: 'tiny',
    trace: 'test',
    requests: (seed) =>
      poissonRequests(
        [
          { fromS: 0, rps: 4 },
          { fromS: 60, rps: 30 },
        ],
        180,
        1000,
        200,
        seed,
      ),
    durationMs: 180_000,
    hpa: wvaBenchmarkHpa(1, 6),
    hpaName: 'test',
    accelerator: 'H100',
    slo: CHAT_SLO,
  };
  const settings = (seed: number): TokenLoopSettings => ({
    namespace: NS,
    modelID: MODEL,
    variants: loopVariants(scenario, 30),
    requests: scenario.requests(seed),
    durationMs: scenario.durationMs,
    seed,
    cycleMs: 15_000,
    hpa: scenario.hpa,
    waitBudgetMs: 5000,
    flowControl: true,
    fleet: createTokenFleet,
  });

  it('runs every policy row, reports figures in range, and decides the same twice on a seed', () => {
    const rows = tokenPolicyRows({ startupS: 30, replicaRps: 10, peakPrefillTokensPerS: 30_000 });
    for (const name of POLICY_NAMES) {
      const r = runTokenPolicy(rows[name](), settings(1));
      expect(r.policy).toBe(name);
      expect(r.sent).toBeGreaterThan(3500);
      expect(r.figures.sloAttainment2s).toBeGreaterThanOrEqual(0);
      expect(r.figures.sloAttainment10s).toBeGreaterThanOrEqual(r.figures.sloAttainment2s);
      expect(r.figures.sloAttainment10s).toBeLessThanOrEqual(1);
      expect(r.figures.gpuCost).toBeGreaterThanOrEqual(3 * 30); // at least one replica for 3 minutes
      expect(r.cycles).toHaveLength(12);
    }
    const a = runTokenPolicy(rows.engine(), settings(2));
    const b = runTokenPolicy(rows.engine(), settings(2));
    expect(a.decisions).toBe(b.decisions);
    expect(a.figures).toEqual(b.figures);
  }, 120_000);

  it('measures one replica flat out', () => {
    const rps = measureReplicaRps(createTokenFleet, 'H100', scenario.requests(1).slice(0, 500), {
      warmupMs: 30_000,
      measureMs: 30_000,
    });
    expect(rps).toBeGreaterThan(1);
    expect(rps).toBeLessThan(100);
  }, 60_000);
});
