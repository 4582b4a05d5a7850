/** A message waiting for room in a {@link SendBudget}. */
interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

/**
 * The bytes all watch streams together may have handed to their transports
 * and not yet seen taken (event_stream_total_max_bytes). Each stream
 * serializes its own copy of a message, so this is the memory watchers cost
 * beyond the events they share. A message that does not fit waits, first
 * come first served; one always fits when nothing else is in flight, however
 * large. A limit of 0 only counts.
 */
export class SendBudget {
  private used = 0;
  // A Set keeps insertion order (first come, first served) and removes in O(1).
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly limit: number) {}

  /** Bytes in flight. */
  get inUse(): number {
    return this.used;
  }

  /** Messages waiting for room. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Takes `bytes` now and returns undefined when they fit (and nobody waits
   * before them); else queues them and returns a handle for {@link cancel}:
   * `grant` is called once they are taken.
   */
  take(bytes: number, grant: () => void): object | undefined {
    if (this.waiters.size === 0 && this.fits(bytes)) {
      this.used += bytes;
      return undefined;
    }
    const waiter = { bytes, grant };
    this.waiters.add(waiter);
    return waiter;
  }

  /** Withdraws a queued request (its grant is never called). */
  cancel(handle: object): void {
    this.waiters.delete(handle as Waiter);
  }

  /** Gives back bytes taken, and grants the waiting messages that now fit, in order. */
  release(bytes: number): void {
    this.used -= bytes;
    for (const waiter of this.waiters) {
      if (!this.fits(waiter.bytes)) {
        break;
      }
      this.waiters.delete(waiter);
      this.used += waiter.bytes;
      waiter.grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.limit === 0 || this.used === 0 || this.used + bytes <= this.limit;
  }
}
