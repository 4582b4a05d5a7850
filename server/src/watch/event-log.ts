import type { StoreEvent } from "../store/store-event.js";

/**
 * The most recent events, oldest first, for watch streams that resume from a
 * revision. A ring buffer bounded by a number of events and by the bytes of
 * the values they carry (whichever is reached first), so a burst of large
 * values cannot hold unbounded memory.
 */
export class EventLog {
  private readonly ring: Array<StoreEvent | undefined>;
  private head = 0;
  private count = 0;
  private bytes = 0;

  /**
   * @param next the revision the first appended event will have: resuming
   * from before it is refused even while the log is still empty.
   */
  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
    private next: bigint,
  ) {
    this.ring = new Array<StoreEvent | undefined>(capacity);
  }

  /** Appends the next event; revisions must arrive in order, one apart. */
  append(event: StoreEvent): void {
    this.next = event.revision + 1n;
    if (this.capacity === 0) {
      return;
    }
    if (this.count === this.capacity) {
      this.evictOldest();
    }
    this.ring[(this.head + this.count) % this.capacity] = event;
    this.count++;
    this.bytes += event.value?.size ?? 0;
    while (this.bytes > this.maxBytes && this.count > 1) {
      this.evictOldest();
    }
  }

  /** Events held. */
  get length(): number {
    return this.count;
  }

  /** Revision of the oldest event held; the revision the next event will get when none is. */
  oldestRevision(): bigint {
    return this.count === 0 ? this.next : this.ring[this.head]!.revision;
  }

  /**
   * The events with a revision greater than `after`, oldest first, or
   * undefined when some of them are no longer held.
   */
  since(after: bigint): StoreEvent[] | undefined {
    const oldest = this.oldestRevision();
    if (after + 1n < oldest) {
      return undefined;
    }
    const events: StoreEvent[] = [];
    for (let index = Number(after + 1n - oldest); index < this.count; index++) {
      events.push(this.ring[(this.head + index) % this.capacity]!);
    }
    return events;
  }

  private evictOldest(): void {
    const oldest = this.ring[this.head]!;
    this.bytes -= oldest.value?.size ?? 0;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
