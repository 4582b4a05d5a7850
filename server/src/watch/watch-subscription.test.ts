import { Code, ConnectError } from "@connectrpc/connect";
import { StoreEventKind } from "../store/store-event-kind.js";
import { describe, expect, it, vi } from "vitest";
import type { StoreEvent } from "../store/store-event.js";
import { ManualClock } from "../store/clock.js";
import { WatchSubscription, type WatchItem } from "./watch-subscription.js";
import type { WatchSink } from "./watch-sink.js";

function event(revision: number, key = "k", kind: StoreEventKind = StoreEventKind.UPDATED): StoreEvent {
  return { revision: BigInt(revision), key, event: kind, time: BigInt(revision), clientId: "c" };
}

const all = () => true;

/** An UPDATED event of key "k" carrying a value of `size` bytes (counted as size + 1 + 64). */
function valueEvent(revision: number, size: number): StoreEvent {
  const value = { value: new Uint8Array(size), size, hash: 0n, version: 1n, contentType: "" };
  return { ...event(revision), value };
}

/** A sink holding `queuedBytes`, whose resets are counted. */
function fakeSink(queuedBytes = 0) {
  return { queuedBytes, reset: vi.fn<() => void>() } satisfies WatchSink;
}

/** A subscription plus what its onEnd saw. */
function subscription(
  options: {
    matches?: (e: StoreEvent) => boolean;
    bufferSize?: number;
    maxBytes?: number;
    start?: number;
    replay?: StoreEvent[];
    sink?: WatchSink;
    clock?: ManualClock;
  } = {},
) {
  const onEnd = vi.fn<(s: WatchSubscription) => void>();
  const sub = new WatchSubscription({
    matches: options.matches ?? all,
    bufferSize: options.bufferSize ?? 4,
    maxBytes: options.maxBytes ?? 0,
    startRevision: BigInt(options.start ?? 0),
    replay: options.replay ?? [],
    sink: options.sink,
    clock: options.clock ?? new ManualClock(),
    onEnd,
  });
  return { sub, onEnd, it: sub[Symbol.asyncIterator]() };
}

/** What a pending `next()` settles with, or "pending" when it has not settled yet. */
async function peek<T>(promise: Promise<T>): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 10))]);
}

/** Revisions of the next `count` items (failing if the iteration ends first). */
async function take(iterator: AsyncIterator<WatchItem>, count: number): Promise<number[]> {
  const taken: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = await iterator.next();
    if (result.done) throw new Error(`ended after ${taken.length} items`);
    taken.push(Number(result.value.revision));
  }
  return taken;
}

async function rejectionOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("expected a rejection");
}

