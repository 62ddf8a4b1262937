import { describe, expect, it } from 'vitest';
import { SimPod, type PodListener, type SimRequest, type VariantParams } from '../../../src/sim/fleet/pod.js';
import { ACCELERATOR_PROFILES, stepTimeMs, type StepTimeParams } from '../../../src/sim/fleet/profiles.js';
import {
  blocksFor,
  decodeRunMs,
  decodeStepsWithin,
  decodeStepsWithinBlocks,
} from '../../../src/sim/fleet/scheduler.js';
import { VllmFleet, type FleetRequestEvent } from '../../../src/sim/fleet/index.js';

/** 1 ms per step plus 0.01 ms per token: easy to follow by hand. */
const STEP: StepTimeParams = { alphaMs: 1, betaMsPerToken: 0.01, gammaMsPerKvToken: 0 };

function variant(over: Partial<VariantParams> = {}): VariantParams {
  return {
    deployment: 'd',
    accelerator: 'H100',
    numGpuBlocks: 1000,
    blockSize: 16,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    step: STEP,
    startupDelayMs: 0,
    ...over,
  };
}

function request(promptTokens: number, outputTokens: number, arrivedAt = 0): SimRequest {
  return {
    arrivedAt,
    promptTokens,
    outputTokens,
    dispatchedAt: Number.NaN,
    computed: 0,
    generated: 0,
    blocks: 0,
    scheduledAt: Number.NaN,
    lastTokenAt: Number.NaN,
    firstTokenReported: false,
  };
}

interface Log {
  readonly events: string[];
  readonly listener: PodListener;
}

function log(): Log {
  const events: string[] = [];
  return {
    events,
    listener: {
      onStarted: (_p, r, at) => events.push(`start ${r.promptTokens} ${at.toFixed(3)}`),
      onFirstToken: (_p, r, at) => events.push(`first ${r.promptTokens} ${at.toFixed(3)}`),
      onFinished: (_p, r, at) => events.push(`done ${r.promptTokens} ${at.toFixed(3)}`),
    },
  };
}

function pod(v: VariantParams): SimPod {
  return new SimPod('p', 'ns', 'm', v, 0, 0, 0);
}

describe('scheduler arithmetic', () => {
  it.each([
    [0, 0],
    [1, 1],
    [16, 1],
    [17, 2],
    [32, 2],
    [33, 3],
  ])('%i tokens take %i blocks of 16', (tokens, blocks) => {
    expect(blocksFor(tokens, 16)).toBe(blocks);
  });

  it('sums a decode run in closed form exactly as step by step', () => {
    const p: StepTimeParams = { alphaMs: 7, betaMsPerToken: 0.03, gammaMsPerKvToken: 4e-5 };
    let kv = 5000;
    let total = 0;
    for (let j = 0; j < 37; j++) {
      total += stepTimeMs(p, 10, kv + 10);
      kv += 10;
    }
    expect(decodeRunMs(p, 10, 5000, 37)).toBeCloseTo(total, 9);
  });

  it.each([
    // budget ms, cap → steps (each step 1 + 0.01 × 4 = 1.04 ms)
    [0.5, 100, 0],
    [1.04, 100, 1],
    [10.4, 100, 10],
    [1000, 25, 25],
  ])('fits decode steps of 4 sequences in %f ms (cap %i): %i', (budget, cap, steps) => {
    expect(decodeStepsWithin(STEP, 4, 0, budget, cap)).toBe(steps);
  });

  it.each([
    // computed tokens, free blocks, cap → steps
    [[16, 16], 0, 50, 0], // both need a new block at once
    [[16, 16], 2, 50, 16], // one block each lasts 16 steps
    [[10, 20], 1, 50, 12], // the first takes the free block at step 7, the second runs short at step 13
    [[10, 20], 10, 30, 30],
  ])('decode steps of %j with %i free blocks (cap %i): %i', (computed, free, cap, steps) => {
    expect(decodeStepsWithinBlocks(computed, 16, free, cap)).toBe(steps);
  });
});

