import { Code, ConnectError } from "@connectrpc/connect";
import { StoreEventKind } from "../store/store-event-kind.js";
import { describe, expect, it, vi } from "vitest";
import { defaultConfig } from "../config/default-config.js";
import { ManualClock } from "../store/clock.js";
import { KeyValueStore } from "../store/key-value-store.js";
import { toConnectError } from "../rpc/to-connect-error.js";
import { StoreError } from "../store/store-error.js";
import type { StoreEvent } from "../store/store-event.js";
import { WatchHub, type WatchHubOptions } from "./watch-hub.js";
import type { WatchItem, WatchSubscription } from "./watch-subscription.js";
import type { WatchSink } from "./watch-sink.js";

const second = 1_000_000_000n;
const bytes = (text: string) => new TextEncoder().encode(text);

const hubOptions: WatchHubOptions = {
  bufferSize: 100,
  maxBytes: 0,
  totalMaxBytes: 0,
  sendTimeout: 0n,
  subscriberLimit: 0,
  clientLimit: 0,
  logSize: 100,
  logMaxBytes: 1 << 20,
};

function setup(options: Partial<WatchHubOptions> = {}) {
  const clock = new ManualClock();
  const store = new KeyValueStore({ ...defaultConfig({}), minLockDuration: second, minLifespan: second }, clock);
  const hub = new WatchHub(store, { ...hubOptions, ...options }, clock);
  const set = (key: string, value = "v", clientId = "alice") => store.set(clientId, { key, value: bytes(value), contentType: "" });
  return { clock, store, hub, set };
}

const any = () => true;

/** Every event the store emits from now on, seen by a listener of its own. */
function record(store: KeyValueStore): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.subscribe((event) => events.push(event));
  return events;
}

/** The items queued so far: takes from the iterator until it would wait. */
async function drain(subscription: WatchSubscription): Promise<WatchItem[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  const items: WatchItem[] = [];
  for (;;) {
    const next = await Promise.race([iterator.next(), new Promise<"idle">((resolve) => setTimeout(() => resolve("idle"), 5))]);
    if (next === "idle" || next.done) {
      return items;
    }
    items.push(next.value);
  }
}

/** Takes exactly `count` items from an iterator. */
async function take(iterator: AsyncIterator<WatchItem>, count: number): Promise<WatchItem[]> {
  const items: WatchItem[] = [];
  while (items.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`ended after ${items.length}`);
    items.push(next.value);
  }
  return items;
}

/** What `action` throws, as the RPC layer reports it. */
function thrown(action: () => unknown): ConnectError {
  try {
    action();
  } catch (error) {
    expect(error instanceof StoreError || error instanceof ConnectError).toBe(true);
    return toConnectError(error);
  }
  throw new Error("expected an error");
}

const revisionsOf = (items: readonly WatchItem[]) => items.map((item) => item.revision);

