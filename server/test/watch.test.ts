import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { KeyEvent, type Event, type WatchKeyValueResponse } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/store/clock.js";
import { fnv1a64 } from "../src/store/fnv1a64.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients, protocols, type Protocol } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { millis, pollUntil, revisionIn, WatchScope, writeUntilSeen, type Watcher } from "./kit/watch-helpers.js";

type Kv = ReturnType<typeof createClients>["kv"];
type WatchRequest = Parameters<Kv["watchStream"]>[0];
type WatchKeyValueRequest = Parameters<Kv["watchKeyValue"]>[0];

const second = 1_000_000_000n;
const seconds = (n: number) => millis(n * 1000);

/** [key, event name, client id] of an event, for readable comparisons. */
const brief = (e: Event) => [e.key, KeyEvent[e.event], e.clientId];

/** [event name, value text, version, event client id] of a WatchKeyValue message. */
const briefValue = (m: WatchKeyValueResponse) => [KeyEvent[m.keyEvent], text(m.value), m.version, m.eventClientId];

/** Nanoseconds since the epoch of a Timestamp. */
const nanos = (t: Timestamp | undefined) => (t === undefined ? undefined : t.seconds * second + BigInt(t.nanos));

/** The latest revision, from Stats. */
const latestRevision = async (kv: Kv) => (await kv.stats({})).revision!;

/** Takes the next `count` messages that are not progress messages (skipping those). */
async function takeEvents<T extends { progress: boolean }>(watcher: Watcher<T>, count: number): Promise<T[]> {
  const events: T[] = [];
  while (events.length < count) {
    const item = await watcher.next();
    if (!item.progress) events.push(item);
  }
  return events;
}

/**
 * The events up to the first progress message at `revision` or later: since
 * progress is sent only when nothing is waiting, these are all the stream's
 * events up to that revision. (The watcher needs a progress_interval.)
 */
async function eventsThrough<T extends { progress: boolean; revision: bigint }>(watcher: Watcher<T>, revision: bigint): Promise<T[]> {
  const items = await watcher.takeUntil((item) => item.progress && item.revision >= revision);
  return items.filter((item) => !item.progress);
}

/** Waits for a watcher's stream to end (failing after `timeoutMs`) and returns its error, if any. */
async function endOf(
  watcher: Pick<Watcher<unknown>, "done" | "ended" | "waitUntil">,
  timeoutMs = 5000,
): Promise<ConnectError | undefined> {
  await watcher.waitUntil(() => watcher.done, "the end of the stream", timeoutMs);
  return watcher.ended;
}

/** Waits for the first progress message of a watcher (the server has subscribed it by then). */
async function subscribed<T extends { progress: boolean }>(watcher: Watcher<T>): Promise<void> {
  const first = await watcher.next();
  expect(first.progress).toBe(true);
}

/** Watch helpers bound to a scope that cancels every stream after each test. */
function watching(scope: WatchScope) {
  return {
    watchStream: (kv: Kv, request: WatchRequest) => scope.open((signal) => kv.watchStream(request, { signal })),
    watchKeyValue: (kv: Kv, request: WatchKeyValueRequest) => scope.open((signal) => kv.watchKeyValue(request, { signal })),
  };
}

