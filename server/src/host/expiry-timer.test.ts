import { StoreEventKind } from "../store/store-event-kind.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defaultConfig } from "../config/default-config.js";
import { ManualClock } from "../store/clock.js";
import { KeyValueStore } from "../store/key-value-store.js";
import type { StoreEvent } from "../store/store-event.js";
import { expiryBatchSize, startExpiryTimer } from "./expiry-timer.js";

const second = 1_000_000_000n;
const ms = 1_000_000n;

describe("startExpiryTimer", () => {
  let clock: ManualClock;
  let store: KeyValueStore;
  let events: StoreEvent[];
  let stop: () => void;

  // Advances the store's clock and Node's (fake) timers together.
  const advance = (ns: bigint) => {
    clock.advance(ns);
    vi.advanceTimersByTime(Number(ns / ms));
  };

  beforeEach(() => {
    vi.useFakeTimers();
    clock = new ManualClock();
    store = new KeyValueStore({ ...defaultConfig({}), minLifespan: 1n, minLockDuration: 1n }, clock);
    events = [];
    store.subscribe((event) => events.push(event));
    stop = startExpiryTimer(store, clock);
  });
  afterEach(() => {
    stop();
    vi.useRealTimers();
  });

  const kinds = () => events.map((event) => `${StoreEventKind[event.event]} ${event.key}`);
  const value = new Uint8Array([1]);

  it("expires an idle key at its deadline, not before", () => {
    store.set("a", { key: "k", value, contentType: "", lifespan: 5n * second });
    events.length = 0;
    advance(5n * second - ms);
    expect(kinds()).toEqual([]);
    advance(ms);
    expect(kinds()).toEqual(["EXPIRED k"]);
    expect(events[0]!.time).toBe(clock.now());
  });

  it("uses one timer for many keys and re-arms for an earlier deadline", () => {
    for (let i = 0; i < 1000; i++) {
      store.set("a", { key: `k${i}`, value, contentType: "", lifespan: BigInt(10 + (i % 7)) * second });
    }
    store.lock("a", "k0", 2n * second, false);
    expect(vi.getTimerCount()).toBe(1);
    events.length = 0;
    advance(2n * second);
    expect(kinds()).toEqual(["UNLOCKED k0"]);
    expect(vi.getTimerCount()).toBe(1);
    advance(20n * second);
    expect(events.filter((e) => e.event === StoreEventKind.EXPIRED)).toHaveLength(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("applies a mass expiry in batches", () => {
    const count = expiryBatchSize * 2 + 5;
    for (let i = 0; i < count; i++) {
      store.set("a", { key: `k${i}`, value, contentType: "", lifespan: second });
    }
    events.length = 0;
    clock.advance(second);
    vi.advanceTimersToNextTimer();
    expect(events).toHaveLength(expiryBatchSize);
    vi.runAllTimers();
    expect(events).toHaveLength(count);
  });

  it("then moves the removed keys' entries aside in slices, so no later call does it all at once", () => {
    const count = expiryBatchSize * 2 + 5;
    for (let i = 0; i < count; i++) {
      store.set("a", { key: `k${i}`, value, contentType: "", lifespan: second });
    }
    const sweep = vi.spyOn(store, "sweepRemovedSlice");
    clock.advance(second);
    vi.runAllTimers();
    expect(events.filter((e) => e.event === StoreEventKind.EXPIRED)).toHaveLength(count);
    // 20,005 removed entries, at most 10,000 moved per callback.
    expect(sweep.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(sweep.mock.results.at(-1)?.value).toBe(false);
    expect(store.sweepRemovedSlice(1)).toBe(false);
  });

  it("stops", () => {
    store.set("a", { key: "k", value, contentType: "", lifespan: second });
    stop();
    events.length = 0;
    advance(2n * second);
    expect(events).toEqual([]);
  });
});