describe("WatchHub", () => {
  it("fans every store event out to every watcher, in order, with consecutive revisions", async () => {
    const { store, hub, set, clock } = setup();
    const start = store.revision;
    const a = hub.subscribe(any);
    const b = hub.subscribe(any);
    const seen = record(store);
    set("k", "1");
    set("k", "2");
    store.get("bob", "k");
    store.lock("bob", "l", 2n * second, true);
    clock.advance(2n * second);
    store.set("alice", { key: "t", value: bytes("x"), contentType: "", lifespan: second });
    clock.advance(second);
    store.exists("t"); // applies the expiry
    store.pop("alice", "k");
    const expected = seen.map((e) => e.revision);
    expect(expected).toEqual(Array.from({ length: expected.length }, (_, i) => start + 1n + BigInt(i)));
    expect(store.revision).toBe(start + BigInt(expected.length));
    expect(seen.map((e) => StoreEventKind[e.event])).toEqual([
      "CREATED",
      "UPDATED",
      "ACCESSED",
      "CREATED",
      "LOCKED",
      "UNLOCKED",
      "CREATED",
      "LIFESPAN_SET",
      "EXPIRED",
      "ACCESSED",
      "DELETED",
    ]);
    expect(await drain(a)).toEqual(seen);
    expect(await drain(b)).toEqual(seen);
  });

  it("gives a watcher only the events its filter accepts", async () => {
    const { hub, set } = setup();
    const onlyB = hub.subscribe((e) => e.key === "b");
    set("a");
    set("b", "1");
    set("b", "2", "bob");
    const items = (await drain(onlyB)) as StoreEvent[];
    expect(items.map((e) => [e.key, StoreEventKind[e.event], e.clientId])).toEqual([
      ["b", "CREATED", "alice"],
      ["b", "UPDATED", "bob"],
    ]);
  });

  it("carries the value at the event in value events", async () => {
    const { store, hub, set } = setup();
    const watcher = hub.subscribe((e) => e.key === "k");
    set("k", "one");
    set("k", "two");
    store.delete("bob", "k");
    const items = (await drain(watcher)) as StoreEvent[];
    expect(items.map((e) => [StoreEventKind[e.event], new TextDecoder().decode(e.value!.value), e.value!.version])).toEqual([
      ["CREATED", "one", 1n],
      ["UPDATED", "two", 2n],
      ["DELETED", "two", 2n],
    ]);
  });

  it("refuses watchers past the subscriber limit with RESOURCE_EXHAUSTED, and counts them", () => {
    const { hub } = setup({ subscriberLimit: 2 });
    const first = hub.subscribe(any);
    hub.subscribe(any);
    expect(hub.size).toBe(2);
    const error = thrown(() => hub.subscribe(any));
    expect(error.cause).toBeInstanceOf(StoreError);
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe("subscriber limit reached: 2");
    expect(hub.size).toBe(2);
    first.end();
    expect(hub.size).toBe(1);
    hub.subscribe(any);
    expect(hub.size).toBe(2);
  });

  it("has no limit with subscriberLimit 0", () => {
    const { hub } = setup({ subscriberLimit: 0 });
    for (let i = 0; i < 500; i++) hub.subscribe(any);
    expect(hub.size).toBe(500);
  });

  it("resumes from a revision: the held events after it, then live ones, without gap or duplicate", async () => {
    const { store, hub, set } = setup();
    set("k", "0"); // an event before `from`
    const from = store.revision;
    for (let i = 1; i <= 5; i++) set("k", String(i));
    const watcher = hub.subscribe(any, from);
    for (let i = 6; i <= 8; i++) set("k", String(i));
    const items = await drain(watcher);
    expect(revisionsOf(items)).toEqual(Array.from({ length: 8 }, (_, i) => from + 1n + BigInt(i)));
    expect(store.revision).toBe(from + 8n);
  });

  it("replays only the matching events", async () => {
    const { store, hub, set } = setup();
    const from = store.revision;
    set("a", "1");
    set("b", "1");
    set("a", "2");
    const watcher = hub.subscribe((e) => e.key === "a", from);
    set("b", "2");
    set("a", "3");
    const items = (await drain(watcher)) as StoreEvent[];
    expect(items.map((e) => [e.key, e.revision - from])).toEqual([
      ["a", 1n],
      ["a", 3n],
      ["a", 5n],
    ]);
  });

  it("resumes from the latest revision with nothing to replay", async () => {
    const { store, hub, set } = setup();
    set("k", "1");
    const watcher = hub.subscribe(any, store.revision);
    expect(await drain(watcher)).toEqual([]);
    set("k", "2");
    expect(revisionsOf(await drain(watcher))).toEqual([store.revision]);
  });

  it("refuses a revision older than the log holds with OUT_OF_RANGE naming the oldest revision available", async () => {
    const { store, hub, set } = setup({ logSize: 4 });
    for (let i = 0; i < 10; i++) set("k", String(i));
    const latest = store.revision;
    const oldest = latest - 3n; // the log holds the last 4 events
    const error = thrown(() => hub.subscribe(any, oldest - 2n));
    expect(error.code).toBe(Code.OutOfRange);
    expect(error.rawMessage).toContain(`the oldest revision available is ${oldest}`);
    expect(thrown(() => hub.subscribe(any, 0n)).code).toBe(Code.OutOfRange);
    expect(hub.size).toBe(0);
    // From just before the oldest held event: everything is there.
    const watcher = hub.subscribe(any, oldest - 1n);
    expect(revisionsOf(await drain(watcher))).toEqual([oldest, oldest + 1n, oldest + 2n, latest]);
  });

  it("refuses a revision that the byte budget of the log has pushed out", async () => {
    const { store, hub, set } = setup({ logSize: 1000, logMaxBytes: 100 });
    const from = store.revision;
    for (let i = 0; i < 10; i++) set(`k${i}`, "x".repeat(30)); // 300 bytes of values
    const error = thrown(() => hub.subscribe(any, from));
    expect(error.code).toBe(Code.OutOfRange);
    const oldest = BigInt(/oldest revision available is (\d+)/.exec(error.rawMessage)![1]!);
    expect(oldest).toBe(store.revision - 2n); // 3 values of 30 bytes fit in 100
    expect(revisionsOf(await drain(hub.subscribe(any, oldest - 1n)))).toHaveLength(3);
  });

  it("refuses a revision ahead of the latest with OUT_OF_RANGE", () => {
    const { store, hub, set } = setup();
    set("k");
    const error = thrown(() => hub.subscribe(any, store.revision + 1n));
    expect(error.code).toBe(Code.OutOfRange);
    expect(error.rawMessage).toContain(`revision ${store.revision + 1n} is ahead of the server's latest revision ${store.revision}`);
    expect(hub.size).toBe(0);
  });

  // Regression: an empty log once accepted any start revision, silently skipping the events before it.
  it("refuses a revision older than the first event the hub saw, even before any new event", () => {
    const clock = new ManualClock();
    const store = new KeyValueStore(defaultConfig({}), clock);
    store.set("alice", { key: "before", value: bytes("x"), contentType: "" }); // revision 1, before the hub
    const hub = new WatchHub(store, { ...hubOptions, bufferSize: 10 }, clock);
    const error = thrown(() => hub.subscribe(any, 0n));
    expect(error.code).toBe(Code.OutOfRange);
    expect(error.rawMessage).toContain("the oldest revision available is 2");
  });

  // Regression: event_log_size 0 once made every write throw inside the store's emit.
  it("works with a log size of 0: writes succeed, live watching works, resuming is refused", async () => {
    const { store, hub, set } = setup({ logSize: 0 });
    const watcher = hub.subscribe(any);
    const from = store.revision;
    expect(() => set("k")).not.toThrow();
    expect(revisionsOf(await drain(watcher))).toEqual([from + 1n]);
    expect(thrown(() => hub.subscribe(any, from)).code).toBe(Code.OutOfRange);
  });

  it("cuts off only the watcher that falls behind; the others and the writer go on", async () => {
    const { store, hub, set } = setup({ bufferSize: 4 });
    const from = store.revision;
    const slow = hub.subscribe(any);
    const fast = hub.subscribe(any);
    const fastIterator = fast[Symbol.asyncIterator]();
    const fastSeen: WatchItem[] = [];
    for (let i = 1; i <= 20; i++) {
      set("k", String(i));
      fastSeen.push(...(await take(fastIterator, 1)));
    }
    expect(revisionsOf(fastSeen)).toEqual(Array.from({ length: 20 }, (_, i) => from + 1n + BigInt(i)));
    expect(hub.size).toBe(1); // the slow one is gone
    expect(hub.watchersCut).toBe(1);
    const error = await (async () => {
      try {
        for await (const _ of slow) {
          /* nothing was taken before the cut-off: nothing is delivered */
        }
      } catch (e) {
        return e as ConnectError;
      }
      throw new Error("expected RESOURCE_EXHAUSTED");
    })();
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe(`watcher fell behind by more than 4 events; resume from revision ${from}`);
    // Resuming from the named revision gets exactly what was missed.
    const resumed = hub.subscribe(any, from);
    expect(revisionsOf(await drain(resumed))).toEqual(revisionsOf(fastSeen));
  });

  it("replays a backlog larger than the buffer without cutting the watcher off", async () => {
    const { store, hub, set } = setup({ bufferSize: 2, logSize: 100 });
    const from = store.revision;
    for (let i = 0; i < 50; i++) set("k", String(i));
    const watcher = hub.subscribe(any, from);
    set("k", "live");
    expect(revisionsOf(await drain(watcher))).toHaveLength(51);
    expect(hub.size).toBe(1);
  });

  it("ends every watcher cleanly with endAll, after a last progress mark, and still accepts new ones", async () => {
    const { hub, set, store } = setup();
    const a = hub.subscribe(any);
    const b = hub.subscribe((event) => event.key === "other");
    set("k");
    hub.endAll();
    expect(hub.size).toBe(0);
    // Queued events are still delivered, then the latest revision (to resume from), then the iteration completes.
    const seen: WatchItem[] = [];
    for await (const item of a) seen.push(item);
    expect(seen.map((item) => ("progress" in item ? `progress ${item.revision}` : `${item.key} ${item.revision}`))).toEqual([
      `k ${store.revision}`,
      `progress ${store.revision}`,
    ]);
    // A watcher that filtered the event out learns the revision all the same.
    const filtered: WatchItem[] = [];
    for await (const item of b) filtered.push(item);
    expect(filtered).toEqual([{ progress: true, revision: store.revision }]);
    const c = hub.subscribe(any);
    expect(hub.size).toBe(1);
    set("k", "2");
    expect(await drain(c)).toHaveLength(1);
  });

  it("forgets a watcher whose consumer stops iterating", async () => {
    const { hub, set } = setup();
    const watcher = hub.subscribe(any);
    set("k");
    for await (const _ of watcher) break;
    expect(hub.size).toBe(0);
  });

  it("refuses a client's watchers past the client limit with RESOURCE_EXHAUSTED naming it, and frees a place when one ends", () => {
    const { hub } = setup({ clientLimit: 2 });
    const first = hub.subscribe(any, undefined, { clientId: "alice" });
    hub.subscribe(any, undefined, { clientId: "alice" });
    const error = thrown(() => hub.subscribe(any, undefined, { clientId: "alice" }));
    expect([error.code, error.rawMessage]).toEqual([
      Code.ResourceExhausted,
      'watch limit per client reached: client "alice" already has 2 watch streams open (event_stream_client_limit is 2)',
    ]);
    hub.subscribe(any, undefined, { clientId: "bob" });
    first.end();
    hub.subscribe(any, undefined, { clientId: "alice" });
    expect(hub.size).toBe(3);
  });

  it("has no client limit with clientLimit 0", () => {
    const { hub } = setup({ clientLimit: 0 });
    for (let i = 0; i < 200; i++) hub.subscribe(any, undefined, { clientId: "alice" });
    expect(hub.size).toBe(200);
  });
});