describe.each(protocols)("watching over %s", (protocol) => {
  const clock = new ManualClock();
  const scope = new WatchScope();
  const { watchStream, watchKeyValue } = watching(scope);
  let test: TestServer;
  let alice: Kv;
  let bob: Kv;
  let carol: Kv;
  let admin: ReturnType<typeof createClients>["admin"];

  beforeAll(async () => {
    test = await startTestServer({ minLockDuration: second, minLifespan: second, privilegedClientId: "admin" }, { clock });
    admin = createClients(protocol, test.url, "admin").admin;
    alice = createClients(protocol, test.url, "alice").kv;
    bob = createClients(protocol, test.url, "bob").kv;
    carol = createClients(protocol, test.url, "carol").kv;
  });
  afterEach(() => scope.cancelAll());
  afterAll(() => test.close());

  // First in this describe: no other watcher has existed on this server, so
  // no other event can come in between and revisions must be consecutive.
  it("streams every change as it happens, in order, with consecutive revisions ending at Stats.revision", async () => {
    const start = await latestRevision(alice);
    expect(start).toBeGreaterThan(0n); // the reserved keys' CREATED events
    const watcher = watchStream(carol, { startRevision: start });
    const t0 = clock.now();
    await alice.set({ key: "a", value: bytes("1") });
    await bob.set({ key: "a", value: bytes("2") });
    await bob.get({ key: "a" });
    await alice.inspect({ key: "a", includeValue: true });
    await alice.lock({ key: "b", duration: seconds(5), createIfMissing: true });
    await alice.unlock({ key: "b" });
    await alice.set({ key: "c", value: bytes("x"), lifespan: seconds(2) });
    await alice.set({ key: "c", value: bytes("x") }); // same value: lifespan renewed, no UPDATED
    clock.advance(2n * second);
    await bob.exists({ key: "c" });
    await bob.pop({ key: "a" });
    await alice.clear({ force: false });
    const events = await watcher.take(14);
    expect(events.map(brief)).toEqual([
      ["a", "CREATED", "alice"],
      ["a", "UPDATED", "bob"],
      ["a", "ACCESSED", "bob"],
      ["a", "ACCESSED", "alice"],
      ["b", "CREATED", "alice"],
      ["b", "LOCKED", "alice"],
      ["b", "UNLOCKED", "alice"],
      ["c", "CREATED", "alice"],
      ["c", "LIFESPAN_SET", "alice"],
      ["c", "LIFESPAN_RENEWED", "alice"],
      ["c", "EXPIRED", "keyquarry"],
      ["a", "ACCESSED", "bob"],
      ["a", "DELETED", "bob"],
      ["b", "DELETED", "alice"],
    ]);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => start + 1n + BigInt(i)));
    expect(events.every((e) => !e.progress)).toBe(true);
    expect(nanos(events[0]!.time)).toBe(t0);
    // The expiry happened at the lifespan's deadline, whenever it was noticed.
    expect(nanos(events[10]!.time)).toBe(t0 + 2n * second);
    expect(await latestRevision(bob)).toBe(events.at(-1)!.revision);
    expect(watcher.items).toHaveLength(14); // nothing else
  });

  it("filters by keys, events and client ids, AND-ed, with several streams for one client id", async () => {
    const request = { progressInterval: millis(100) };
    const everything = watchStream(carol, request);
    const byKey = watchStream(carol, { ...request, keys: ["f-a", "f-c"] });
    const byEvent = watchStream(carol, { ...request, events: [KeyEvent.UPDATED, KeyEvent.DELETED] });
    const byClient = watchStream(carol, { ...request, clientIds: ["bob"] });
    const all3 = watchStream(carol, { ...request, keys: ["f-a"], events: [KeyEvent.UPDATED], clientIds: ["bob"] });
    const watchers = [everything, byKey, byEvent, byClient, all3];
    await Promise.all(watchers.map(subscribed));

    await alice.set({ key: "f-a", value: bytes("1") });
    await bob.set({ key: "f-a", value: bytes("2") });
    await alice.set({ key: "f-b", value: bytes("1") });
    await bob.set({ key: "f-c", value: bytes("1") });
    await alice.set({ key: "f-a", value: bytes("3") });
    await bob.delete({ key: "f-b" });
    await bob.set({ key: "f-a", value: bytes("4") });
    await alice.delete({ key: "f-c" });
    const latest = await latestRevision(alice);

    const [all, keyed, kinds, bobs, combined] = await Promise.all(watchers.map((w) => eventsThrough(w, latest)));
    expect(all!.map(brief)).toEqual([
      ["f-a", "CREATED", "alice"],
      ["f-a", "UPDATED", "bob"],
      ["f-b", "CREATED", "alice"],
      ["f-c", "CREATED", "bob"],
      ["f-a", "UPDATED", "alice"],
      ["f-b", "DELETED", "bob"],
      ["f-a", "UPDATED", "bob"],
      ["f-c", "DELETED", "alice"],
    ]);
    expect(keyed).toEqual(all!.filter((e) => e.key === "f-a" || e.key === "f-c"));
    expect(kinds).toEqual(all!.filter((e) => e.event === KeyEvent.UPDATED || e.event === KeyEvent.DELETED));
    expect(bobs).toEqual(all!.filter((e) => e.clientId === "bob"));
    expect(combined!.map(brief)).toEqual([
      ["f-a", "UPDATED", "bob"],
      ["f-a", "UPDATED", "bob"],
    ]);
    expect(combined).toEqual(all!.filter((e) => e.key === "f-a" && e.event === KeyEvent.UPDATED && e.clientId === "bob"));
    expect(watchers.some((w) => w.done)).toBe(false);
  });

  it("WatchKeyValue sends the current value at once, then each change with the value at that event", async () => {
    const key = "kv-a";
    await alice.set({ key, value: bytes("one") });
    // Everything that happens to the key, including the watcher's accesses.
    const observer = watchStream(alice, { keys: [key], progressInterval: millis(100) });
    await subscribed(observer);
    const watcher = watchKeyValue(carol, { key });

    const initial = await watcher.next();
    expect(initial).toMatchObject({
      key,
      value: bytes("one"),
      hash: fnv1a64(bytes("one")),
      version: 1n,
      contentType: "text/plain; charset=utf-8",
      keyEvent: KeyEvent.NO_EVENT,
      eventClientId: "keyquarry",
      progress: false,
    });
    expect(initial.eventTimestamp).toBeUndefined();
    // Sending the value was an access by the watcher, and the message names its revision: the latest.
    const [accessed] = await takeEvents(observer, 1);
    expect(brief(accessed!)).toEqual([key, "ACCESSED", "carol"]);
    expect(initial.revision).toBe(accessed!.revision);
    expect(await latestRevision(alice)).toBe(initial.revision);

    await bob.set({ key, value: bytes("two") });
    const updated = await watcher.next();
    expect(briefValue(updated)).toEqual(["UPDATED", "two", 2n, "bob"]);
    expect(updated.hash).toBe(fnv1a64(bytes("two")));
    expect(nanos(updated.eventTimestamp)).toBe(clock.now());
    expect((await takeEvents(observer, 2)).map((e) => [...brief(e), e.revision])).toEqual([
      [key, "UPDATED", "bob", updated.revision],
      [key, "ACCESSED", "carol", updated.revision + 1n],
    ]);

    // Removals carry the last value (the original sent none, §15.24); the key is gone, so no access.
    await bob.delete({ key });
    const deleted = await watcher.next();
    expect(briefValue(deleted)).toEqual(["DELETED", "two", 2n, "bob"]);
    expect(deleted.hash).toBe(fnv1a64(bytes("two")));

    await alice.set({ key, value: bytes("three") });
    const created = await watcher.next();
    expect(briefValue(created)).toEqual(["CREATED", "three", 1n, "alice"]);

    const lifespanSetAt = clock.now();
    await alice.set({ key, value: bytes("four"), lifespan: seconds(2) });
    expect(briefValue(await watcher.next())).toEqual(["UPDATED", "four", 2n, "alice"]);
    clock.advance(2n * second);
    await bob.exists({ key }); // applies the expiry
    const expired = await watcher.next();
    expect(briefValue(expired)).toEqual(["EXPIRED", "four", 2n, "keyquarry"]);
    expect(nanos(expired.eventTimestamp)).toBe(lifespanSetAt + 2n * second);

    expect((await takeEvents(observer, 6)).map(brief)).toEqual([
      [key, "DELETED", "bob"],
      [key, "CREATED", "alice"],
      [key, "ACCESSED", "carol"],
      [key, "LIFESPAN_SET", "alice"],
      [key, "UPDATED", "alice"],
      [key, "ACCESSED", "carol"],
    ]);
    const [expiredEvent] = await takeEvents(observer, 1);
    expect(brief(expiredEvent!)).toEqual([key, "EXPIRED", "keyquarry"]);
    expect(expired.revision).toBe(expiredEvent!.revision);
    // Every message of the watcher is a distinct, growing revision; the stream stays open.
    const revisions = watcher.items.map((m) => m.revision);
    expect([...revisions].sort((x, y) => (x < y ? -1 : 1))).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(watcher.done).toBe(false);
  });

  it("WatchKeyValue sends EXPUNGED, with the last value, when pruning removes the key", async () => {
    const key = "kv-pruned";
    await alice.set({ key, value: bytes("old") });
    const watcher = watchKeyValue(carol, { key });
    expect(briefValue(await watcher.next())).toEqual(["NO_EVENT", "old", 1n, "keyquarry"]);
    const others = (await alice.listKeys({})).keys.filter((k) => k !== key);
    expect((await admin.prune({ pruneTo: 0n, ignoreKeys: others })).pruned).toBe(1n);
    const expunged = await watcher.next();
    expect(briefValue(expunged)).toEqual(["EXPUNGED", "old", 1n, "keyquarry"]);
    expect(expunged.hash).toBe(fnv1a64(bytes("old")));
  });

  it("WatchKeyValue watches a key before it exists", async () => {
    const key = "kv-later";
    const watcher = watchKeyValue(carol, { key, progressInterval: millis(100) });
    const first = await watcher.next();
    expect(first).toMatchObject({ key, progress: true, keyEvent: KeyEvent.NO_EVENT });
    expect(first.revision).toBe(await latestRevision(alice));
    await alice.set({ key, value: bytes("hello") });
    const [created] = await takeEvents(watcher, 1);
    expect(briefValue(created!)).toEqual(["CREATED", "hello", 1n, "alice"]);
    expect(created!.contentType).toBe("text/plain; charset=utf-8");
  });

  it("WatchKeyValue hides what another client writes under its lock until the UNLOCKED, which carries the value", async () => {
    const key = "kv-locked";
    await bob.lock({ key, duration: seconds(30), createIfMissing: true });
    await bob.set({ key, value: bytes("bob's draft") });
    // Locked by another client: no initial value.
    const watcher = watchKeyValue(carol, { key, progressInterval: millis(100) });
    await subscribed(watcher);
    await bob.set({ key, value: bytes("bob's final") });
    await bob.unlock({ key });
    const [unlocked] = await takeEvents(watcher, 1);
    expect(briefValue(unlocked!)).toEqual(["UNLOCKED", "bob's final", 3n, "bob"]);

    // A lock that times out releases the value too, by the server.
    await alice.lock({ key, duration: seconds(5) });
    await alice.set({ key, value: bytes("alice's") });
    clock.advance(5n * second);
    await bob.exists({ key });
    const [expiredLock] = await takeEvents(watcher, 1);
    expect(briefValue(expiredLock!)).toEqual(["UNLOCKED", "alice's", 4n, "keyquarry"]);

    // The watcher's own lock hides nothing from it.
    await carol.lock({ key, duration: seconds(5) });
    await carol.set({ key, value: bytes("carol's") });
    const [own] = await takeEvents(watcher, 1);
    expect(briefValue(own!)).toEqual(["UPDATED", "carol's", 5n, "carol"]);
    await carol.unlock({ key });
    expect(briefValue((await takeEvents(watcher, 1))[0]!)).toEqual(["UNLOCKED", "carol's", 5n, "carol"]);
  });

  // Regression: a Set with lock_duration creating a key once showed its value to other clients' watchers.
  it("WatchKeyValue does not send the value of a key another client creates already locked", async () => {
    const key = "kv-created-locked";
    const watcher = watchKeyValue(carol, { key, progressInterval: millis(100) });
    await subscribed(watcher);
    await bob.set({ key, value: bytes("secret"), lockDuration: seconds(30) });
    await bob.unlock({ key });
    const [first] = await takeEvents(watcher, 1);
    expect(briefValue(first!)).toEqual(["UNLOCKED", "secret", 1n, "bob"]);
  });

  it("WatchKeyValue sends the current value to the client holding the lock", async () => {
    const key = "kv-mine";
    await carol.set({ key, value: bytes("held"), lockDuration: seconds(30) });
    const watcher = watchKeyValue(carol, { key });
    expect(briefValue(await watcher.next())).toEqual(["NO_EVENT", "held", 1n, "keyquarry"]);
    await carol.unlock({ key });
  });

  it("resumes a WatchStream from a revision: the events after it, then live ones, without gap or duplicate", async () => {
    const keys = ["r-1", "r-2"];
    // A reference watcher, live from before the first write.
    const reference = watchStream(bob, { keys, progressInterval: millis(100) });
    await subscribed(reference);
    const from = await latestRevision(alice);
    for (let i = 0; i < 5; i++) await alice.set({ key: keys[i % 2]!, value: bytes(`before ${i}`) });
    const resumed = watchStream(carol, { keys, startRevision: from });
    for (let i = 0; i < 5; i++) await bob.set({ key: keys[i % 2]!, value: bytes(`after ${i}`) });
    const latest = await latestRevision(alice);
    const expected = await eventsThrough(reference, latest);
    expect(expected).toHaveLength(10);
    expect(await resumed.take(10)).toEqual(expected);
    expect(expected[0]!.revision).toBe(from + 1n);
  });

  it("resumes a WatchKeyValue from a revision: no current value, the key's changes after it", async () => {
    const key = "r-kv";
    await alice.set({ key, value: bytes("0") });
    const from = await latestRevision(alice);
    await alice.set({ key, value: bytes("1") });
    await bob.set({ key: "r-other", value: bytes("x") });
    await bob.set({ key, value: bytes("2") });
    const watcher = watchKeyValue(carol, { key, startRevision: from });
    const replayed = await watcher.take(2);
    expect(replayed.map(briefValue)).toEqual([
      ["UPDATED", "1", 2n, "alice"],
      ["UPDATED", "2", 3n, "bob"],
    ]);
    expect(replayed[0]!.revision).toBe(from + 1n);
    await alice.delete({ key });
    expect(briefValue(await watcher.next())).toEqual(["DELETED", "2", 3n, "alice"]);
  });

  it("refuses a start revision ahead of the server's latest with OUT_OF_RANGE", async () => {
    const ahead = (await latestRevision(alice)) + 1000n;
    for (const watcher of [
      watchStream(carol, { startRevision: ahead }),
      watchKeyValue(carol, { key: "x", startRevision: ahead }),
    ]) {
      const error = await endOf(watcher);
      expect(error?.code).toBe(Code.OutOfRange);
      expect(error?.rawMessage).toMatch(new RegExp(`^revision ${ahead} is ahead of the server's latest revision \\d+`));
    }
  });

  it("sends a progress message at once and then whenever the stream is idle", async () => {
    const latest = await latestRevision(alice);
    const watcher = watchStream(carol, { keys: ["p"], progressInterval: millis(100) });
    const first = await watcher.next();
    expect(first).toMatchObject({ progress: true, revision: latest, key: "", event: KeyEvent.NO_EVENT });
    await alice.set({ key: "other", value: bytes("x") }); // not watched: only progress shows it
    const after = await latestRevision(alice);
    const later = await watcher.takeUntil((m) => m.progress && m.revision === after);
    expect(later.every((m) => m.progress)).toBe(true);
    await alice.set({ key: "p", value: bytes("1") });
    const [event] = await takeEvents(watcher, 1);
    expect(brief(event!)).toEqual(["p", "CREATED", "alice"]);
    // Idle again: more progress follows.
    expect((await watcher.next()).progress).toBe(true);
  });

  it("sends the first progress message after the replay", async () => {
    const from = await latestRevision(alice);
    for (let i = 0; i < 3; i++) await alice.set({ key: "pr", value: bytes(String(i)) });
    const latest = await latestRevision(alice);
    const watcher = watchStream(carol, { keys: ["pr"], startRevision: from, progressInterval: millis(200) });
    const items = await watcher.take(4);
    expect(items.map((m) => [m.progress, m.revision])).toEqual([
      [false, from + 1n],
      [false, from + 2n],
      [false, from + 3n],
      [true, latest],
    ]);
  });

  it("sends WatchKeyValue progress messages naming the key", async () => {
    await alice.set({ key: "pkv", value: bytes("v") });
    const watcher = watchKeyValue(carol, { key: "pkv", progressInterval: millis(100) });
    const initial = await watcher.next();
    expect(initial.keyEvent).toBe(KeyEvent.NO_EVENT);
    expect(initial.progress).toBe(false);
    const progress = await watcher.next();
    expect(progress).toMatchObject({ key: "pkv", progress: true, revision: initial.revision, value: new Uint8Array(0) });
    expect((await watcher.next()).progress).toBe(true);
  });

  it("refuses a progress interval under 100 ms with INVALID_ARGUMENT", async () => {
    for (const watcher of [
      watchStream(carol, { progressInterval: millis(99) }),
      watchKeyValue(carol, { key: "x", progressInterval: millis(50) }),
    ]) {
      const error = await endOf(watcher);
      expect([error?.code, error?.rawMessage]).toEqual([Code.InvalidArgument, "progress_interval must be at least 100ms"]);
    }
    const exactly = watchStream(carol, { progressInterval: millis(100) });
    expect((await exactly.next()).progress).toBe(true);
  });
});

