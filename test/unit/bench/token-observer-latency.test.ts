import { describe, expect, it } from 'vitest';
import { quantileMs, TokenScrapeHistory } from '../../../bench/lib/token-observer.js';
import type { TokenModelSnapshot, TokenPodSnapshot } from '../../../bench/lib/token-fleet.js';
import type { FleetHistogram } from '../../../src/sim/fleet/types.js';

const BOUNDS = [0.1, 0.5, 1];
const hist = (counts: number[], sum: number): FleetHistogram => ({
  bounds: BOUNDS,
  counts,
  sum,
  count: counts.reduce((a, b) => a + b, 0),
});

function pod(completed: number, generated: number, ttft: FleetHistogram, itl: FleetHistogram): TokenPodSnapshot {
  return {
    pod: 'p-1',
    deployment: 'p',
    ready: true,
    running: 4,
    waiting: 0,
    kvUsage: 0.3,
    completed,
    inferenceSeconds: 0,
    accelerator: 'H100',
    kvBlocksUsed: 0,
    numGpuBlocks: 100,
    blockSize: 16,
    waitingPromptTokens: 0,
    runningTokens: 0,
    preemptions: 0,
    promptTokensTotal: completed * 100,
    generationTokensTotal: generated,
    latency: { ttft, itl, queueTime: hist([completed, 0, 0, 0], completed * 0.05) },
  };
}

function model(p: TokenPodSnapshot): TokenModelSnapshot {
  return {
    namespace: 'ns',
    modelID: 'm',
    gatewayQueue: 0,
    arrivalsTotal: 0,
    waiting: 0,
    running: p.running,
    waitMaxMs: 0,
    inflightTokens: 0,
    runningRequests: 0,
    gatewayQueuedTokens: 0,
    pods: [p],
  };
}

describe('token observer: latency signals over the window', () => {
  it('histogram_quantile as Prometheus: linear within the bucket, the top bound in +Inf', () => {
    const zero = hist([0, 0, 0, 0], 0);
    // 10 in (0.1, 0.5]: rank 9.5 of 10 -> 0.1 + 0.4 x 0.95 = 0.48 s.
    expect(quantileMs(0.95, zero, hist([0, 10, 0, 0], 3))).toBeCloseTo(480, 6);
    expect(quantileMs(0.95, zero, hist([0, 0, 0, 5], 50))).toBe(1000);
    expect(quantileMs(0.95, zero, zero)).toBeUndefined();
  });

  it('fills the ReplicaMetrics SLO fields from the window, and leaves them missing without observations', () => {
    const h = new TokenScrapeHistory();
    h.scrape(model(pod(0, 0, hist([0, 0, 0, 0], 0), hist([0, 0, 0, 0], 0))), 0);
    const none = h.modelMetrics(0, () => 'ns/p').replicas[0];
    expect(none?.ttftMeanMs).toBeUndefined();
    expect(none?.ttftP95Ms).toBeUndefined();
    expect(none?.outputTokensPerRequest).toBeUndefined();
    h.scrape(model(pod(10, 2000, hist([2, 8, 0, 0], 2.2), hist([1990, 0, 0, 0], 39.8))), 15_000);
    const r = h.modelMetrics(15_000, () => 'ns/p').replicas[0];
    expect(r?.ttftMeanMs).toBeCloseTo(220, 6);
    expect(r?.itlMeanMs).toBeCloseTo(20, 6);
    expect(r?.queueTimeMeanMs).toBeCloseTo(50, 6);
    expect(r?.outputTokensPerRequest).toBe(200);
    expect(r?.ttftP95Ms).toBeGreaterThan(100);
    expect(r?.ttftP95Ms).toBeLessThanOrEqual(500);
  });
});
