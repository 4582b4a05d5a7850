/**
 * Unit tests of the expiry queue. The random ones are fast-check properties:
 * a failure prints the seed to replay it with (see fast-check-parameters.fixture.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExpiryQueue, type Expiring } from "./expiry-queue.js";
import { briefFailureReport, fastCheckParameters } from "./fast-check-parameters.fixture.js";

interface Item extends Expiring {
  readonly id: number;
}

const item = (deadline: bigint, id = 1): Item => ({ deadline, id });

function drain(queue: ExpiryQueue<Item>, now: bigint): bigint[] {
  const deadlines: bigint[] = [];
  for (let next = queue.popDue(now); next; next = queue.popDue(now)) {
    deadlines.push(next.deadline);
  }
  return deadlines;
}

const sorted = (deadlines: readonly bigint[]) => [...deadlines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe("ExpiryQueue", () => {
  it("pops due entries in deadline order and leaves later ones", () => {
    const queue = new ExpiryQueue<Item>();
    for (const deadline of [50n, 10n, 40n, 20n, 30n, 60n, 10n]) {
      queue.push(item(deadline));
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
    const deadlineLists = fc.array(fc.bigInt({ min: 0n, max: 999_999_999n }), { minLength: 100_000, maxLength: 100_000 });
    // One case (each is 100 000 pushes). Not shrunk: the list's length is fixed, and it is too long to shrink in reasonable time.
    fc.assert(
      fc.property(deadlineLists, (deadlines) => {
        const queue = new ExpiryQueue<Item>();
        for (const deadline of deadlines) {
          queue.push(item(deadline));
        }
        expect(queue.size).toBe(100_000);
        expect(drain(queue, 10n ** 10n)).toEqual(sorted(deadlines));
      }),
      { ...fastCheckParameters(1), endOnFailure: true, plugins: [briefFailureReport] },
    );
  });

  it("orders nanosecond-apart deadlines exactly, though their doubles are equal", () => {
    const base = 1_700_000_000_000_000_000n;
    const deadlineLists = fc.array(fc.bigInt({ min: base, max: base + 999n }), { minLength: 2_000, maxLength: 2_000 });
    fc.assert(
      fc.property(deadlineLists, (deadlines) => {
        expect(new Set(deadlines.map(Number)).size).toBeLessThan(10);
        const queue = new ExpiryQueue<Item>();
        for (const deadline of deadlines) {
          queue.push(item(deadline));
        }
        expect(queue.popDue(base - 1n)).toBeUndefined();
        expect(drain(queue, base + 499n)).toEqual(sorted(deadlines).filter((deadline) => deadline <= base + 499n));
        expect(drain(queue, base + 1_000n)).toEqual(sorted(deadlines).filter((deadline) => deadline > base + 499n));
      }),
      { ...fastCheckParameters(10), endOnFailure: true, plugins: [briefFailureReport] },
    );
  });

  it("compacts away stale entries and keeps heap order", () => {
    const queue = new ExpiryQueue<Item>();
    for (let i = 0; i < 1000; i++) {
      queue.push(item(BigInt(1000 - i), i));
    }
    queue.compact((candidate) => candidate.id % 3 === 0);
    expect(queue.size).toBe(334);
    const popped = drain(queue, 10_000n);
    expect(popped).toEqual(sorted(popped));
    queue.push(item(5n));
    expect(queue.peekDeadline()).toBe(5n);
  });
});
