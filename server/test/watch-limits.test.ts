import { Code } from "@connectrpc/connect";
import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchKeyValueRequestSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { constants } from "node:http2";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "../src/config/config.js";
import { StallableConnection, type RawWatch } from "./kit/stallable-connection.js";
import { bytes } from "./kit/bytes.js";
import { createClients, protocols } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { millis, pollUntil, WatchScope } from "./kit/watch-helpers.js";

const key = "big";
const valueSize = 900_000;
const maxValueSize = 1_000_000;

/** A value of `valueSize` bytes whose first 4 bytes number it. */
function valueOf(n: number): Uint8Array {
  const value = new Uint8Array(valueSize);
  new DataView(value.buffer).setUint32(0, n);
  return value;
}

/** The number of a value made by {@link valueOf}; -1 for another value. */
function numberOf(value: Uint8Array): number {
  return value.length === valueSize ? new DataView(value.buffer, value.byteOffset).getUint32(0) : -1;
}

/** Waits until `condition` holds (checked every 20 ms), failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const holds = await pollUntil(async () => condition(), (value) => value, timeoutMs);
  if (!holds) throw new Error(`timed out waiting for ${what}`);
}

/** The number of connections the server has open. */
function openConnections(test: TestServer): Promise<number> {
  return new Promise((resolve, reject) => test.server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** What a run of {@link stallAndWrite} saw. */
interface StallRun {
  test: TestServer;
  connections: StallableConnection[];
  slow: RawWatch[];
  /** The numbers of the values the fast watcher received in updates. */
  fastValues: number[];
  /** The numbers of the values written: 1 to the number of writes. */
  written: number[];
  /** The store's revision after the writes. */
  latest: bigint;
  /** The server's open connections once every watcher was open. */
  connectionsOpen: number;
  /** The most bytes the hub counted for all watchers (queued, and in flight), sampled after each write. */
  peakQueued: number;
  peakSending: number;
}

/**
 * Opens `connections` × `perConnection` raw gRPC watchers of one key that stop
 * reading, and one fast watcher (a Connect client reading everything); then
 * sets the key to a 900 KB value `writes` times, and waits until the fast
 * watcher has them all.
 */
async function stallAndWrite(
  scope: WatchScope,
  config: Partial<Config>,
  { connections: connectionCount = 2, perConnection = 5, writes = 40 } = {},
): Promise<StallRun> {
  const test = await startTestServer({ maxValueSize, ...config });
  const writer = createClients("grpc", test.url, "writer").kv;
  await writer.set({ key, value: bytes("small") });
  const connections = await Promise.all(Array.from({ length: connectionCount }, () => StallableConnection.open(test.url)));
  const slow = await Promise.all(
    connections.flatMap((connection) => Array.from({ length: perConnection }, () => connection.watchKeyValue(key, "slow"))),
  );
  const fastClient = createClients("grpc", test.url, "fast").kv;
  const fast = scope.open((signal) => fastClient.watchKeyValue({ key, progressInterval: millis(100) }, { signal }));
  await fast.waitUntil(() => fast.items.some((m) => m.progress), "the fast watcher's first progress mark");
  expect(test.server.hub.size).toBe(slow.length + 1);
  const connectionsOpen = await openConnections(test);
  for (const connection of connections) connection.stopReading();

  const written: number[] = [];
  let peakQueued = 0;
  let peakSending = 0;
  for (let i = 1; i <= writes; i++) {
    await writer.set({ key, value: valueOf(i) });
    written.push(i);
    peakQueued = Math.max(peakQueued, test.server.hub.queuedBytes);
    peakSending = Math.max(peakSending, test.server.hub.sendingBytes);
  }
  const latest = test.server.store.revision;
  await fast.waitUntil(() => fast.items.some((m) => numberOf(m.value) === writes), `the fast watcher's value ${writes}`, 30_000);
  expect(fast.done).toBe(false);
  const fastValues = fast.items.filter((m) => m.keyEvent === KeyEvent.UPDATED).map((m) => numberOf(m.value));
  return { test, connections, slow, fastValues, written, latest, connectionsOpen, peakQueued, peakSending };
}

describe("watchers that stop reading", () => {
  const scope = new WatchScope();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    scope.cancelAll();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = (run: StallRun) => {
    cleanups.push(() => run.test.close());
    for (const connection of run.connections) cleanups.push(() => connection.close());
    return run;
  };

  it("are ended past event_stream_max_bytes with RESOURCE_EXHAUSTED naming the revision, while a fast watcher gets every event", async () => {
    const maxBytes = 6_000_000;
    const run = track(
      await stallAndWrite(scope, { eventStreamMaxBytes: maxBytes, eventStreamTotalMaxBytes: 0, eventStreamSendTimeout: 0n }),
    );
    expect(run.fastValues).toEqual(run.written);
    // Only the fast watcher is left, though the slow ones still read nothing.
    await waitFor(() => run.test.server.hub.size === 1, "every slow watcher to be let go");
    // Each watcher held at most its budget plus the event that went over it.
    expect(run.peakQueued).toBeLessThanOrEqual((run.slow.length + 1) * (maxBytes + maxValueSize + 1024));

    // Once they read again, each gets what was on its way, then the error (nothing was reset: no send timeout).
    for (const connection of run.connections) connection.resumeReading();
    const ends = await Promise.all(run.slow.map((watch) => watch.ended));
    for (const end of ends) {
      expect(end.grpcStatus).toBe(Code.ResourceExhausted);
      const named = /^watcher fell behind by more than 6000000 bytes; resume from revision (\d+)$/.exec(end.grpcMessage ?? "");
      expect(named, end.grpcMessage).not.toBeNull();
      expect(BigInt(named![1]!)).toBeLessThan(run.latest);
    }
  });

  it("hold no more than event_stream_total_max_bytes in flight: the slowest are reset, and a fast watcher gets every event", async () => {
    const totalMaxBytes = 8_000_000;
    const run = track(
      await stallAndWrite(scope, { eventStreamMaxBytes: 0, eventStreamTotalMaxBytes: totalMaxBytes, eventStreamSendTimeout: 0n }),
    );
    expect(run.fastValues).toEqual(run.written);
    expect(run.peakSending).toBeLessThanOrEqual(totalMaxBytes);
    // The slow watchers that fit in the budget may stay (no send timeout); the others were let go.
    const cut = run.slow.length + 1 - run.test.server.hub.size;
    expect(cut).toBeGreaterThan(0);

    for (const connection of run.connections) connection.resumeReading();
    const ends: Array<Awaited<RawWatch["ended"]>> = [];
    for (const watch of run.slow) void watch.ended.then((end) => ends.push(end));
    await waitFor(() => ends.length >= cut, `${cut} slow watchers to see their end`);
    for (const end of ends) {
      // Reset (RST_STREAM ENHANCE_YOUR_CALM, RESOURCE_EXHAUSTED to gRPC clients; or its connection closed, when
      // the reset could not get through it either), or the error after what it held.
      if (end.connectionClosed) continue;
      if (end.rstCode === undefined) {
        expect(end.grpcStatus).toBe(Code.ResourceExhausted);
        expect(end.grpcMessage).toMatch(
          /^watch streams together have more than 8000000 bytes in flight, and this one is among the slowest to take them; resume from revision \d+$/,
        );
      } else {
        expect(end.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
    }
  });

  it("hold WatchKeyValue's current value within event_stream_total_max_bytes too: watchers that take none of it are let go", async () => {
    const totalMaxBytes = 2_000_000;
    const test = await startTestServer({ maxValueSize, eventStreamMaxBytes: 0, eventStreamTotalMaxBytes: totalMaxBytes, eventStreamSendTimeout: 0n });
    cleanups.push(() => test.close());
    const writer = createClients("grpc", test.url, "writer").kv;
    await writer.set({ key, value: valueOf(1) });
    const connection = await StallableConnection.open(test.url);
    cleanups.push(() => connection.close());
    await connection.watchKeyValue(key, "slow");
    connection.stopReading();
    // Each asks for the 900 KB current value at once; no event is ever written.
    // Their answers never reach a client that does not read: these calls end when the connection does.
    for (let i = 0; i < 20; i++) connection.watchKeyValue(key, "slow").catch(() => {});
    let peakSending = 0;
    const sampler = setInterval(() => (peakSending = Math.max(peakSending, test.server.hub.sendingBytes)), 10);
    try {
      // Without the budget nothing would ever cut them (no events, no send timeout): all 21 would stay, holding 19 MB.
      await waitFor(() => test.server.hub.size === 0, "every stalled watcher to be let go");
      await waitFor(() => test.server.hub.queuedBytes === 0, "their buffers to be dropped");
    } finally {
      clearInterval(sampler);
    }
    expect(peakSending).toBeLessThanOrEqual(totalMaxBytes);
    expect(numberOf((await writer.get({ key })).value)).toBe(1);
  });

  it("are ended after event_stream_send_timeout, then reset, and their connection closed when it takes nothing", async () => {
    const run = track(
      await stallAndWrite(
        scope,
        { eventStreamMaxBytes: 0, eventStreamTotalMaxBytes: 0, eventStreamSendTimeout: 500_000_000n },
        { connections: 1, perConnection: 3, writes: 30 },
      ),
    );
    expect(run.fastValues).toEqual(run.written);
    await waitFor(() => run.test.server.hub.size === 1, "every slow watcher to be let go");
    // Reset a send timeout after the cut: their buffers are dropped (what is left is the fast watcher's, if anything).
    await waitFor(() => run.test.server.hub.queuedBytes < maxValueSize, "the slow watchers' buffers to be dropped");

    // The resets could not get through a connection that takes nothing: the server closes it, without flushing.
    await pollUntil(() => openConnections(run.test), (count) => count < run.connectionsOpen, 30_000);
    expect(await openConnections(run.test)).toBe(run.connectionsOpen - 1);
    run.connections[0]!.resumeReading();
    await run.connections[0]!.closed;
    const ends = await Promise.all(run.slow.map((watch) => watch.ended));
    expect(ends).toEqual(run.slow.map(() => ({ connectionClosed: true })));
  });
});

describe("a Connect watcher over HTTP/1.1 that stops reading", () => {
  let test: TestServer | undefined;
  let socket: net.Socket | undefined;
  afterEach(async () => {
    socket?.destroy();
    await test?.close();
  });

  it("is ended past event_stream_max_bytes with RESOURCE_EXHAUSTED naming the revision once it reads again", async () => {
    test = await startTestServer({ maxValueSize, eventStreamMaxBytes: 6_000_000, eventStreamSendTimeout: 0n });
    const writer = createClients("grpc", test.url, "writer").kv;
    await writer.set({ key, value: bytes("small") });
    const { hostname, port } = new URL(test.url);
    const connected = net.connect(Number(port), hostname);
    socket = connected;
    const message = toBinary(WatchKeyValueRequestSchema, create(WatchKeyValueRequestSchema, { key }));
    const body = Buffer.alloc(5 + message.length);
    body.writeUInt32BE(message.length, 1);
    body.set(message, 5);
    connected.write(
      [
        "POST /keyquarry.KeyQuarry/WatchKeyValue HTTP/1.1",
        `Host: ${hostname}:${port}`,
        "Content-Type: application/connect+proto",
        "Connect-Protocol-Version: 1",
        "client-id: slow",
        `Content-Length: ${body.length}`,
        "",
        "",
      ].join("\r\n"),
    );
    connected.write(body);
    const received: Buffer[] = [];
    connected.on("data", (chunk: Buffer) => received.push(chunk));
    await waitFor(() => test!.server.hub.size === 1 && received.length > 0, "the watch to start");
    connected.pause();

    for (let i = 1; i <= 30; i++) await writer.set({ key, value: valueOf(i) });
    await waitFor(() => test!.server.hub.size === 0, "the slow watcher to be cut off");

    connected.resume();
    // The chunked response's last chunk: the error came after what was on its way.
    await waitFor(() => Buffer.concat(received).includes("\r\n0\r\n\r\n"), "the end of the response");
    const text = Buffer.concat(received).toString("latin1");
    expect(text).toMatch(/"code":"resource_exhausted","message":"watcher fell behind by more than 6000000 bytes; resume from revision \d+"/);
  });
});

describe.each(protocols)("watcher limits over %s", (protocol) => {
  const scope = new WatchScope();
  let test: TestServer | undefined;
  afterEach(async () => {
    scope.cancelAll();
    await test?.close();
  });

  it("refuses a client's watcher past event_stream_client_limit, and all past event_stream_subscriber_limit", async () => {
    test = await startTestServer({ eventStreamClientLimit: 2, eventStreamSubscriberLimit: 3 });
    const url = test.url;
    const open = (clientId: string) => {
      const kv = createClients(protocol, url, clientId).kv;
      return scope.open((signal) => kv.watchStream({ progressInterval: millis(100) }, { signal }));
    };
    const first = open("alice");
    const second = open("alice");
    await Promise.all([first.next(), second.next()]);

    const refused = await rejection(firstMessage(protocol, url, "alice"));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.ResourceExhausted,
      'watch limit per client reached: client "alice" already has 2 watch streams open (event_stream_client_limit is 2)',
    ]);

    await open("bob").next(); // another client may, up to the subscriber limit
    const overall = await rejection(firstMessage(protocol, url, "carol"));
    expect([overall.code, overall.rawMessage]).toEqual([Code.ResourceExhausted, "subscriber limit reached: 3"]);

    // A client whose watcher ends may open another.
    first.cancel();
    await waitFor(() => test!.server.hub.size === 2, "the cancelled watcher to end");
    await open("alice").next();
  });
});

/** The first message of a new watch of `clientId` (rejects when the watch is refused). */
async function firstMessage(protocol: (typeof protocols)[number], url: string, clientId: string): Promise<unknown> {
  const abort = new AbortController();
  try {
    const iterator = createClients(protocol, url, clientId)
      .kv.watchStream({ progressInterval: millis(100) }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    return (await iterator.next()).value;
  } finally {
    abort.abort();
  }
}
