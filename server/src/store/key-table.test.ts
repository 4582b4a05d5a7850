import { describe, expect, it } from "vitest";
import { KeyEntry } from "./key-entry.js";
import { KeyMetricsRecord } from "./key-metrics.js";
import { KeyTable, listedKeySize } from "./key-table.js";

const entry = (key: string, value = "v") => new KeyEntry(key, value, "", false, 0, 0, 1n, 1n, "alice");
const unlimited = { maxKeys: 100, maxBytes: 1 << 20, pageEmpty: true, expired: () => false };

describe("KeyTable", () => {
  it("counts keys and bytes, reserved keys apart from user keys", () => {
    const table = new KeyTable();
    table.insert(entry("a", "12"));
    table.insert(entry("keyquarry/Started", "123"));
    expect([table.userKeys, table.totalSize, table.size]).toEqual([1, 5, 2]);
    table.resized(2, 10);
    expect(table.totalSize).toBe(13);
  });

  it("keeps a removed key's record aside while it holds metrics, and forgets one that holds nothing", () => {
    const table = new KeyTable();
    const kept = entry("kept");
    const gone = entry("gone");
    table.insert(kept);
    table.insert(gone);
    kept.metrics = new KeyMetricsRecord();
    gone.metrics = null;
    for (const removed of [kept, gone]) {
      table.markRemoved(removed);
      table.retire(removed);
    }
    expect([table.existing("kept"), table.existing("gone"), table.userKeys]).toEqual([undefined, undefined, 0]);
    expect(table.recordOf("kept")).toBe(kept);
    expect(table.recordOf("gone")).toBeUndefined();
    expect([...table.existingEntries()]).toEqual([]);
    expect([...table.removedRecords().keys()]).toEqual(["kept"]);
    expect(table.takeRemoved("kept")).toBe(kept);
    expect(table.recordOf("kept")).toBeUndefined();
  });

  it("sweeps removed entries aside in slices, oldest removal first", () => {
    const table = new KeyTable();
    const entries = ["a", "b", "c"].map((key) => entry(key));
    for (const e of entries) {
      table.insert(e);
      e.metrics = new KeyMetricsRecord();
    }
    for (const e of entries) {
      table.markRemoved(e);
      table.retire(e);
    }
    expect(table.sweepSlice(2)).toBe(true);
    expect([...table.removedRecords().keys()]).toEqual(["a", "b"]);
    expect(table.sweepSlice(2)).toBe(false);
    expect([...table.removedRecords().keys()]).toEqual(["a", "b", "c"]);
  });

  it("scans in creation order from a cursor, within the budget, and knows its cursors", () => {
    const table = new KeyTable();
    for (const key of ["a", "keyquarry/x", "b", "c"]) {
      table.insert(entry(key));
    }
    const first = table.scan({ pattern: undefined, includeReserved: false, after: 0 }, { ...unlimited, maxKeys: 2 });
    expect(first).toEqual({ keys: ["a", "b"], bytes: 2 * listedKeySize("a"), after: 3, end: "full" });
    expect(table.scan({ pattern: undefined, includeReserved: false, after: first.after }, unlimited)).toEqual({
      keys: ["c"],
      bytes: listedKeySize("c"),
      after: 4,
      end: "last",
    });
    expect([table.isCursor(4), table.isCursor(5), table.isCursor(-1), table.isCursor(1.5)]).toEqual([true, false, false, false]);
  });

  it("sizes a listed key as a protobuf repeated string element", () => {
    expect([listedKeySize(""), listedKeySize("é"), listedKeySize("x".repeat(128))]).toEqual([2, 4, 131]);
  });
});
