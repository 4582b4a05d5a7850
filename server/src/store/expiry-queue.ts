/** A pending expiration: the lock or lifespan of `key` with id `id` ends at `deadline`. */
export interface Expiry {
  readonly deadline: bigint;
  readonly key: string;
  readonly kind: "lock" | "lifespan";
  /** Identifies one lock or lifespan; a renewed or removed one has a new id or none. */
  readonly id: number;
}

/**
 * All pending lock and lifespan expirations of the store in one binary
 * min-heap ordered by deadline, so one timer serves every key. Renewals push
 * a new entry and leave the old one in place; the store ignores entries whose
 * id is no longer current, and {@link ExpiryQueue.compact} drops them.
 */
export class ExpiryQueue {
  private heap: Expiry[] = [];

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest deadline, or undefined when nothing is pending. */
  peekDeadline(): bigint | undefined {
    return this.heap[0]?.deadline;
  }

  /** Adds an expiration. */
  push(expiry: Expiry): void {
    const heap = this.heap;
    heap.push(expiry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.deadline <= expiry.deadline) {
        break;
      }
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = expiry;
  }

  /** Removes and returns the earliest expiration if its deadline is at or before `now`. */
  popDue(now: bigint): Expiry | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.deadline > now) {
      return undefined;
    }
    const last = heap.pop()!;
    if (heap.length > 0) {
      this.siftDown(last);
    }
    return top;
  }

  /** Keeps only the entries `isCurrent` accepts (drops stale ones), in O(n). */
  compact(isCurrent: (expiry: Expiry) => boolean): void {
    this.heap = this.heap.filter(isCurrent);
    for (let index = (this.heap.length >> 1) - 1; index >= 0; index--) {
      this.siftDownFrom(index, this.heap[index]!);
    }
  }

  private siftDown(item: Expiry): void {
    this.siftDownFrom(0, item);
  }

  private siftDownFrom(start: number, item: Expiry): void {
    const heap = this.heap;
    const length = heap.length;
    let index = start;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) {
        break;
      }
      if (child + 1 < length && heap[child + 1]!.deadline < heap[child]!.deadline) {
        child++;
      }
      if (heap[child]!.deadline >= item.deadline) {
        break;
      }
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = item;
  }
}