describe("WatchSubscription", () => {
  it("yields the events it is offered, in order", async () => {
    const { sub, it: iterator } = subscription();
    sub.offer(event(1));
    sub.offer(event(2));
    expect(await take(iterator, 2)).toEqual([1, 2]);
    sub.offer(event(3));
    expect(await take(iterator, 1)).toEqual([3]);
  });

  it("wakes a consumer waiting for the next event", async () => {
    const { sub, it: iterator } = subscription();
    const pending = iterator.next();
    expect(await peek(pending)).toBe("pending");
    sub.offer(event(7));
    expect((await pending).value).toEqual(event(7));
  });

  it("passes on only the events its filter matches", async () => {
    const { sub, it: iterator } = subscription({ matches: (e) => e.key === "a" && e.event !== StoreEventKind.ACCESSED });
    sub.offer(event(1, "a"));
    sub.offer(event(2, "b"));
    sub.offer(event(3, "a", StoreEventKind.ACCESSED));
    sub.offer(event(4, "a", StoreEventKind.DELETED));
    expect(await take(iterator, 2)).toEqual([1, 4]);
    expect(await peek(iterator.next())).toBe("pending");
  });

  it("filters the replay too, and yields it before live events", async () => {
    const { sub, it: iterator } = subscription({
      matches: (e) => e.key === "a",
      start: 10,
      replay: [event(11, "a"), event(12, "b"), event(13, "a")],
    });
    sub.offer(event(14, "b"));
    sub.offer(event(15, "a"));
    expect(await take(iterator, 3)).toEqual([11, 13, 15]);
  });

  it("ignores events that do not match even when its buffer is full", async () => {
    const { sub, onEnd } = subscription({ bufferSize: 1, matches: (e) => e.key === "a" });
    sub.offer(event(1, "a"));
    for (let revision = 2; revision < 100; revision++) sub.offer(event(revision, "b"));
    expect(onEnd).not.toHaveBeenCalled();
  });

  it("cuts off a watcher more than bufferSize events behind, naming the revision to resume from", async () => {
    const { sub, onEnd, it: iterator } = subscription({ bufferSize: 3, start: 41 });
    sub.offer(event(42));
    sub.offer(event(43));
    sub.offer(event(44));
    expect(onEnd).not.toHaveBeenCalled(); // exactly bufferSize behind is fine
    sub.offer(event(45));
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(onEnd).toHaveBeenCalledWith(sub);
    const error = await rejectionOf(iterator.next());
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toBe("watcher fell behind by more than 3 events; resume from revision 41");
    // No event after the cut-off is queued or delivered.
    sub.offer(event(46));
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("names the last revision the watcher finished with, once it has consumed some", async () => {
    const { sub, it: iterator } = subscription({ bufferSize: 2, start: 0 });
    sub.offer(event(1));
    sub.offer(event(2));
    expect(await take(iterator, 2)).toEqual([1, 2]);
    // The watcher is done with 2 and waits for more; three more arrive at once.
    const pending = iterator.next();
    sub.offer(event(3));
    sub.offer(event(4));
    sub.offer(event(5));
    const error = await rejectionOf(pending);
    expect(error.rawMessage).toBe("watcher fell behind by more than 2 events; resume from revision 2");
  });

  // Regression: the error once named a revision one message too early (resuming duplicated it).
  it("names the revision of the last item the watcher took before the error, so resuming duplicates nothing", async () => {
    const { sub, it: iterator } = subscription({ bufferSize: 2, start: 0 });
    sub.offer(event(1));
    expect(await take(iterator, 1)).toEqual([1]); // the watcher has event 1
    sub.offer(event(2));
    sub.offer(event(3));
    sub.offer(event(4)); // overflow
    const error = await rejectionOf(iterator.next());
    expect(error.rawMessage).toBe("watcher fell behind by more than 2 events; resume from revision 1");
  });

  it("does not count the replayed backlog against the buffer", async () => {
    const replay = Array.from({ length: 10 }, (_, i) => event(i + 1));
    const { sub, onEnd, it: iterator } = subscription({ bufferSize: 2, replay });
    sub.offer(event(11));
    sub.offer(event(12));
    expect(onEnd).not.toHaveBeenCalled();
    expect(await take(iterator, 5)).toEqual([1, 2, 3, 4, 5]);
    sub.offer(event(13)); // still 2 live events queued: one more is too many
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect((await rejectionOf(iterator.next())).rawMessage).toMatch(/^watcher fell behind by more than 2 events; resume from revision \d+$/);
  });

  it("counts live events against the buffer once the backlog is drained", async () => {
    const replay = [event(1), event(2), event(3)];
    const { sub, onEnd, it: iterator } = subscription({ bufferSize: 2, replay });
    expect(await take(iterator, 3)).toEqual([1, 2, 3]);
    sub.offer(event(4));
    sub.offer(event(5));
    expect(onEnd).not.toHaveBeenCalled();
    sub.offer(event(6));
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it("queues a progress mark only when no event is waiting", async () => {
    const { sub, it: iterator } = subscription();
    sub.progress(5n);
    expect((await iterator.next()).value).toEqual({ progress: true, revision: 5n });
    sub.offer(event(6));
    sub.progress(6n); // an event is waiting: it tells the revision already
    sub.progress(6n);
    expect((await iterator.next()).value).toEqual(event(6));
    expect(await peek(iterator.next())).toBe("pending");
  });

  it("does not queue a second progress mark while one is waiting", async () => {
    const { sub, it: iterator } = subscription();
    sub.progress(1n);
    sub.progress(2n);
    expect((await iterator.next()).value).toEqual({ progress: true, revision: 1n });
    expect(await peek(iterator.next())).toBe("pending");
  });

  it("wakes a waiting consumer with a progress mark", async () => {
    const { sub, it: iterator } = subscription();
    const pending = iterator.next();
    sub.progress(3n);
    expect((await pending).value).toEqual({ progress: true, revision: 3n });
  });

  // Regression: a waiting progress mark once took one of the bufferSize places.
  it("does not count a waiting progress mark against the buffer", () => {
    const { sub, onEnd } = subscription({ bufferSize: 2 });
    sub.progress(0n);
    sub.offer(event(1));
    sub.offer(event(2)); // two events behind, not more
    expect(onEnd).not.toHaveBeenCalled();
  });

  it("ends cleanly: the events already queued are still delivered, then the iteration completes", async () => {
    const { sub, onEnd, it: iterator } = subscription();
    sub.offer(event(1));
    sub.offer(event(2));
    sub.end();
    expect(onEnd).toHaveBeenCalledTimes(1);
    sub.offer(event(3)); // ignored after the end
    sub.progress(3n); // ignored too
    expect(await take(iterator, 2)).toEqual([1, 2]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("ends a consumer that is waiting", async () => {
    const { sub, it: iterator } = subscription();
    const pending = iterator.next();
    expect(await peek(pending)).toBe("pending");
    sub.end();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it("ends with an error: the queued events are dropped and the error is thrown at once", async () => {
    const { sub, onEnd, it: iterator } = subscription();
    sub.offer(event(1));
    const error = new ConnectError("gone", Code.Unavailable);
    sub.end(error);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(await rejectionOf(iterator.next())).toBe(error);
  });

  it("calls onEnd once however often it is ended", async () => {
    const { sub, onEnd, it: iterator } = subscription({ bufferSize: 1 });
    sub.offer(event(1));
    sub.offer(event(2)); // overflow ends it
    sub.end();
    sub.end(new ConnectError("later", Code.Internal));
    expect(onEnd).toHaveBeenCalledTimes(1);
    // The first ending wins.
    expect((await rejectionOf(iterator.next())).code).toBe(Code.ResourceExhausted);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it("ends (and unsubscribes via onEnd) when the consumer returns early", async () => {
    const { sub, onEnd } = subscription();
    sub.offer(event(1));
    sub.offer(event(2));
    for await (const item of sub) {
      expect(item.revision).toBe(1n);
      break;
    }
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(onEnd).toHaveBeenCalledWith(sub);
    sub.offer(event(3)); // no longer queued: nothing can overflow or leak
  });

  it("ends when a waiting consumer returns", async () => {
    const { sub, onEnd, it: iterator } = subscription();
    sub.offer(event(1));
    await take(iterator, 1);
    await iterator.return!(undefined);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("ends when the consumer completes after a clean end", async () => {
    const { sub, onEnd } = subscription();
    sub.offer(event(1));
    sub.end();
    const seen: bigint[] = [];
    for await (const item of sub) seen.push(item.revision);
    expect(seen).toEqual([1n]);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it("delivers a long stream without loss while the consumer keeps up", async () => {
    const { sub, onEnd, it: iterator } = subscription({ bufferSize: 8 });
    const seen: number[] = [];
    for (let revision = 1; revision <= 5000; revision++) {
      sub.offer(event(revision));
      if (revision % 8 === 0) seen.push(...(await take(iterator, 8)));
    }
    expect(onEnd).not.toHaveBeenCalled();
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  describe("bytes", () => {
    it("counts the live events queued (value, key and 65 bytes of fields), not the replay, and what its sink holds", async () => {
      const sink = fakeSink(1000);
      const { sub, it: iterator } = subscription({ replay: [valueEvent(1, 5000)], sink });
      expect(sub.queuedBytes).toBe(1000);
      sub.offer(valueEvent(2, 100));
      sub.offer(valueEvent(3, 200));
      expect(sub.queuedBytes).toBe(1000 + 165 + 265);
      await take(iterator, 2);
      expect(sub.queuedBytes).toBe(1000 + 265);
      sink.queuedBytes = 0;
      await take(iterator, 1);
      expect(sub.queuedBytes).toBe(0);
    });

    it("cuts off a watcher past maxBytes, its sink included, naming the revision to resume from", async () => {
      const sink = fakeSink(600);
      const { sub, onEnd, it: iterator } = subscription({ maxBytes: 1000, start: 7, sink });
      sub.offer(valueEvent(8, 200)); // 600 + 265
      expect(onEnd).not.toHaveBeenCalled();
      sub.offer(valueEvent(9, 100)); // would make 1030
      expect(onEnd).toHaveBeenCalledTimes(1);
      expect(sub.isCut).toBe(true);
      expect(sub.queuedBytes).toBe(600); // the queue is dropped; the sink still holds its part
      const error = await iterator.next().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect([(error as ConnectError).code, (error as ConnectError).rawMessage]).toEqual([
        Code.ResourceExhausted,
        "watcher fell behind by more than 1000 bytes; resume from revision 7",
      ]);
      expect(sink.reset).not.toHaveBeenCalled(); // resetting is the hub's call
    });

    it("lets a watcher with nothing queued take an event larger than maxBytes", async () => {
      const { sub, onEnd, it: iterator } = subscription({ maxBytes: 1000 });
      sub.offer(valueEvent(1, 5000));
      expect(onEnd).not.toHaveBeenCalled();
      expect(await take(iterator, 1)).toEqual([1]);
    });

    it("has no byte limit with maxBytes 0", () => {
      const { sub, onEnd } = subscription({ maxBytes: 0, sink: fakeSink(1e9) });
      sub.offer(valueEvent(1, 1e6));
      sub.offer(valueEvent(2, 1e6));
      expect(onEnd).not.toHaveBeenCalled();
    });
  });

  describe("sendingSince", () => {
    it("is the time an item was handed to the consumer until the consumer asks for the next", async () => {
      const clock = new ManualClock(1000n);
      const { sub, it: iterator } = subscription({ clock });
      expect(sub.sendingSince).toBeUndefined();
      sub.offer(event(1));
      sub.offer(event(2));
      await take(iterator, 1);
      expect(sub.sendingSince).toBe(1000n);
      clock.advance(5n);
      await take(iterator, 1);
      expect(sub.sendingSince).toBe(1005n);
      const waiting = iterator.next(); // took item 2; now waits for more
      expect(await peek(waiting)).toBe("pending");
      expect(sub.sendingSince).toBeUndefined();
    });

    it("is cleared when the consumer goes away", async () => {
      const { sub, it: iterator } = subscription();
      sub.offer(event(1));
      await take(iterator, 1);
      await iterator.return!(undefined);
      expect(sub.sendingSince).toBeUndefined();
    });
  });

  it("cut: ends with RESOURCE_EXHAUSTED giving the reason and the revision to resume from, after the message being sent", async () => {
    const { sub, onEnd, it: iterator } = subscription({ start: 3 });
    sub.offer(event(4));
    sub.offer(event(5));
    await take(iterator, 1);
    sub.cut("watcher took no message for 1s");
    expect(onEnd).toHaveBeenCalledTimes(1);
    const error = await iterator.next().catch((e: unknown) => e);
    expect((error as ConnectError).rawMessage).toBe("watcher took no message for 1s; resume from revision 4");
  });
});
