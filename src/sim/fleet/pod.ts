/**
 * One emulated vLLM v1 replica at token level: its scheduler (vllm/v1/core/sched/scheduler.py),
 * KV-cache blocks and the counters and histograms its /metrics reports.
 *
 * Each engine step schedules the running requests first (in admission order, one token per decoding
 * request, prompt chunks within the token budget), then, if nothing was preempted, admits waiting
 * requests while the token budget, max_num_seqs and free blocks allow. A running request that needs a
 * block when none is free preempts the most recently admitted running request (recompute: its blocks
 * are freed and it goes back to the front of the waiting queue with nothing computed). The step's
 * tokens land when it ends; the step lasts stepTimeMs(tokens computed, KV tokens read).
 *
 * Time jumps: when every running request decodes and nothing can be admitted, consecutive steps are
 * identical but for their growing context, so a run of them up to the next event (a request finishing,
 * blocks running out, the caller's time bound) is applied at once in closed form.
 */
import { type StepTimeParams } from './profiles.js';
import { INTER_TOKEN_LATENCY_BUCKETS, PromHistogram, REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS } from './prom-histogram.js';
import { blocksFor, decodeRunMs, decodeStepsWithin, decodeStepsWithinBlocks } from './scheduler.js';
import type { Accelerator } from './types.js';

/** A request as the fleet tracks it, from the gateway to its end. */
export interface SimRequest {
  /** Arrival at the gateway (sim ms). */
  readonly arrivedAt: number;
  /** Token counts; a replica clamps them to what its KV cache can ever hold (vLLM's max_model_len check). */
  promptTokens: number;
  outputTokens: number;
  /** Handed to its current replica (sim ms); NaN while at the gateway. */
  dispatchedAt: number;
  /** Tokens whose KV is computed on the current replica. */
  computed: number;
  /** Output tokens sampled on the current replica. */
  generated: number;
  /** KV blocks held on the current replica. */
  blocks: number;
  /** First scheduled on the current replica (sim ms); NaN before. */
  scheduledAt: number;
  lastTokenAt: number;
  /** The first-token event was reported (once per request, even if it is requeued). */
  firstTokenReported: boolean;
}

/** The resolved (defaulted, validated) spec of one variant. */
export interface VariantParams {
  readonly deployment: string;
  readonly accelerator: Accelerator;
  readonly numGpuBlocks: number;
  readonly blockSize: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly step: StepTimeParams;
  readonly startupDelayMs: number;
}

/** What a replica tells its model as requests progress. */
export interface PodListener {
  onStarted(pod: SimPod, r: SimRequest, atMs: number): void;
  onFirstToken(pod: SimPod, r: SimRequest, atMs: number): void;
  onFinished(pod: SimPod, r: SimRequest, atMs: number): void;
}

interface Step {
  readonly endAt: number;
  readonly reqs: SimRequest[];
  readonly tokens: number[];
}

export class SimPod {
  /** Running requests in admission order (preemption takes the last). */
  running: SimRequest[] = [];
  private waitingQ: SimRequest[] = [];
  private waitingHead = 0;
  ready: boolean;
  /** Reported KV usage (blocks used / blocks, plus the fleet's optional noise), updated per tick. */
  kvUsage = 0;
  usedBlocks = 0;
  /** The engine's clock: end of its last step, or the last time it was advanced to while idle. */
  clock: number;
  private inFlight: Step | undefined;
  /** Prompt tokens of the waiting requests, and prompt + output tokens of all requests here (kept as they change). */
  private waitingPromptSum = 0;

  // Counters, as vLLM reports them.
  successStop = 0;
  promptTokens = 0;
  generationTokens = 0;
  preemptions = 0;
  prefixQueries = 0;
  prefixHits = 0;