describe.each(protocols)("resuming from a compacted event log over %s", (protocol) => {
  const scope = new WatchScope();
  const { watchStream, watchKeyValue } = watching(scope);
  let test: TestServer;
  let alice: Kv;

  beforeAll(async () => {
    test = await startTestServer({ eventLogSize: 8 });
    alice = createClients(protocol, test.url, "alice").kv;
  });
  afterEach(() => scope.cancelAll());
  afterAll(() => test.close());

  // Must run before any write. Regression: a fresh server once accepted start_revision 0 and skipped the reserved keys' events.
  it("refuses, on a fresh server, a start revision older than the log holds (it holds the reserved keys' events)", async () => {
    const latest = await latestRevision(alice);
    expect(latest).toBeGreaterThan(0n);
    const watcher = watchStream(alice, { startRevision: 0n, progressInterval: millis(100) });
    // Either it fails, or it sends its first progress message at once.
    await watcher.waitUntil(() => watcher.done || watcher.items.length > 0, "an error or a message");
    expect(watcher.items).toEqual([]);
    const error = await watcher.ended;
    expect(error?.code).toBe(Code.OutOfRange);
    // The log (8 events here) starts with the reserved keys' CREATED events.
    expect(error?.rawMessage).toContain(`the oldest revision available is ${latest - 7n}`);
  });

  it("refuses a start revision older than the log holds with OUT_OF_RANGE naming the oldest available", async () => {
    for (let i = 0; i < 20; i++) await alice.set({ key: "c", value: bytes(String(i)) });
    const latest = await latestRevision(alice);
    const oldest = latest - 7n; // the log holds the last 8 events

    const tooOld = watchStream(alice, { startRevision: 0n });
    const error = await endOf(tooOld);
    expect(error?.code).toBe(Code.OutOfRange);
    expect(revisionIn(error!.rawMessage, /oldest revision available is (\d+)/)).toBe(oldest);
    const tooOldKv = watchKeyValue(alice, { key: "c", startRevision: oldest - 2n });
    const kvError = await endOf(tooOldKv);
    expect(kvError?.code).toBe(Code.OutOfRange);
    expect(kvError?.rawMessage).toContain(`oldest revision available is ${oldest}`);

    // Resuming right before the oldest held event replays all 8.
    const resumed = watchStream(alice, { startRevision: oldest - 1n });
    expect((await resumed.take(8)).map((e) => e.revision)).toEqual(Array.from({ length: 8 }, (_, i) => oldest + BigInt(i)));
    const resumedKv = watchKeyValue(alice, { key: "c", startRevision: oldest - 1n });
    expect((await resumedKv.take(8)).map((m) => text(m.value))).toEqual(Array.from({ length: 8 }, (_, i) => String(12 + i)));
  });
});

