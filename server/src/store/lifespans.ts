import { tooShort } from "./duration-limits.js";
import type { Expirations } from "./expirations.js";
import { type KeyEntry, LifespanState } from "./key-entry.js";
import type { KeyState } from "./store-state.js";
import { StoreError } from "./store-error.js";

/**
 * The store's lifespans (its lease of a key on time): a key is removed at
 * its deadline unless set again. Keeps their count; their expirations wait
 * in the one queue of {@link Expirations}.
 */
export class Lifespans {
  /** Keys with a lifespan. */
  count = 0;

  constructor(
    private readonly minLifespan: bigint,
    private readonly expirations: Expirations,
  ) {}

  /** Refuses a lifespan that is not positive or under min_lifespan (LIFESPAN_INVALID). */
  check(duration: bigint): void {
    const short = tooShort(duration, this.minLifespan, "min_lifespan");
    if (short !== undefined) {
      throw new StoreError("LIFESPAN_INVALID", short);
    }
  }

  /** Gives `entry` a lifespan of `duration` from `now`, replacing the one it has. */
  set(entry: KeyEntry, duration: bigint, now: bigint): void {
    if (entry.lifespan === undefined) {
      this.count++;
    } else {
      entry.lifespan.entry = undefined;
      this.expirations.forget();
    }
    entry.lifespan = new LifespanState(entry, duration, now, now + duration);
    this.expirations.schedule(entry.lifespan);
  }

  /** Restarts `entry`'s lifespan with its duration from `now`. */
  renew(entry: KeyEntry, now: bigint): void {
    this.set(entry, entry.lifespan!.duration, now);
  }

  /** Removes `entry`'s lifespan (the key is being removed); `expired` when its queue entry was just taken out. */
  remove(entry: KeyEntry, expired = false): void {
    entry.lifespan!.entry = undefined;
    entry.lifespan = undefined;
    this.count--;
    if (!expired) {
      this.expirations.forget();
    }
  }

  /** Gives a restored key its saved lifespan. */
  restore(entry: KeyEntry, saved: NonNullable<KeyState["lifespan"]>): void {
    const { duration, set, deadline } = saved;
    entry.lifespan = new LifespanState(entry, duration, set, deadline);
    this.expirations.schedule(entry.lifespan);
    this.count++;
  }
}
