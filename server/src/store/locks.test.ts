import { describe, expect, it } from "vitest";
import { Expirations } from "./expirations.js";
import { KeyEntry } from "./key-entry.js";
import { checkNotLockedByOther, Locks } from "./locks.js";
import { StoreError } from "./store-error.js";

const entry = () => new KeyEntry("k", "", "", false, 0, 0, 0n, 1n, "alice");
const setup = () => {
  const expirations = new Expirations();
  return { expirations, locks: new Locks({ minLockDuration: 10n, maxLockDuration: 100n }, expirations) };
};
const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return (error as StoreError).code;
  }
  return undefined;
};

describe("Locks", () => {
  it("checks durations against the limits", () => {
    const { locks } = setup();
    expect([codeOf(() => locks.checkDuration(101n)), codeOf(() => locks.checkDuration(9n)), codeOf(() => locks.checkDuration(0n))]).toEqual([
      "LOCK_TOO_LONG",
      "LOCK_INVALID",
      "LOCK_INVALID",
    ]);
    expect(codeOf(() => locks.checkDuration(10n))).toBeUndefined();
  });

  it("gives each new lock the next fencing token and queues its expiration", () => {
    const { locks, expirations } = setup();
    const first = locks.acquire("alice", entry(), 20n, 1000n, "replace");
    const second = locks.acquire("bob", entry(), 30n, 1000n, "replace");
    expect([first.fencingToken, second.fencingToken, locks.count, locks.fencingToken]).toEqual([1n, 2n, 2, 2n]);
    expect(expirations.nextDeadline()).toBe(1020n);
  });

  it("renews a held lock with its token: replaced from now, or extended and capped at max from now", () => {
    const { locks, expirations } = setup();
    const key = entry();
    locks.acquire("alice", key, 50n, 0n, "replace");
    expect(locks.acquire("alice", key, 20n, 10n, "replace").deadline).toBe(30n);
    const extended = locks.acquire("alice", key, 90n, 10n, "extend");
    expect([extended.deadline, extended.fencingToken, locks.count]).toEqual([110n, 1n, 1]);
    // The replaced locks' queue entries are stale: only the current one expires.
    expect(expirations.popDue(200n)).toBe(extended);
    expect(expirations.popDue(200n)).toBeUndefined();
  });

  it("releases a lock and refuses other clients while it is held", () => {
    const { locks } = setup();
    const key = entry();
    locks.acquire("alice", key, 20n, 0n, "replace");
    expect(codeOf(() => checkNotLockedByOther(key, "bob", "WRONG_OWNER"))).toBe("WRONG_OWNER");
    expect(codeOf(() => checkNotLockedByOther(key, "alice", "LOCKED"))).toBeUndefined();
    locks.release(key);
    expect([key.lock, locks.count]).toEqual([undefined, 0]);
    expect(codeOf(() => checkNotLockedByOther(key, "bob", "LOCKED"))).toBeUndefined();
  });

  it("restores a saved lock as it was", () => {
    const { locks, expirations } = setup();
    const key = entry();
    locks.restore(key, { owner: "bob", duration: 20n, created: 5n, deadline: 25n, fencingToken: 7n });
    expect([key.lock?.owner, key.lock?.fencingToken, locks.count, expirations.nextDeadline()]).toEqual(["bob", 7n, 1, 25n]);
  });
});
