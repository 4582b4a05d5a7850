import { describe, expect, it } from "vitest";
import { domains } from "./domains.fixture.js";
import { exportState, importState } from "./state-codec.js";
import type { KeyState, StoreState } from "./store-state.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("state codec", () => {
  it("exports every domain's state and imports it into fresh domains as it was", () => {
    const source = domains();
    const locked = source.keys.create("locked", bytes("v1"), "", 10n, "alice");
    source.keys.update(locked, bytes("v2"), "", 20n);
    source.locks.acquire("alice", locked, 500n, 20n, "replace");
    const expiring = source.keys.create("expiring", bytes("x"), "text/x", 30n, "bob");
    source.lifespans.set(expiring, 100n, 30n);
    const removed = source.keys.create("removed", bytes("r"), "", 40n, "bob");
    source.metrics.of(removed).accessCount = 2;
    source.keys.remove(removed);
    source.keys.retire(removed);
    source.keys.create("keyquarry/Started", bytes("now"), "", 1n, "keyquarry");
    source.clients.register("alice", 5n);

    const state = exportState(source, 60n, 9n, 4n, true);
    expect(state.keys.map((key) => key.key)).toEqual(["locked", "expiring"]);
    expect([state.takenAt, state.revision, state.fencingToken]).toEqual([60n, 9n, 1n]);
    expect(state.history.map((entry) => [entry.key, entry.revisions.length])).toEqual([
      ["locked", 2],
      ["expiring", 1],
      ["removed", 1],
    ]);

    const restored = domains();
    importState(restored, state);
    expect(exportState(restored, 60n, 9n, 4n, true)).toEqual(state);
    expect([restored.locks.count, restored.lifespans.count, restored.expirations.nextDeadline()]).toEqual([1, 1, 130n]);
  });

  it("exports values deferred as the copied export has them, at the instant of the export", () => {
    const source = domains();
    const locked = source.keys.create("locked", bytes("v1"), "", 10n, "alice");
    source.keys.update(locked, bytes("v2"), "", 20n);
    source.locks.acquire("alice", locked, 500n, 20n, "replace");
    const expiring = source.keys.create("expiring", bytes("x"), "text/x", 30n, "bob");
    source.lifespans.set(expiring, 100n, 30n);

    const copied = exportState(source, 60n, 9n, 4n, true);
    const deferred = exportState(source, 60n, 9n, 4n, true, "deferred");
    // Changed after the export: the deferred state still holds what was there.
    source.keys.update(locked, bytes("v3"), "", 70n);
    source.locks.release(locked);
    source.lifespans.set(expiring, 900n, 80n);

    expect(plain(deferred)).toEqual(plain(copied));
    expect(new TextDecoder().decode(deferred.keys[0]!.value)).toBe("v2");
    // Each read makes bytes of its own: a writer may keep or transfer them.
    expect(deferred.keys[0]!.value).not.toBe(deferred.keys[0]!.value);
  });

  it("leaves history out unless asked", () => {
    const source = domains();
    source.keys.create("a", bytes("v1"), "", 10n, "alice");
    expect(exportState(source, 0n, 0n, 0n, false).history).toEqual([]);
  });
});

/** `state` with every key and revision as a plain object (a deferred export's getters read). */
function plain(state: StoreState) {
  const key = (k: KeyState): KeyState => ({
    key: k.key,
    value: k.value,
    contentType: k.contentType,
    contentTypeSniffed: k.contentTypeSniffed,
    hash: k.hash,
    created: k.created,
    updated: k.updated,
    version: k.version,
    createdBy: k.createdBy,
    lock: k.lock && { owner: k.lock.owner, duration: k.lock.duration, created: k.lock.created, deadline: k.lock.deadline, fencingToken: k.lock.fencingToken },
    lifespan: k.lifespan && { duration: k.lifespan.duration, set: k.lifespan.set, deadline: k.lifespan.deadline },
  });
  const history = state.history.map(({ key: name, revisions }) => ({
    key: name,
    revisions: revisions.map(({ value, contentType, hash, version, timestamp }) => ({ value, contentType, hash, version, timestamp })),
  }));
  return { ...state, keys: state.keys.map(key), history };
}
