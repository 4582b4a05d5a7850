import { describe, expect, it } from "vitest";
import { orderedCalls } from "./ordered-calls.js";

/** A call per item that finishes only when the test says so; records what started. */
function controlledCalls() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const call = (item: string) => {
    started.push(item);
    return new Promise<string>((resolve) => finishers.set(item, () => resolve(`done ${item}`)));
  };
  // Lets the generator and the then-chains of the window run as far as they can.
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const finish = async (item: string) => {
    await settle();
    finishers.get(item)!();
    await settle();
  };
  return { started, call, finish };
}

const keyOf = (item: string) => item.split(":")[0]!;

describe("orderedCalls", () => {
  it("overlaps calls of different keys, runs a key's calls in input order and yields in input order", async () => {
    const { started, call, finish } = controlledCalls();
    const batches: string[][] = [];
    const done = (async () => {
      for await (const batch of orderedCalls([["a:1", "b:1"], ["a:2", "c:1"]], keyOf, call, 10)) batches.push(batch);
    })();
    await finish("b:1");
    // a:2 waits for a:1; the others started at once.
    expect(started).toEqual(["a:1", "b:1", "c:1"]);
    await finish("c:1");
    await finish("a:1");
    expect(started).toEqual(["a:1", "b:1", "c:1", "a:2"]);
    expect(batches).toEqual([["done a:1", "done b:1"]]);
    await finish("a:2");
    await done;
    expect(batches).toEqual([["done a:1", "done b:1"], ["done a:2", "done c:1"]]);
  });

  it("pulls no more batches than the window holds until the oldest call is done", async () => {
    const { started, call, finish } = controlledCalls();
    let pulled = 0;
    function* items() {
      for (const item of ["a", "b", "c", "d"]) {
        pulled++;
        yield [item];
      }
    }
    const done = (async () => {
      for await (const batch of orderedCalls(items(), keyOf, call, 2)) void batch;
    })();
    await finish("b");
    expect(started).toEqual(["a", "b"]);
    expect(pulled).toBe(2);
    await finish("a");
    expect(started).toEqual(["a", "b", "c", "d"]);
    await finish("c");
    await finish("d");
    await done;
  });
});
