import { describe, expect, it } from "vitest";
import { BackgroundWork } from "./background-work.js";

/** Work that records its starts and stops in `log`. */
function recorded(log: string[], name: string, fail?: "start" | "stop") {
  return () => {
    if (fail === "start") {
      throw new Error(`${name} cannot start`);
    }
    log.push(`start ${name}`);
    return async () => {
      log.push(`stop ${name}`);
      if (fail === "stop") {
        throw new Error(`${name} cannot stop`);
      }
    };
  };
}

/** A BackgroundWork of recorded pieces, named and failing as `pieces` say. */
function workOf(log: string[], ...pieces: [name: string, fail?: "start" | "stop"][]): BackgroundWork {
  const work = new BackgroundWork();
  for (const [name, fail] of pieces) {
    work.add(recorded(log, name, fail));
  }
  return work;
}

describe("BackgroundWork", () => {
  it("starts nothing until start(), then all in order; stop() stops them in reverse order, once", async () => {
    const log: string[] = [];
    const work = workOf(log, ["a"], ["b"]);
    expect(log).toEqual([]);
    expect(work.running).toBe(false);

    await work.start();
    expect(work.running).toBe(true);
    await work.stop();
    await work.stop();
    expect(log).toEqual(["start a", "start b", "stop b", "stop a"]);
    expect(work.running).toBe(false);
  });

  it("stops what it started when a later piece fails to start, and rethrows", async () => {
    const log: string[] = [];
    const work = workOf(log, ["a"], ["b", "start"], ["c"]);

    await expect(work.start()).rejects.toThrow("b cannot start");
    expect(log).toEqual(["start a", "stop a"]);
    expect(work.running).toBe(false);
  });

  it("stops every piece even if one fails to stop, then rejects with that failure", async () => {
    const log: string[] = [];
    const work = workOf(log, ["a"], ["b", "stop"]);
    await work.start();

    await expect(work.stop()).rejects.toThrow("b cannot stop");
    expect(log).toEqual(["start a", "start b", "stop b", "stop a"]);
  });

  it("refuses work added after start(): it would never run", async () => {
    const work = new BackgroundWork();
    await work.start();
    expect(() => work.add(recorded([], "late"))).toThrow(/after the server started/);
  });
});
