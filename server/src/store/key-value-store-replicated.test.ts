import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { KeyValueStore } from "./key-value-store.js";
import { baseOptions, MINUTE, SECOND, T1 } from "./key-value-store.fixture.js";
import type { CommandRecord, StoreCommand } from "./store-command.js";
import { StoreEventKind } from "./store-event-kind.js";

const replicated = { ...baseOptions, replicated: true };
const value = (text: string) => new TextEncoder().encode(text);

/** Applies `command` at `time` as the cluster's log delivers it (position `seq`). */
function apply(store: KeyValueStore, seq: bigint, time: bigint, command: StoreCommand) {
  const record: CommandRecord = { seq, time, revision: store.revision, command };
  return store.applyCommand(record).outcome;
}

describe("a replicated store (cluster mode)", () => {
  it("changes only by applying commands: a direct write is a bug and throws, the state untouched", () => {
    const store = new KeyValueStore(replicated, new ManualClock(T1));
    expect(() => store.set("alice", { key: "k", value: value("v"), contentType: "" })).toThrow(/a replica changes only by applying its log/);
    expect(store.userKeys).toBe(0);
    expect(apply(store, 1n, T1, { op: "set", clientId: "alice", request: { key: "k", value: value("v"), contentType: "" } })).toEqual({
      value: { isNew: true, fencingToken: undefined },
    });
  });

  it("answers reads without changing what commands depend on: no expiration applied, no revision taken, no ACCESSED event", () => {
    const clock = new ManualClock(T1);
    const store = new KeyValueStore(replicated, clock);
    const events: StoreEventKind[] = [];
    store.subscribe((event) => events.push(event.event));
    apply(store, 1n, T1, { op: "set", clientId: "alice", request: { key: "k", value: value("v"), contentType: "", lifespan: SECOND } });
    const revision = store.revision;
    clock.advance(MINUTE);
    // Past its deadline, but only an `expire` from the log removes it.
    expect(new TextDecoder().decode(store.get("alice", "k"))).toBe("v");
    expect(store.revision).toBe(revision);
    expect(events).not.toContain(StoreEventKind.ACCESSED);
    expect(store.keyMetrics("k").accessCount).toBe(1);
    apply(store, 2n, clock.now(), { op: "expire" });
    expect(store.exists("k")).toBe(false);
    expect(events).toContain(StoreEventKind.EXPIRED);
  });

  it("runs no command before the one it follows, and a snapshot carries that time to a restarted replica", () => {
    const running = new KeyValueStore(replicated, new ManualClock(T1));
    apply(running, 1n, T1 + MINUTE, { op: "register", clientId: "late-clock" });
    const snapshot = running.exportState(true);
    expect(snapshot.takenAt).toBe(T1 + MINUTE);
    const restarted = new KeyValueStore(replicated, new ManualClock(T1));
    restarted.importState(snapshot);
    // A node whose clock is behind proposed it: both run it at the time of the command before.
    const lagging: StoreCommand = { op: "set", clientId: "alice", request: { key: "k", value: value("v"), contentType: "", lifespan: SECOND } };
    for (const store of [running, restarted]) {
      apply(store, 2n, T1, lagging);
    }
    const deadlines = [running, restarted].map((store) => store.inspect("alice", "k").lifespan?.set);
    expect(deadlines).toEqual([T1 + MINUTE, T1 + MINUTE]);
  });

  it("prunes by sets and locks, not by this node's own reads: every replica removes the same keys", () => {
    const clock = new ManualClock(T1);
    const store = new KeyValueStore(replicated, clock);
    apply(store, 1n, T1, { op: "set", clientId: "alice", request: { key: "old", value: value("1"), contentType: "" } });
    apply(store, 2n, T1 + MINUTE, { op: "set", clientId: "alice", request: { key: "new", value: value("2"), contentType: "" } });
    clock.advance(2n * MINUTE);
    // Read on this node only: a single server would now keep "old" (its last access is the freshest).
    for (let i = 0; i < 10; i++) store.get("alice", "old");
    clock.advance(MINUTE);
    expect(apply(store, 3n, clock.now(), { op: "prune", target: 1, ignore: [] })).toEqual({ value: 1 });
    expect([store.exists("old"), store.exists("new")]).toEqual([false, true]);
  });
});
