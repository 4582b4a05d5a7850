import { describe, expect, it } from "vitest";
import { RemovalQueue } from "./removal-queue.js";

describe("RemovalQueue", () => {
  it("gives items back oldest first, skipping those that went stale", () => {
    const stale = new Set<string>();
    const queue = new RemovalQueue<string>((item) => !stale.has(item));
    for (const item of ["a", "b", "c", "d"]) {
      queue.push(item);
    }
    stale.add("b");
    queue.forget();
    expect(queue.size).toBe(3);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual(["a", "c", "d", undefined]);
    expect(queue.size).toBe(0);
  });

  it("keeps its live items in order through compactions (many stale and taken items)", () => {
    const stale = new Set<number>();
    const queue = new RemovalQueue<number>((item) => !stale.has(item));
    // One item stays live in 10; the others go stale or are taken, enough to compact several times.
    for (let i = 0; i < 20_000; i++) {
      queue.push(i);
      if (i % 10 === 1) {
        stale.add(i);
        queue.forget();
      }
    }
    const taken: number[] = [];
    for (let i = 0; i < 9_000; i++) {
      taken.push(queue.shift()!);
    }
    expect(taken.filter((item) => item % 10 === 1)).toEqual([]);
    expect(taken.slice(0, 3)).toEqual([0, 2, 3]);
    expect(queue.size).toBe(18_000 - 9_000);
    const rest: number[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      rest.push(item);
    }
    expect(rest.length).toBe(9_000);
    expect(rest.every((item, i) => i === 0 || item > rest[i - 1]!)).toBe(true);
    expect(rest[0]).toBeGreaterThan(taken[taken.length - 1]!);
  });
});
