// Stale items tolerated (when they also outnumber live ones) before the queue is compacted.
const compactThreshold = 1024;

/**
 * A first-in, first-out queue whose items may go stale while queued (the
 * store's removed keys, oldest removal first, whose metrics are kept up to
 * max_removed_key_metrics; a key re-created since its removal goes stale).
 * The owner calls {@link forget} when an item goes stale, and `isLive` must
 * agree; stale items are skipped by {@link shift} and compacted away once
 * they outnumber live ones, so every operation is O(1) amortised.
 */
export class RemovalQueue<T> {
  private items: T[] = [];
  private head = 0;
  private live = 0;

  constructor(private readonly isLive: (item: T) => boolean) {}

  /** Live items queued. */
  get size(): number {
    return this.live;
  }

  /** Adds a live item at the end. */
  push(item: T): void {
    this.items.push(item);
    this.live++;
  }

  /** Counts one queued item as stale (`isLive` now says so). */
  forget(): void {
    this.live--;
    this.compactIfSparse();
  }

  /** The live items, oldest first. */
  *values(): Generator<T> {
    for (let index = this.head; index < this.items.length; index++) {
      const item = this.items[index]!;
      if (this.isLive(item)) {
        yield item;
      }
    }
  }

  /** Takes the oldest live item out, or undefined when there is none. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head++]!;
      if (this.isLive(item)) {
        this.live--;
        this.compactIfSparse();
        return item;
      }
    }
    return undefined;
  }

  // Taken (before head) and stale slots are garbage; dropping them costs at most twice their number.
  private compactIfSparse(): void {
    const garbage = this.items.length - this.live;
    if (garbage > compactThreshold && garbage > this.live) {
      this.items = this.items.slice(this.head).filter(this.isLive);
      this.head = 0;
      this.live = this.items.length;
    }
  }
}