describe.each(protocols)("subscriber limit and counting over %s", (protocol) => {
  const scope = new WatchScope();
  const { watchStream, watchKeyValue } = watching(scope);
  let test: TestServer;
  let alice: Kv;

  beforeAll(async () => {
    test = await startTestServer({ eventStreamSubscriberLimit: 2 });
    alice = createClients(protocol, test.url, "alice").kv;
  });
  afterEach(() => scope.cancelAll());
  afterAll(() => test.close());

  const subscribers = async () => (await alice.stats({})).eventSubscribers;

  it("refuses streams past event_stream_subscriber_limit with RESOURCE_EXHAUSTED, and counts open ones in Stats", async () => {
    expect(await subscribers()).toBe(0n);
    // One client id may hold several streams.
    const first = watchStream(alice, { progressInterval: millis(100) });
    const second_ = watchKeyValue(alice, { key: "k", progressInterval: millis(100) });
    await subscribed(first);
    await subscribed(second_);
    expect(await subscribers()).toBe(2n);

    for (const refused of [watchStream(alice, {}), watchKeyValue(alice, { key: "k" })]) {
      const error = await endOf(refused);
      expect([error?.code, error?.rawMessage]).toEqual([Code.ResourceExhausted, "subscriber limit reached: 2"]);
    }
    expect(await subscribers()).toBe(2n);

    // A client that cancels frees its place.
    first.cancel();
    expect(await pollUntil(subscribers, (n) => n === 1n)).toBe(1n);
    const third = watchStream(alice, { progressInterval: millis(100) });
    await subscribed(third);
    expect(await subscribers()).toBe(2n);
    second_.cancel();
    third.cancel();
    expect(await pollUntil(subscribers, (n) => n === 0n)).toBe(0n);
  });
});

