import { describe, expect, it } from "vitest";
import { domains } from "./domains.fixture.js";
import { EventFanout } from "./event-fanout.js";
import { StoreEventKind } from "./store-event-kind.js";
import type { StoreEvent } from "./store-event.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("EventFanout", () => {
  it("numbers every event, listened to or not, and continues a restored revision", () => {
    const entry = domains().keys.create("a", bytes("v"), "", 10n, "alice");
    const fanout = new EventFanout();
    fanout.publish(entry, StoreEventKind.ACCESSED, "alice", 10n, undefined);
    expect(fanout.revision).toBe(1);
    const received: StoreEvent[] = [];
    fanout.subscribe((event) => received.push(event));
    fanout.publish(entry, StoreEventKind.ACCESSED, "bob", 11n, undefined);
    expect(received.map((event) => event.revision)).toEqual([2n]);
    const restored = new EventFanout();
    restored.restore(41n);
    restored.publish(entry, StoreEventKind.ACCESSED, "alice", 12n, undefined);
    expect(restored.revision).toBe(42);
  });

  it("gives value events the value and lock owner, others neither, to every listener until it unsubscribes", () => {
    const entry = domains().keys.create("a", bytes("v"), "text/x", 10n, "alice");
    const fanout = new EventFanout();
    const first: StoreEvent[] = [];
    const second: StoreEvent[] = [];
    const unsubscribe = fanout.subscribe((event) => first.push(event));
    fanout.subscribe((event) => second.push(event));
    fanout.publish(entry, StoreEventKind.UPDATED, "alice", 20n, "alice");
    unsubscribe();
    fanout.publish(entry, StoreEventKind.LOCKED, "bob", 21n, "bob");
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ revision: 1n, key: "a", event: StoreEventKind.UPDATED, time: 20n, clientId: "alice", lockOwner: "alice" });
    expect(first[0]!.value).toMatchObject({ value: bytes("v"), size: 1, version: 1n, contentType: "text/x" });
    expect(second.map((event) => [event.event, "value" in event, "lockOwner" in event])).toEqual([
      [StoreEventKind.UPDATED, true, true],
      [StoreEventKind.LOCKED, false, false],
    ]);
  });
});
