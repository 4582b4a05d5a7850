import { describe, expect, it } from "vitest";
import { KeyEntry } from "./key-entry.js";
import { KeyTable } from "./key-table.js";
import { Metrics } from "./metrics.js";
import { StoreEventKind, storeEventKinds } from "./store-event-kind.js";

const entry = (key = "k") => new KeyEntry(key, "", "", false, 0, 0, 10n, 1n, "alice");

describe("Metrics", () => {
  it("counts events by kind, one counter per kind of the enum", () => {
    const metrics = new Metrics(-1, new KeyTable());
    const key = entry();
    metrics.count(key, StoreEventKind.CREATED, 10n);
    metrics.count(key, StoreEventKind.ACCESSED, 20n);
    metrics.count(key, StoreEventKind.ACCESSED, 30n);
    const totals = metrics.eventTotals();
    expect(totals).toHaveLength(storeEventKinds.length);
    expect([totals[StoreEventKind.CREATED], totals[StoreEventKind.ACCESSED], totals[StoreEventKind.DELETED]]).toEqual([1n, 2n, 0n]);
  });

  it("leaves a key that is only set with implied metrics, and records accesses and locks", () => {
    const metrics = new Metrics(-1, new KeyTable());
    const key = entry();
    metrics.count(key, StoreEventKind.CREATED, 10n);
    expect(key.metrics).toBeUndefined();
    metrics.count(key, StoreEventKind.LOCKED, 20n);
    expect(key.metrics?.toKeyMetrics()).toEqual({ setCount: 1, firstSet: 10n, lastSet: 10n, lockCount: 1, firstLocked: 20n, lastLocked: 20n, accessCount: 0 });
  });

  it("keeps removed keys' metrics up to max_removed_key_metrics, dropping the oldest", () => {
    const table = new KeyTable();
    const metrics = new Metrics(1, table);
    const [first, second] = [entry("a"), entry("b")];
    for (const key of [first, second]) {
      table.insert(key);
      metrics.of(key);
      table.markRemoved(key);
      table.retire(key);
      metrics.keepRemoved(key);
    }
    expect([first.metrics, second.metrics === null]).toEqual([null, false]);
  });

  it("hands a removed key's metrics over to a new entry of its name", () => {
    const metrics = new Metrics(-1, new KeyTable());
    const previous = entry();
    metrics.count(previous, StoreEventKind.ACCESSED, 5n);
    metrics.keepRemoved(previous);
    const next = entry();
    metrics.takeOver(next, previous);
    expect([next.metrics?.accessCount, previous.metrics]).toEqual([1, null]);
  });
});
