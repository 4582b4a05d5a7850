import { describe, expect, it } from "vitest";
import { Expirations } from "./expirations.js";
import { KeyEntry } from "./key-entry.js";
import { Lifespans } from "./lifespans.js";
import type { StoreError } from "./store-error.js";

const entry = () => new KeyEntry("k", "", "", false, 0, 0, 0n, 1n, "alice");

describe("Lifespans", () => {
  it("refuses a lifespan that is not positive or under the minimum", () => {
    const lifespans = new Lifespans(10n, new Expirations());
    for (const duration of [0n, -1n, 9n]) {
      expect(() => lifespans.check(duration)).toThrow(expect.objectContaining({ code: "LIFESPAN_INVALID" }) as StoreError);
    }
    expect(() => lifespans.check(10n)).not.toThrow();
  });

  it("sets, renews and removes a key's lifespan, counting keys with one", () => {
    const expirations = new Expirations();
    const lifespans = new Lifespans(1n, expirations);
    const key = entry();
    lifespans.set(key, 100n, 0n);
    lifespans.renew(key, 50n);
    expect([key.lifespan?.duration, key.lifespan?.set, key.lifespan?.deadline, lifespans.count]).toEqual([100n, 50n, 150n, 1]);
    // Only the renewed lifespan expires.
    expect(expirations.popDue(1000n)).toBe(key.lifespan);
    lifespans.remove(key, true);
    expect([key.lifespan, lifespans.count, expirations.popDue(1000n)]).toEqual([undefined, 0, undefined]);
  });

  it("restores a saved lifespan with its absolute deadline", () => {
    const expirations = new Expirations();
    const lifespans = new Lifespans(1n, expirations);
    const key = entry();
    lifespans.restore(key, { duration: 10n, set: 5n, deadline: 15n });
    expect([key.lifespan?.deadline, lifespans.count, expirations.nextDeadline()]).toEqual([15n, 1, 15n]);
  });
});
