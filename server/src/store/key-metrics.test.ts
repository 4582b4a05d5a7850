import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { KeyMetricsRecord, type KeyMetrics } from "./key-metrics.js";

describe("KeyMetricsRecord", () => {
  it("counts sets, accesses and locks with their first and latest times", () => {
    const record = new KeyMetricsRecord();
    record.record(StoreEventKind.CREATED, 10n);
    record.record(StoreEventKind.UPDATED, 20n);
    record.record(StoreEventKind.ACCESSED, 15n);
    record.record(StoreEventKind.LOCKED, 30n);
    record.record(StoreEventKind.LOCKED, 25n);
    record.record(StoreEventKind.DELETED, 40n);
    expect(record.toKeyMetrics()).toStrictEqual({
      accessCount: 1,
      firstAccessed: 15n,
      lastAccessed: 15n,
      setCount: 2,
      firstSet: 10n,
      lastSet: 20n,
      lockCount: 2,
      firstLocked: 30n,
      lastLocked: 30n,
    });
  });

  it("leaves absent times out of the reported metrics", () => {
    expect(new KeyMetricsRecord().toKeyMetrics()).toStrictEqual({ accessCount: 0, setCount: 0, lockCount: 0 });
  });

  it("round-trips reported metrics", () => {
    const metrics: KeyMetrics = { accessCount: 3, lastAccessed: 5n, setCount: 1, firstSet: 1n, lastSet: 1n, lockCount: 0 };
    expect(KeyMetricsRecord.of(metrics).toKeyMetrics()).toStrictEqual(metrics);
  });
});