describe('replica scheduler (vLLM v1)', () => {
  it('chunks a prompt longer than the token budget and emits the first token after the last chunk', () => {
    const p = pod(variant({ maxNumBatchedTokens: 8192 }));
    const l = log();
    p.enqueue(request(10_000, 3), 0);
    p.advance(1000, l.listener);
    // Step 1: 8,192 tokens (1 + 81.92 ms); step 2: 1,808 tokens (1 + 18.08 ms) → first token at 102 ms;
    // then two decode steps of 1.01 ms.
    expect(l.events).toEqual(['start 10000 0.000', 'first 10000 102.000', 'done 10000 104.020']);
    expect(p.ttft.count).toBe(1);
    expect(p.ttft.sum).toBeCloseTo(0.102, 9);
    expect(p.itl.count).toBe(2);
    expect(p.generationTokens).toBe(3);
    expect(p.promptTokens).toBe(10_000);
  });

  it('shares the budget: running requests first, then waiting ones with what is left', () => {
    const p = pod(variant({ maxNumBatchedTokens: 100 }));
    const l = log();
    p.enqueue(request(60, 5), 0);
    p.enqueue(request(60, 5), 0);
    p.advance(0.5, l.listener); // the first step is in flight: 60 + 40 tokens
    expect(p.running).toHaveLength(2);
    expect(p.running.map((r) => r.blocks)).toEqual([4, 3]); // 60 tokens, then a 40-token chunk
    expect(p.usedBlocks).toBe(7);
  });

  it("counts the prefill backlog (EPP's llm_d_epp_inflight_tokens): prompt tokens not yet prefilled", () => {
    const p = pod(variant({ maxNumBatchedTokens: 100 }));
    const l = log();
    p.enqueue(request(60, 50), 0);
    p.enqueue(request(60, 50), 0);
    expect(p.prefillBacklogTokens()).toBe(120);
    p.advance(2.5, l.listener); // the first step (1 + 0.01 x 100 ms) ended: 60 + 40 prompt tokens cached
    expect(p.prefillBacklogTokens()).toBe(20);
    p.advance(5, l.listener); // the second prefill chunk ended; both decode, output tokens are not backlog
    expect(p.running).toHaveLength(2);
    expect(p.prefillBacklogTokens()).toBe(0);
  });

  it('allocates blocks as tokens are cached and frees them at the end', () => {
    const p = pod(variant());
    const l = log();
    p.enqueue(request(17, 20), 0);
    p.advance(1.3, l.listener); // prefill done at 1.17 ms
    expect(p.usedBlocks).toBe(2); // 17 tokens
    p.advance(10_000, l.listener);
    expect(p.usedBlocks).toBe(0);
    expect(p.successStop).toBe(1);
  });

  it('keeps a request waiting while the KV cache cannot hold its prompt', () => {
    const p = pod(variant({ numGpuBlocks: 4 }));
    const l = log();
    p.enqueue(request(40, 100), 0); // 3 blocks
    p.enqueue(request(40, 100), 0); // needs 3, 1 free
    p.advance(0.5, l.listener);
    expect(p.running).toHaveLength(1);
    expect(p.waiting).toBe(1);
    expect(p.usedBlocks).toBe(3);
  });

  it('caps running requests at maxNumSeqs', () => {
    const p = pod(variant({ maxNumSeqs: 2 }));
    const l = log();
    for (let i = 0; i < 5; i++) p.enqueue(request(10, 50), 0);
    p.advance(5, l.listener);
    expect(p.running).toHaveLength(2);
    expect(p.waiting).toBe(3);
  });

  it('preempts the most recently admitted request when a running one needs a block, and recomputes it later', () => {
    // 4 blocks = 64 tokens; two requests of 16 + 40 tokens cannot both finish together.
    const p = pod(variant({ numGpuBlocks: 4 }));
    const l = log();
    p.enqueue(request(16, 40), 0);
    p.enqueue(request(16, 40), 0);
    p.advance(10_000, l.listener);
    expect(p.preemptions).toBeGreaterThan(0);
    expect(p.successStop).toBe(2);
    expect(p.usedBlocks).toBe(0);
    // The first admitted request is never the victim: it finishes first.
    const done = l.events.filter((e) => e.startsWith('done'));
    expect(done).toHaveLength(2);
    // Recomputed prompts are not counted twice.
    expect(p.promptTokens).toBe(32);
    expect(p.generationTokens).toBe(80);
  });

  it('gives the same events whether advanced in one call or in 1 ms slices (decode runs are exact)', () => {
    const run = (slice: number): string[] => {
      const p = pod(variant({ numGpuBlocks: 30, step: ACCELERATOR_PROFILES.H100 }));
      const l = log();
      p.enqueue(request(100, 80), 0);
      p.enqueue(request(200, 120), 0);
      p.enqueue(request(50, 200), 0);
      for (let t = slice; t <= 20_000; t += slice) p.advance(t, l.listener);
      return l.events;
    };
    expect(run(1)).toEqual(run(20_000));
  });

  it('records inter-token latency per token and queue time per request', () => {
    const p = pod(variant());
    const l = log();
    p.enqueue(request(10, 11), 0);
    p.advance(1000, l.listener);
    expect(p.itl.count).toBe(10);
    expect(p.itl.sum).toBeCloseTo(10 * 0.00101, 9);
    expect(p.queueTime.count).toBe(1);
    expect(p.queueTime.sum).toBe(0);
  });
});

describe('fleet determinism at token level', () => {
  function events(seed: number): FleetRequestEvent[] {
    const out: FleetRequestEvent[] = [];
    const f = new VllmFleet({
      realtime: false,
      seed,
      models: [
        {
          namespace: 'ns',
          modelID: 'm',
          arrivalRate: 3,
          variants: [{ deployment: 'd', replicas: 2, accelerator: 'L4', maxNumSeqs: 32 }],
        },
      ],
      onRequestEvent: (e) => out.push(e),
    });
    f.enqueueRequests('ns', 'm', [
      { atMs: 50, promptTokens: 3000, outputTokens: 10 },
      { atMs: 1234.5, promptTokens: 20, outputTokens: 300 },
    ]);
    f.step(40_000);
    return out;
  }

  it('emits the same request events for the same seed and different ones for another', () => {
    const a = events(3);
    expect(a.length).toBeGreaterThan(40);
    expect(events(3)).toEqual(a);
    expect(events(4)).not.toEqual(a);
    const replayed = a.filter((e) => e.arrivedAtMs === 1234.5);
    expect(replayed.map((e) => e.kind)).toEqual(['first-token', 'finished']);
  });
});