  readonly e2e = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly queueTime = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly inferenceTime = new PromHistogram(REQUEST_LATENCY_BUCKETS);
  readonly ttft = new PromHistogram(TTFT_BUCKETS);
  readonly itl = new PromHistogram(INTER_TOKEN_LATENCY_BUCKETS);

  /** Label text before the sorted position of `finished_reason`/`le`. */
  readonly labelsHead: string;
  /** Label text after it: `model_name`, `namespace`, `pod`. */
  readonly labelsTail: string;

  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly modelID: string,
    readonly variant: VariantParams,
    readonly createdAt: number,
    readonly readyAt: number,
    /** Wall-clock seconds used for the `_created` series. */
    readonly createdEpochSeconds: number,
  ) {
    this.ready = readyAt <= createdAt;
    this.clock = createdAt;
    this.labelsHead = 'engine="0"';
    this.labelsTail = `model_name="${escapeLabel(modelID)}",namespace="${escapeLabel(namespace)}",pod="${escapeLabel(name)}"`;
  }

  get waiting(): number {
    return this.waitingQ.length - this.waitingHead;
  }

  /** running + waiting: the dispatcher's load measure. */
  get load(): number {
    return this.running.length + this.waiting;
  }

  get freeBlocks(): number {
    return this.variant.numGpuBlocks - this.usedBlocks;
  }

  /** The KV share in use now (vLLM's kv_cache_usage_perc without noise). */
  get blockUsage(): number {
    return this.usedBlocks / this.variant.numGpuBlocks;
  }

  /** KV tokens the running requests hold. */
  runningTokens(): number {
    let s = 0;
    for (const r of this.running) s += r.computed;
    return s;
  }

  waitingPromptTokens(): number {
    return this.waitingPromptSum;
  }

  /**
   * Prompt tokens on this replica not yet prefilled: waiting requests' prompts and the rest of the
   * running requests' prompts (the fleet has no prefix cache, so every prompt token is uncached).
   */
  prefillBacklogTokens(): number {
    let s = this.waitingPromptSum;
    for (const r of this.running) s += Math.max(0, r.promptTokens - r.computed);
    return s;
  }

  /** Takes a request at `now` (after the caller advanced the replica to `now`). */
  enqueue(r: SimRequest, now: number): void {
    const capacity = this.variant.numGpuBlocks * this.variant.blockSize;
    r.promptTokens = Math.max(1, Math.min(r.promptTokens, capacity - 1));
    r.outputTokens = Math.max(1, Math.min(r.outputTokens, capacity - r.promptTokens));
    r.dispatchedAt = now;
    this.prefixQueries += r.promptTokens;
    this.waitingPromptSum += r.promptTokens;
    if (this.running.length === 0 && this.waiting === 0 && !this.inFlight && this.clock < now) this.clock = now;
    this.waitingQ.push(r);
  }

  /** Removes every request (running, then waiting) with its progress reset, for requeueing elsewhere. */
  evictAll(): SimRequest[] {
    const out = [...this.running, ...this.waitingQ.slice(this.waitingHead)];
    for (const r of out) {
      r.computed = 0;
      r.generated = 0;
      r.blocks = 0;
      r.scheduledAt = Number.NaN;
      r.dispatchedAt = Number.NaN;
    }
    this.running = [];
    this.waitingQ = [];
    this.waitingHead = 0;
    this.usedBlocks = 0;
    this.inFlight = undefined;
    this.waitingPromptSum = 0;
    return out;
  }

  /** Marks the replica ready at `now`: its engine starts then. */
  becomeReady(now: number): void {
    this.ready = true;
    this.clock = now;
  }

  /**
   * Runs the engine up to `t`: completes every step that ends by `t`, and starts the step that
   * begins before `t` (it lands at a later call). Steps never start at `t` itself, so requests the
   * caller hands over at `t` join the next step.
   */
  advance(t: number, l: PodListener): void {
    for (;;) {
      const f = this.inFlight;
      if (f) {
        if (f.endAt > t) return;
        this.inFlight = undefined;
        this.clock = f.endAt;
        this.completeStep(f, l);
        continue;
      }
      if (this.running.length === 0 && this.waiting === 0) {
        if (this.clock < t) this.clock = t;
        return;
      }
      if (this.clock >= t) return;
      if (this.decodeRun(t, l)) continue;
      const step = this.schedule(l);
      if (!step) {
        this.clock = t;
        return;
      }
      this.inFlight = step;
    }
  }

  /** One vLLM v1 scheduling pass at `clock`: running first, then waiting unless something was preempted. */
  private schedule(l: PodListener): Step | undefined {
    const v = this.variant;
    let budget = v.maxNumBatchedTokens;
    const reqs: SimRequest[] = [];
    const tokens: number[] = [];
    let preempted = false;
    let i = 0;
    while (i < this.running.length && budget > 0) {
      const r = this.running[i];
      if (!r) break;
      const n = Math.min(r.promptTokens + r.generated - r.computed, budget);
      let need = blocksFor(r.computed + n, v.blockSize) - r.blocks;
      let scheduled = true;
      while (need > this.freeBlocks) {
        const victim = this.running.pop();
        if (!victim) break;
        this.preempt(victim);
        preempted = true;
        if (victim === r) {
          scheduled = false;
          break;
        }
        need = blocksFor(r.computed + n, v.blockSize) - r.blocks;
      }
      if (!scheduled) break;
      this.allocate(r, need);
      reqs.push(r);
      tokens.push(n);
      budget -= n;
      i++;
    }
    if (!preempted) {
      while (this.waiting > 0 && budget > 0 && this.running.length < v.maxNumSeqs) {
        const r = this.waitingQ[this.waitingHead];
        if (!r) break;
        const n = Math.min(r.promptTokens + r.generated - r.computed, budget);
        const need = blocksFor(r.computed + n, v.blockSize) - r.blocks;
        if (need > this.freeBlocks) break;
        this.shiftWaiting();
        this.waitingPromptSum -= r.promptTokens;
        this.allocate(r, need);
        this.running.push(r);
        reqs.push(r);
        tokens.push(n);
        budget -= n;
        if (Number.isNaN(r.scheduledAt)) {
          r.scheduledAt = this.clock;
          l.onStarted(this, r, this.clock);
        }
      }
    }
    if (reqs.length === 0) return undefined;
    let computed = 0;
    let kvRead = 0;
    for (let j = 0; j < reqs.length; j++) {
      const n = tokens[j] ?? 0;
      computed += n;
      kvRead += (reqs[j]?.computed ?? 0) + n;
    }
    const ms = v.step.alphaMs + v.step.betaMsPerToken * computed + v.step.gammaMsPerKvToken * kvRead;
    return { endAt: this.clock + ms, reqs, tokens };
  }

  /**
   * Applies a run of identical decode steps when every running request decodes and the waiting
   * head cannot be admitted; false when the next step is not such a step (or would end after t).
   */
  private decodeRun(t: number, l: PodListener): boolean {
    const v = this.variant;
    const n = this.running.length;
    if (n === 0 || n > v.maxNumBatchedTokens) return false;
    let kvTokens = 0;
    let stepBlocks = 0;
    let finishIn = Infinity;
    for (const r of this.running) {
      if (r.promptTokens + r.generated - r.computed !== 1) return false;
      kvTokens += r.computed;
      stepBlocks += blocksFor(r.computed + 1, v.blockSize) - r.blocks;
      finishIn = Math.min(finishIn, r.outputTokens - r.generated);
    }
    const head = this.waiting > 0 ? this.waitingQ[this.waitingHead] : undefined;
    if (head && n < v.maxNumSeqs) {
      const left = v.maxNumBatchedTokens - n;
      const chunk = Math.min(head.promptTokens + head.generated - head.computed, left);
      // Free blocks only shrink during the run, so a head that does not fit now never does.
      if (left > 0 && blocksFor(head.computed + chunk, v.blockSize) - head.blocks <= this.freeBlocks - stepBlocks)
        return false;
    }
    const byTime = decodeStepsWithin(v.step, n, kvTokens, t - this.clock, finishIn);
    if (byTime < 1) return false;
    // Over k steps a sequence takes at most ceil(k / blockSize) + 1 new blocks: check exactly only when that could
    // run short.
    const k =
      n * (Math.ceil(byTime / v.blockSize) + 1) <= this.freeBlocks
        ? byTime
        : decodeStepsWithinBlocks(
            this.running.map((r) => r.computed),
            v.blockSize,
            this.freeBlocks,
            byTime,
          );
    if (k < 1) return false;
    const firstMs = decodeRunMs(v.step, n, kvTokens, 1);
    const runMs = decodeRunMs(v.step, n, kvTokens, k);
    const firstEnd = this.clock + firstMs;
    const endAt = this.clock + runMs;
    for (const r of this.running) {
      this.itl.observe((firstEnd - r.lastTokenAt) / 1000);
      r.computed += k;
      r.generated += k;
      this.allocate(r, blocksFor(r.computed, v.blockSize) - r.blocks);
      r.lastTokenAt = endAt;
    }
    // Later steps differ only by γ × n per step: their mean stands for each of them.
    if (k > 1) this.itl.observe((runMs - firstMs) / (k - 1) / 1000, n * (k - 1));
    this.generationTokens += n * k;
    this.clock = endAt;
    this.finishDone(endAt, l);
    return true;
  }

  private completeStep(f: Step, l: PodListener): void {
    for (let j = 0; j < f.reqs.length; j++) {
      const r = f.reqs[j];
      if (!r) continue;
      r.computed += f.tokens[j] ?? 0;
      if (r.computed < r.promptTokens + r.generated) continue; // a prompt chunk: no token yet
      r.generated++;
      this.generationTokens++;
      if (r.generated === 1) {
        this.promptTokens += r.promptTokens;
        this.ttft.observe((f.endAt - r.dispatchedAt) / 1000);
        l.onFirstToken(this, r, f.endAt);
      } else this.itl.observe((f.endAt - r.lastTokenAt) / 1000);
      r.lastTokenAt = f.endAt;
    }
    this.finishDone(f.endAt, l);
  }

  /** Ends the running requests that produced their last token at `at`, freeing their blocks. */
  private finishDone(at: number, l: PodListener): void {
    let w = 0;
    for (const r of this.running) {
      if (r.generated < r.outputTokens) {
        this.running[w++] = r;
        continue;
      }
      this.usedBlocks -= r.blocks;
      r.blocks = 0;
      this.successStop++;
      this.e2e.observe((at - r.dispatchedAt) / 1000);
      this.queueTime.observe((r.scheduledAt - r.dispatchedAt) / 1000);
      this.inferenceTime.observe((at - r.scheduledAt) / 1000);
      l.onFinished(this, r, at);
    }
    this.running.length = w;
  }

  private allocate(r: SimRequest, blocks: number): void {
    if (blocks <= 0) return;
    r.blocks += blocks;
    this.usedBlocks += blocks;
  }

  /** Recompute preemption: free the request's blocks and put it first in the waiting queue. */
  private preempt(r: SimRequest): void {
    this.usedBlocks -= r.blocks;
    r.blocks = 0;
    r.computed = 0;
    this.preemptions++;
    this.waitingPromptSum += r.promptTokens;
    if (this.waitingHead > 0) this.waitingQ[--this.waitingHead] = r;
    else this.waitingQ.unshift(r);
  }

  private shiftWaiting(): void {
    this.waitingHead++;
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waitingQ.length) {
      this.waitingQ = this.waitingQ.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }
}

/** Escapes a label value for the text exposition format. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
