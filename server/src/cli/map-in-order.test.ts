import { describe, expect, it } from "vitest";
import { mapInOrder } from "./map-in-order.js";

/** A promise with its resolve and reject, to finish calls in a chosen order. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

describe("mapInOrder", () => {
  it("yields in input order though calls finish in reverse, with at most `limit` in flight", async () => {
    const calls = [0, 1, 2, 3, 4].map(() => deferred<string>());
    const started = [0, 1, 2, 3, 4].map(() => deferred<void>());
    let inFlight = 0;
    let mostInFlight = 0;
    const results = mapInOrder([0, 1, 2, 3, 4], 3, async (i) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      started[i]!.resolve();
      try {
        return await calls[i]!.promise;
      } finally {
        inFlight--;
      }
    });
    const collected = (async () => {
      const out: string[] = [];
      for await (const result of results) out.push(result);
      return out;
    })();
    await started[2]!.promise;
    for (const i of [2, 1, 0]) calls[i]!.resolve(`r${i}`);
    await started[4]!.promise;
    for (const i of [4, 3]) calls[i]!.resolve(`r${i}`);
    expect(await collected).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(mostInFlight).toBe(3);
  });

  it("throws a call's failure when its turn comes, after the results before it", async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const value of mapInOrder([1, 2, 3], 3, async (i) => (i === 2 ? Promise.reject(new Error("two")) : i))) {
        out.push(value);
      }
    };
    await expect(run()).rejects.toThrow("two");
    expect(out).toEqual([1]);
  });
});
