import { describe, expect, it } from "vitest";
import { KeyEntry } from "./key-entry.js";
import { KeyMetricsRecord } from "./key-metrics.js";
import { KeyTable } from "./key-table.js";
import { Pruner } from "./pruner.js";

const options = { maxKeys: 10, pruneAt: 5, pruneTo: 2, eagerPruneAt: 8, eagerPruneTo: 4 };

/** A key last accessed at `accessed`. */
function accessedAt(key: string, accessed: bigint): KeyEntry {
  const entry = new KeyEntry(key, "", "", false, 0, 0, 0n, 1n, "alice");
  entry.metrics = new KeyMetricsRecord();
  entry.metrics.accessCount = 1;
  entry.metrics.firstAccessed = accessed;
  entry.metrics.lastAccessed = accessed;
  return entry;
}

describe("Pruner", () => {
  it("selects the stalest user keys down to the target, never reserved, locked or ignored ones", () => {
    const table = new KeyTable();
    for (const [key, accessed] of [["old", 1n], ["new", 9n], ["mid", 5n], ["ignored", 0n], ["keyquarry/x", 0n]] as const) {
      table.insert(accessedAt(key, accessed));
    }
    const pruner = new Pruner(options);
    expect(pruner.select(table, 2, new Set(["ignored"]), 10n)?.map((entry) => entry.key)).toEqual(["old", "mid"]);
    expect(pruner.select(table, 5, new Set(), 10n)).toBeUndefined();
  });

  it("says when the scheduled and the eager prune run, and counts eager ones", () => {
    const pruner = new Pruner(options);
    expect([pruner.scheduledTarget(4), pruner.scheduledTarget(5)]).toEqual([undefined, 2]);
    expect([pruner.eagerDue(8), pruner.eagerDue(9)]).toEqual([false, true]);
    expect([pruner.mustMakeRoom(9), pruner.mustMakeRoom(10)]).toEqual([false, true]);
    expect(pruner.startEager()).toBe(4);
    expect(pruner.eagerTriggered).toBe(1n);
  });
});
