/**
 * FIFO of requests stored as batches of identical timestamps, so a queue of a million requests
 * that arrived over a few thousand ticks costs a few thousand entries (bounded by ticks, not
 * by requests).
 */
export interface QueuedBatch {
  /** When the requests arrived in the system (sim ms). */
  arrivedAt: number;
  /** When the requests were handed to their replica (sim ms); NaN while at the gateway. */
  dispatchedAt: number;
  count: number;
}

export class BatchQueue {
  private items: QueuedBatch[] = [];
  private head = 0;
  private total = 0;

  get size(): number {
    return this.total;
  }

  push(arrivedAt: number, dispatchedAt: number, count = 1): void {
    if (count <= 0) return;
    const last = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
    if (last && last.arrivedAt === arrivedAt && Object.is(last.dispatchedAt, dispatchedAt)) last.count += count;
    else this.items.push({ arrivedAt, dispatchedAt, count });
    this.total += count;
  }

  /** Removes one request and returns its batch's timestamps, or undefined when empty. */
  shift(): { arrivedAt: number; dispatchedAt: number } | undefined {
    const first = this.items[this.head];
    if (!first) return undefined;
    const out = { arrivedAt: first.arrivedAt, dispatchedAt: first.dispatchedAt };
    first.count--;
    this.total--;
    if (first.count === 0) {
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    }
    return out;
  }

  /** Removes everything and returns the batches (oldest first). */
  drain(): QueuedBatch[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.total = 0;
    return out;
  }
}
