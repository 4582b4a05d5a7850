import { describe, expect, it } from "vitest";
import { decodeEntry, encodeRecord, sealBatch } from "../journal/journal-entry-codec.js";
import { ManualClock } from "./clock.js";
import { KeyValueStore } from "./key-value-store.js";
import { ALICE, BOB, baseOptions, bytes, MINUTE, T0, TEXT } from "./key-value-store.fixture.js";
import type { CommandRecord } from "./store-command.js";

/** A store whose commands are kept, as a journal would get them. */
function recordingStore(): { store: KeyValueStore; records: CommandRecord[] } {
  const store = new KeyValueStore(baseOptions, new ManualClock(T0));
  const records: CommandRecord[] = [];
  store.attachCommandSink({ admit: () => {}, record: (record) => records.push(record) });
  return { store, records };
}

describe("KeyValueStore.clear with key prefixes", () => {
  it("removes only the keys with one of the prefixes (locked ones too with force)", () => {
    const { store } = recordingStore();
    for (const key of ["billing/1", "billing/2", "invoices/1", "payroll"]) {
      store.set(ALICE, { key, value: bytes("v"), contentType: TEXT });
    }
    store.lock(BOB, "billing/2", MINUTE, false);
    expect(store.clear(ALICE, false, ["billing/", "invoices/"])).toBe(2n);
    expect(store.exists("billing/2")).toBe(true);
    expect(store.exists("payroll")).toBe(true);
    expect(store.clear(ALICE, true, ["billing/"])).toBe(1n);
    expect(store.exists("payroll")).toBe(true);
  });

  it("records the prefixes in its command, and a journal replay of it clears the same keys", () => {
    const { store, records } = recordingStore();
    for (const key of ["billing/1", "payroll"]) {
      store.set(ALICE, { key, value: bytes("v"), contentType: TEXT });
    }
    store.clear(ALICE, false, ["billing/"]);
    const clear = records.at(-1)!;
    expect(clear.command).toEqual({ op: "clear", clientId: ALICE, force: false, prefixes: ["billing/"] });
    const decoded = sealBatch(records.map(encodeRecord)).map(decodeEntry);
    expect(decoded.at(-1)!.command).toEqual(clear.command);

    const replica = new KeyValueStore(baseOptions, new ManualClock(T0));
    for (const record of decoded) {
      expect(replica.applyCommand(record).inStep).toBe(true);
    }
    expect(replica.exists("payroll")).toBe(true);
    expect(replica.exists("billing/1")).toBe(false);
  });
});
