import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { revisionsReserved } from "./command-recorder.js";
import { KeyValueStore } from "./key-value-store.js";
import { baseOptions, T1 } from "./key-value-store.fixture.js";
import type { CommandRecord, CommandSink } from "./store-command.js";

/** A sink that keeps every record as it is. */
class Records implements CommandSink {
  readonly all: CommandRecord[] = [];
  admit(): void {}
  record(record: CommandRecord): void {
    this.all.push(record);
  }
}

describe("revision reservations", () => {
  it("renew as reads take revisions, so a restart after a crash never gives a revision twice", () => {
    const clock = new ManualClock(T1);
    const store = new KeyValueStore(baseOptions, clock);
    const sink = new Records();
    store.attachCommandSink(sink);
    store.set("alice", { key: "k", value: new Uint8Array([1]), contentType: "" });
    // Reads only: each Get takes a revision (its ACCESSED event) and records nothing of its own.
    for (let i = 0; i < 2.4 * revisionsReserved; i++) {
      store.get("alice", "k");
    }
    const reservations = sink.all.filter(({ command }) => command.op === "reserveRevisions");
    // The first with the first event, then one each time half of the last one was used.
    expect(reservations.length).toBe(5);
    const handedOut = store.revision;

    const restarted = new KeyValueStore(baseOptions, new ManualClock(T1));
    for (const record of sink.all) {
      expect(restarted.applyCommand(record).inStep).toBe(true);
    }
    expect(restarted.revision).toBeLessThan(handedOut);
    restarted.continueAfterReservedRevisions();
    expect(restarted.revision).toBeGreaterThanOrEqual(handedOut);
    expect(restarted.revision - handedOut).toBeLessThanOrEqual(BigInt(revisionsReserved));
  });
});
