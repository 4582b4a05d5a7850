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
    const { items, keys } = this;
    const key = Number(item.deadline);
    let index = items.length;
    items.push(item);
    keys.push(key);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentKey = keys[parent]!;
      if (parentKey < key || (parentKey === key && items[parent]!.deadline <= item.deadline)) {
        break;
      }
      items[index] = items[parent]!;
      keys[index] = parentKey;
      index = parent;
    }
    items[index] = item;
    keys[index] = key;
  }

  /** Removes and returns the earliest expiration if its deadline is at or before `now`. */
  popDue(now: bigint): T | undefined {
    const { items, keys } = this;
    const top = items[0];
    if (top === undefined || top.deadline > now) {
      return undefined;
    }
    const last = items.pop()!;
    const lastKey = keys.pop()!;
    if (items.length > 0) {
      this.siftDown(0, last, lastKey);
    }
    return top;
  }

  /** Keeps only the entries `isCurrent` accepts (drops stale ones), in O(n). */
  compact(isCurrent: (item: T) => boolean): void {
    this.items = this.items.filter(isCurrent);
    this.keys = this.items.map((item) => Number(item.deadline));
    for (let index = (this.items.length >> 1) - 1; index >= 0; index--) {
      this.siftDown(index, this.items[index]!, this.keys[index]!);
    }
  }

  /** Places `item` (with its `key`) at `start` or below, moving smaller children up. */
  private siftDown(start: number, item: T, key: number): void {
    const { items, keys } = this;
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
        if (rightKey < childKey || (rightKey === childKey && items[child + 1]!.deadline < items[child]!.deadline)) {
          child++;
          childKey = rightKey;
        }
      }
      if (childKey > key || (childKey === key && items[child]!.deadline >= item.deadline)) {
        break;
      }
      items[index] = items[child]!;
      keys[index] = childKey;
      index = child;
    }
    items[index] = item;
    keys[index] = key;
  }
}