describe.each(protocols)("shutdown over %s", (protocol) => {
  const scope = new WatchScope();
  // HTTP/1.1 clients get their own keep-alive agent, so that the test can drop its connections.
  const agent = new http.Agent({ keepAlive: true });
  let test: TestServer | undefined;
  let closing: Promise<void> | undefined;

  afterEach(async () => {
    scope.cancelAll();
    agent.destroy();
    await (closing ?? test?.close());
    test = undefined;
    closing = undefined;
  });

  /** A client of `test` for `protocol` whose HTTP/1.1 connections come from `agent`. */
  function client(url: string, clientId: string): Kv {
    return createClients(protocol, url, clientId, { http1: { agent } }).kv;
  }

  /** A server with watch streams of every kind open on it, each known to be subscribed. */
  async function serverWithWatchers() {
    // No forced close: if close() waited for the streams, it would not finish.
    test = await startTestServer({ gracefulShutdownTimeout: 0n });
    const alice = client(test.url, "alice");
    await alice.set({ key: "k", value: bytes("v") });
    const from = await latestRevision(alice);
    const stream = scope.open((signal) => alice.watchStream({ progressInterval: millis(100) }, { signal }));
    const filtered = scope.open((signal) => alice.watchStream({ keys: ["k"], startRevision: from }, { signal }));
    const value = scope.open((signal) => alice.watchKeyValue({ key: "k" }, { signal }));
    await subscribed(stream);
    await value.next();
    await alice.set({ key: "k", value: bytes("w") });
    await filtered.next();
    await value.next();
    return [stream, filtered, value];
  }

  it("ends a stream that asked for progress with a mark of the latest revision (to resume from), others without", async () => {
    test = await startTestServer({ gracefulShutdownTimeout: 0n });
    const alice = client(test.url, "alice");
    const marked = scope.open((signal) => alice.watchStream({ keys: ["other"], progressInterval: seconds(60) }, { signal }));
    const plain = scope.open((signal) => alice.watchStream({ keys: ["k"] }, { signal }));
    await subscribed(marked);
    // The event only `plain` sees, from which `marked` could not tell the revision.
    await writeUntilSeen(plain, () => alice.set({ key: "k", value: bytes("v") }));
    const latest = await latestRevision(alice);
    closing = test.close();
    expect(await endOf(marked)).toBeUndefined();
    expect(await endOf(plain)).toBeUndefined();
    expect(marked.items.map((item) => [item.progress, item.revision])).toEqual([
      [true, expect.any(BigInt)],
      [true, latest],
    ]);
    expect(plain.items.every((item) => !item.progress && item.key === "k")).toBe(true);
  });

  it("ends every watch stream cleanly", async () => {
    const watchers = await serverWithWatchers();
    closing = test!.close();
    for (const watcher of watchers) {
      expect(await endOf(watcher)).toBeUndefined();
    }
  });

  // Regression: HTTP/1.1 connections whose watch responses ended during close() once kept close() waiting.
  it("does not let close() wait for the connections of the streams it ended", async () => {
    const watchers = await serverWithWatchers();
    closing = test!.close();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      closing.then(() => "closed"),
      new Promise((resolve) => (timer = setTimeout(() => resolve("close() still waiting after 2 s"), 2000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe("closed");
    for (const watcher of watchers) {
      expect(await endOf(watcher)).toBeUndefined();
    }
  });
});

describe("1000 concurrent watchers over grpc", () => {
  const scope = new WatchScope();
  let test: TestServer;
  beforeAll(async () => {
    // All of one client id: past the default per-client limit.
    test = await startTestServer({ eventStreamClientLimit: 0 });
  });
  afterAll(async () => {
    scope.cancelAll();
    await test.close();
  });

  it("all see the same sequence of events", async () => {
    const count = 30;
    // One client, one HTTP/2 connection: 1000 streams multiplexed on it.
    const watcherClient = createClients("grpc", test.url, "watcher").kv;
    const writer = createClients("grpc", test.url, "writer").kv;
    const start = await latestRevision(writer);
    const watchers = Array.from({ length: 1000 }, () =>
      scope.open((signal) => watcherClient.watchStream({ startRevision: start }, { signal })),
    );
    for (let i = 0; i < count; i++) {
      await writer.set({ key: `w${i}`, value: bytes(String(i)) });
    }
    const expected = Array.from({ length: count }, (_, i) => [`w${i}`, "CREATED", "writer", start + 1n + BigInt(i)]);
    const seen = await Promise.all(watchers.map((w) => w.take(count, 20_000)));
    for (const events of seen) {
      expect(events.map((e) => [...brief(e), e.revision])).toEqual(expected);
    }
    expect((await writer.stats({})).eventSubscribers).toBe(1000n);
    scope.cancelAll();
    const left = await pollUntil(
      async () => (await writer.stats({})).eventSubscribers,
      (n) => n === 0n,
    );
    expect(left).toBe(0n);
  });
});

/** What happened to a watcher that stopped reading. */
interface Stall {
  /** Every event after the start, as a healthy watcher of the key saw it. */
  healthy: Event[];
  /** Revision of the first event after the stalled watcher subscribed. */
  start: bigint;
  /** The latest revision at the end. */
  latest: bigint;
  /** The value messages the stalled watcher received before its error. */
  received: WatchKeyValueResponse[];
  error: ConnectError | undefined;
  /** Messages of the stalled watcher resumed from its last received revision, up to `latest`. */
  resumed: WatchKeyValueResponse[];
  /** The number of the write whose value a message carries (its values are 64 KiB, numbered). */
  writeOf(message: WatchKeyValueResponse): number;
}

/**
 * A writer sets one key over and over with 64 KiB values while two clients
 * watch it: one reads everything, the other reads its first messages and then
 * stops, so flow control backs up to the server. Writes go on until the server
 * has cut the stalled watcher off (Stats.event_subscribers drops), plus a few
 * more. Then the stalled watcher reads what it has, and resumes.
 */
async function stall(protocol: Protocol, scope: WatchScope): Promise<Stall> {
  // A long send timeout: the cut is by event count, and the stalled watcher gets the error once it reads again.
  const test = await startTestServer({ eventStreamBufferSize: 16, eventStreamSendTimeout: 60_000_000_000n });
  try {
    // Three clients, three connections: the stalled one backs up only its own.
    const writer = createClients(protocol, test.url, "writer").kv;
    const healthyClient = createClients(protocol, test.url, "healthy").kv;
    const stalledClient = createClients(protocol, test.url, "stalled").kv;
    const key = "slow";
    const valueOf = (n: number) => {
      const value = new Uint8Array(64 * 1024);
      new DataView(value.buffer).setUint32(0, n);
      return value;
    };
    await writer.set({ key, value: valueOf(0) });
    const start = await latestRevision(writer);
    const healthy = scope.open((signal) => healthyClient.watchStream({ keys: [key], startRevision: start }, { signal }));

    const abort = new AbortController();
    scope.track({ cancel: () => abort.abort() });
    const stalled = stalledClient
      .watchKeyValue({ key, progressInterval: millis(100) }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    const received: WatchKeyValueResponse[] = [];
    const initial = await stalled.next();
    expect(initial.value?.keyEvent).toBe(KeyEvent.NO_EVENT);
    received.push(initial.value!);
    expect((await stalled.next()).value?.progress).toBe(true); // subscribed; now it stops reading

    let writes = 0;
    let cutOffAt: number | undefined;
    while (cutOffAt === undefined || writes < cutOffAt + 10) {
      writes++;
      await writer.set({ key, value: valueOf(writes) });
      if (cutOffAt === undefined && writes % 8 === 0 && (await writer.stats({})).eventSubscribers === 1n) {
        cutOffAt = writes;
      }
      if (writes > 1500) {
        throw new Error("the stalled watcher was never cut off");
      }
    }
    const latest = await latestRevision(writer);
    // The healthy watcher got everything, however the stalled one fares.
    await healthy.waitUntil(() => (healthy.items.at(-1)?.revision ?? 0n) >= latest, `revision ${latest}`, 20_000);
    expect(healthy.done).toBe(false);

    let error: ConnectError | undefined;
    try {
      for (;;) {
        const next = await stalled.next();
        if (next.done) break;
        if (!next.value.progress) received.push(next.value);
      }
    } catch (e) {
      error = ConnectError.from(e);
    }

    const last = received.at(-1)!.revision;
    const resumedWatcher = scope.open((signal) =>
      stalledClient.watchKeyValue({ key, startRevision: last, progressInterval: millis(100) }, { signal }),
    );
    const resumed = await eventsThrough(resumedWatcher, latest);
    const writeOf = (m: WatchKeyValueResponse) =>
      m.value.length === 64 * 1024 ? new DataView(m.value.buffer, m.value.byteOffset).getUint32(0) : -1;
    // (Later events are the stalled watcher's accesses as it read the rest.)
    return { healthy: healthy.items.filter((e) => e.revision <= latest), start, latest, received, error, resumed, writeOf };
  } finally {
    scope.cancelAll();
    await test.close();
  }
}

describe.each(["grpc", "connect"] as const)("a stalled watcher over %s", (protocol) => {
  const scope = new WatchScope();
  afterEach(() => scope.cancelAll());

  it("is cut off with RESOURCE_EXHAUSTED while the others get every event, and resumes without loss", async () => {
    const { healthy, start, latest, received, error, resumed, writeOf } = await stall(protocol, scope);

    // The healthy watcher saw every event of the server, in order: the writes,
    // and the stalled watcher's accesses while it was reading.
    expect(healthy.map((e) => e.revision)).toEqual(Array.from({ length: Number(latest - start) }, (_, i) => start + 1n + BigInt(i)));
    const updates = healthy.filter((e) => e.event === KeyEvent.UPDATED);
    const writes = updates.length;
    expect(writes).toBeGreaterThan(26); // cut off, then 10 more

    // The stalled watcher: cut off, told where to resume from, and nothing lost before that.
    expect(error?.code).toBe(Code.ResourceExhausted);
    const named = revisionIn(error!.rawMessage, /^watcher fell behind by more than 16 events; resume from revision (\d+)$/);
    const values = received.slice(1); // after the current value
    expect(values.every((m) => m.keyEvent === KeyEvent.UPDATED)).toBe(true);
    expect(values.map((m) => m.revision)).toEqual(updates.slice(0, values.length).map((e) => e.revision));
    expect(values.map(writeOf)).toEqual(values.map((_, i) => i + 1));
    const last = received.at(-1)!.revision;
    expect(named).toBeLessThanOrEqual(last);
    expect(updates.at(-1)!.revision).toBeGreaterThan(last); // it did miss some

    // Resumed from the last revision it received: exactly the missed values, in order.
    expect(resumed.map((m) => m.revision)).toEqual(updates.slice(values.length).map((e) => e.revision));
    expect(resumed.map((m) => KeyEvent[m.keyEvent])).toEqual(resumed.map(() => "UPDATED"));
    expect(resumed.map(writeOf)).toEqual(updates.slice(values.length).map((_, i) => values.length + i + 1));
    expect(values.length + resumed.length).toBe(writes);
  });

  // Regression: the error once named a revision before the message the transport was still writing.
  it("names in RESOURCE_EXHAUSTED the revision of the last message the watcher received", async () => {
    const { received, error } = await stall(protocol, scope);
    const named = revisionIn(error!.rawMessage, /resume from revision (\d+)$/);
    expect(named).toBe(received.at(-1)!.revision);
  });
});
