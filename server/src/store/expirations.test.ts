import { describe, expect, it } from "vitest";
import { Expirations } from "./expirations.js";
import { KeyEntry, LifespanState, LockState } from "./key-entry.js";

const entry = () => new KeyEntry("k", "", "", false, 0, 0, 0n, 1n, "alice");

describe("Expirations", () => {
  it("pops due expirations in deadline order, locks and lifespans in one queue", () => {
    const expirations = new Expirations();
    const lifespan = new LifespanState(entry(), 10n, 0n, 10n);
    const lock = new LockState(entry(), "alice", 5n, 0n, 5n, 1n);
    expirations.schedule(lifespan);
    expirations.schedule(lock);
    expect(expirations.nextDeadline()).toBe(5n);
    expect(expirations.popDue(4n)).toBeUndefined();
    expect(expirations.popDue(10n)).toBe(lock);
    expect(expirations.popDue(10n)).toBe(lifespan);
    expect(expirations.popDue(10n)).toBeUndefined();
  });

  it("skips stale entries (released or replaced)", () => {
    const expirations = new Expirations();
    const stale = new LockState(entry(), "alice", 5n, 0n, 5n, 1n);
    const current = new LockState(entry(), "alice", 7n, 0n, 7n, 1n);
    expirations.schedule(stale);
    expirations.schedule(current);
    stale.entry = undefined;
    expirations.forget();
    expect(expirations.popDue(10n)).toBe(current);
  });

  it("tells the listener when a new expiration becomes the earliest", () => {
    const expirations = new Expirations();
    const seen: bigint[] = [];
    expirations.onEarliestDeadline((deadline) => seen.push(deadline));
    for (const deadline of [10n, 20n, 5n]) {
      expirations.schedule(new LifespanState(entry(), deadline, 0n, deadline));
    }
    expect(seen).toEqual([10n, 5n]);
  });

  it("compacts once stale entries are many and the majority", () => {
    const expirations = new Expirations();
    const locks = Array.from({ length: 1100 }, (_, i) => new LockState(entry(), "alice", 1n, 0n, BigInt(i + 1), 1n));
    for (const lock of locks) {
      expirations.schedule(lock);
      lock.entry = undefined;
      expirations.forget();
    }
    const live = new LockState(entry(), "alice", 1n, 0n, 5000n, 1n);
    expirations.schedule(live);
    expirations.compactIfStale();
    expect(expirations.nextDeadline()).toBe(5000n);
  });
});