/** A sink holding `queuedBytes`, whose resets are counted. */
function fakeSink(queuedBytes = 0) {
  return { queuedBytes, reset: vi.fn<() => void>() } satisfies WatchSink;
}

/** Takes one item from a watcher, leaving it "being sent" until the next is asked for. */
async function takeOne(watcher: WatchSubscription): Promise<AsyncIterator<WatchItem>> {
  const iterator = watcher[Symbol.asyncIterator]();
  await iterator.next();
  return iterator;
}

describe("WatchHub.sweep", () => {
  it("cuts off a watcher that has not taken a message within the send timeout, and resets it a send timeout later", async () => {
    const { hub, set, clock } = setup({ sendTimeout: second });
    const sink = fakeSink(500);
    const stuck = hub.subscribe(any, undefined, { sink });
    const idle = hub.subscribe(any, undefined, { sink: fakeSink() });
    set("k");
    const iterator = await takeOne(stuck);
    await drain(idle);
    clock.advance(second - 1n);
    hub.sweep();
    expect(hub.size).toBe(2);
    clock.advance(1n);
    hub.sweep();
    expect(hub.size).toBe(1);
    expect(stuck.isCut).toBe(true);
    expect(hub.queuedBytes).toBe(500); // what its transport holds still counts
    expect(sink.reset).not.toHaveBeenCalled(); // it may still take the message, then the error

    clock.advance(second);
    hub.sweep();
    expect(sink.reset).toHaveBeenCalledTimes(1);
    expect(hub.queuedBytes).toBe(0);
    // Had the transport taken the message, the consumer would have got the error.
    const error = await iterator.next().catch((e: unknown) => e as ConnectError);
    expect((error as ConnectError).rawMessage).toMatch(/^watcher took no message for 1s; resume from revision \d+$/);
  });

  it("does not reset a cut-off watcher whose transport took its message", async () => {
    const { hub, set, clock } = setup({ sendTimeout: second });
    const sink = fakeSink();
    const watcher = hub.subscribe(any, undefined, { sink });
    set("k");
    const iterator = await takeOne(watcher);
    clock.advance(second);
    hub.sweep();
    expect(watcher.isCut).toBe(true);
    await iterator.next().catch(() => {}); // taken: the error follows
    clock.advance(second);
    hub.sweep();
    expect(sink.reset).not.toHaveBeenCalled();
  });

  it("never cuts a watcher for time with sendTimeout 0", async () => {
    const { hub, set, clock } = setup({ sendTimeout: 0n });
    const watcher = hub.subscribe(any, undefined, { sink: fakeSink() });
    set("k");
    await takeOne(watcher);
    clock.advance(1000n * second);
    hub.sweep();
    expect(hub.size).toBe(1);
  });

  it("past the total budget, a message waits for room, and the slowest watcher in flight is cut off and reset", async () => {
    const { hub, set, clock, store } = setup({ totalMaxBytes: 300 });
    const slowSink = fakeSink();
    const slow = hub.subscribe(any, undefined, { sink: slowSink });
    const fast = hub.subscribe(any, undefined, { sink: fakeSink() });
    set("k", "v".repeat(100)); // 165 bytes counted
    const slowIterator = await takeOne(slow);
    const fastNext = fast[Symbol.asyncIterator]().next();
    await Promise.resolve();
    expect([hub.sendingBytes, hub.waitingMessages]).toEqual([165, 1]);

    clock.advance(99_000_000n);
    hub.sweep();
    expect(slow.isCut).toBe(false); // in flight for less than 100 ms: not slow yet
    clock.advance(1_000_000n);
    hub.sweep();
    expect(slow.isCut).toBe(true);
    expect(slowSink.reset).toHaveBeenCalledTimes(1);
    expect((await fastNext).value?.revision).toBe(store.revision);
    expect([hub.sendingBytes, hub.waitingMessages]).toEqual([165, 0]);
    const error = await slowIterator.next().catch((e: unknown) => e as ConnectError);
    expect((error as ConnectError).rawMessage).toMatch(
      /^watch streams together have more than 300 bytes in flight, and this one is among the slowest to take them; resume from revision \d+$/,
    );
  });

  it("frees room for waiting messages from cut-off watchers first, without waiting for their send timeout", async () => {
    const { hub, set } = setup({ bufferSize: 1, totalMaxBytes: 100, sendTimeout: 60n * second });
    const cutSink = fakeSink();
    const cut = hub.subscribe(any, undefined, { sink: cutSink });
    const other = hub.subscribe((e) => e.key === "b", undefined, { sink: fakeSink() });
    set("a", "1");
    await takeOne(cut); // in flight
    set("a", "2");
    set("a", "3"); // two behind: cut off, its message still in flight
    expect(cut.isCut).toBe(true);
    set("b");
    const otherNext = other[Symbol.asyncIterator]().next();
    await Promise.resolve();
    expect(hub.waitingMessages).toBe(1);
    hub.sweep();
    expect(cutSink.reset).toHaveBeenCalledTimes(1);
    expect((await otherNext).done).toBe(false);
    expect(other.isCut).toBe(false);
  });
});
