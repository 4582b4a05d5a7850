import { describe, expect, it } from "vitest";
import { ExpiryQueue, type Expiry } from "./expiry-queue.js";

const expiry = (deadline: bigint, key = `k${deadline}`, id = 1): Expiry => ({ deadline, key, kind: "lifespan", id });

function drain(queue: ExpiryQueue, now: bigint): bigint[] {
  const deadlines: bigint[] = [];
  for (let item = queue.popDue(now); item; item = queue.popDue(now)) {
    deadlines.push(item.deadline);
  }
  return deadlines;
}

describe("ExpiryQueue", () => {
  it("pops due entries in deadline order and leaves later ones", () => {
    const queue = new ExpiryQueue();
    for (const deadline of [50n, 10n, 40n, 20n, 30n, 60n, 10n]) {
      queue.push(expiry(deadline));
    }
    expect(queue.peekDeadline()).toBe(10n);
    expect(drain(queue, 35n)).toEqual([10n, 10n, 20n, 30n]);
    expect(queue.peekDeadline()).toBe(40n);
    expect(queue.size).toBe(3);
    expect(queue.popDue(39n)).toBeUndefined();
    expect(drain(queue, 100n)).toEqual([40n, 50n, 60n]);
    expect(queue.peekDeadline()).toBeUndefined();
  });

  it("orders 100 000 random deadlines exactly like a sort, in one structure", () => {
    const queue = new ExpiryQueue();
    const deadlines = Array.from({ length: 100_000 }, () => BigInt(Math.floor(Math.random() * 1e9)));
    for (const deadline of deadlines) {
      queue.push(expiry(deadline));
    }
    expect(queue.size).toBe(100_000);
    expect(drain(queue, 10n ** 10n)).toEqual([...deadlines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it("compacts away stale entries and keeps heap order", () => {
    const queue = new ExpiryQueue();
    for (let i = 0; i < 1000; i++) {
      queue.push(expiry(BigInt(1000 - i), `k${i % 10}`, i));
    }
    queue.compact((item) => item.id % 3 === 0);
    expect(queue.size).toBe(334);
    const popped = drain(queue, 10_000n);
    expect(popped).toEqual([...popped].sort((a, b) => (a < b ? -1 : 1)));
  });
});
