/** Something that ends at a fixed `deadline` (ns since the epoch). */
export interface Expiring {
  readonly deadline: bigint;
}

/**
 * All pending lock and lifespan expirations of the store in one binary
 * min-heap ordered by deadline, so one timer serves every key. Renewals push
 * a new entry and leave the old one in place; the store skips entries that
 * are no longer current, and {@link ExpiryQueue.compact} drops them.
 *
 * Comparing bigints is slow and every comparison would also load an item
 * from memory, so the heap orders by a parallel array of the deadlines as
 * doubles (unboxed, contiguous). Number() is monotonic, so unequal doubles
 * order exactly; only equal ones (deadlines within ~256 ns) fall back to the
 * exact bigints.
 */
export class ExpiryQueue<T extends Expiring> {
  private items: T[] = [];
  private keys: number[] = [];
  /** Each item's tie key (see the constructor), taken when it was pushed. */
  private ties: string[] = [];

  /**
   * `tieKey` orders entries with the same deadline: the queue's own order
   * among them would depend on its history (pops, compactions, a restore),
   * and a journal replay must expire them in the order the run it repeats did.
   */
  constructor(private readonly tieKey: (item: T) => string = () => "") {}

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest deadline, or undefined when nothing is pending. */
  peekDeadline(): bigint | undefined {
    return this.items[0]?.deadline;
  }

  /** Adds an expiration. */
  push(item: T): void {
    const { items, keys, ties } = this;
    const key = Number(item.deadline);
    const tie = this.tieKey(item);
    let index = items.length;
    items.push(item);
    keys.push(key);
    ties.push(tie);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentKey = keys[parent]!;
      if (parentKey < key || (parentKey === key && !precedes(item, tie, items[parent]!, ties[parent]!))) {
        break;
      }
      items[index] = items[parent]!;
      keys[index] = parentKey;
      ties[index] = ties[parent]!;
      index = parent;
    }
    items[index] = item;
    keys[index] = key;
    ties[index] = tie;
  }

  /** Removes and returns the earliest expiration if its deadline is at or before `now`. */
  popDue(now: bigint): T | undefined {
    const { items, keys, ties } = this;
    const top = items[0];
    if (top === undefined || top.deadline > now) {
      return undefined;
    }
    const last = items.pop()!;
    const lastKey = keys.pop()!;
    const lastTie = ties.pop()!;
    if (items.length > 0) {
      this.siftDown(0, last, lastKey, lastTie);
    }
    return top;
  }

  /** Keeps only the entries `isCurrent` accepts (drops stale ones), in O(n). */
  compact(isCurrent: (item: T) => boolean): void {
    const kept = this.items.map((item, index) => ({ item, tie: this.ties[index]! })).filter(({ item }) => isCurrent(item));
    this.items = kept.map(({ item }) => item);
    this.ties = kept.map(({ tie }) => tie);
    this.keys = this.items.map((item) => Number(item.deadline));
    for (let index = (this.items.length >> 1) - 1; index >= 0; index--) {
      this.siftDown(index, this.items[index]!, this.keys[index]!, this.ties[index]!);
    }
  }

  /** Places `item` (with its `key` and `tie`) at `start` or below, moving smaller children up. */
  private siftDown(start: number, item: T, key: number, tie: string): void {
    const { items, keys, ties } = this;
    const length = items.length;
    let index = start;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) {
        break;
      }
      let childKey = keys[child]!;
      if (child + 1 < length) {
        const rightKey = keys[child + 1]!;
        if (rightKey < childKey || (rightKey === childKey && precedes(items[child + 1]!, ties[child + 1]!, items[child]!, ties[child]!))) {
          child++;
          childKey = rightKey;
        }
      }
      if (childKey > key || (childKey === key && !precedes(items[child]!, ties[child]!, item, tie))) {
        break;
      }
      items[index] = items[child]!;
      keys[index] = childKey;
      ties[index] = ties[child]!;
      index = child;
    }
    items[index] = item;
    keys[index] = key;
    ties[index] = tie;
  }
}

/** Whether `a` expires strictly before `b`: by exact deadline, then by tie key (their doubles are equal). */
function precedes<T extends Expiring>(a: T, aTie: string, b: T, bTie: string): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && aTie < bTie);
}
