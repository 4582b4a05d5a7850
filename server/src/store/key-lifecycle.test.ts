import { describe, expect, it } from "vitest";
import { domains } from "./domains.fixture.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("KeyLifecycle", () => {
  it("creates a key with a sniffed or explicit content type and retains its version", () => {
    const { keys, table } = domains();
    const sniffed = keys.create("a", bytes("{}"), "", 10n, "alice");
    const explicit = keys.create("b", bytes("x"), "text/x", 10n, "alice");
    expect([sniffed.contentType, sniffed.contentTypeSniffed, explicit.contentType, sniffed.versioned]).toEqual([
      "text/plain; charset=utf-8",
      true,
      "text/x",
      true,
    ]);
    expect([table.userKeys, table.totalSize]).toEqual([2, 3]);
  });

  it("updates only a changed value, making a new version", () => {
    const { keys, table } = domains();
    const entry = keys.create("a", bytes("v1"), "", 10n, "alice");
    expect(keys.update(entry, bytes("v1"), "", 20n)).toBe(false);
    expect(keys.update(entry, bytes("v22"), "", 30n)).toBe(true);
    expect([entry.version, entry.updated, entry.retainedCount, table.totalSize]).toEqual([2n, 30n, 2, 3]);
  });

  it("removes a key with its lock and lifespan, and a re-created key continues its history and metrics", () => {
    const { keys, locks, lifespans, table, metrics } = domains();
    const entry = keys.create("a", bytes("v1"), "", 10n, "alice");
    locks.acquire("alice", entry, 100n, 10n, "replace");
    lifespans.set(entry, 100n, 10n);
    metrics.of(entry).accessCount = 3;
    keys.remove(entry);
    keys.retire(entry);
    expect([table.existing("a"), locks.count, lifespans.count, entry.value]).toEqual([undefined, 0, 0, ""]);
    const again = keys.create("a", bytes("v2"), "", 50n, "bob");
    expect([again.version, again.retainedCount, again.metrics?.accessCount]).toEqual([2n, 2, 3]);
  });
});
