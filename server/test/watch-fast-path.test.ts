import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import {
  KeyEvent,
  KeyQuarry,
  WatchKeyValueRequestSchema,
  WatchKeyValueResponseSchema,
  type WatchKeyValueResponse,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { bytes, text } from "./kit/bytes.js";
import { createClients, createTransport, type Protocol } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { StallableConnection } from "./kit/stallable-connection.js";
import { pollUntil, WatchScope } from "./kit/watch-helpers.js";

const key = "watched";
const watchKeyValuePath = "/keyquarry.KeyQuarry/WatchKeyValue";

/** Waits until `condition` holds (checked every 20 ms), failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const holds = await pollUntil(async () => condition(), (value) => value, timeoutMs);
  if (!holds) throw new Error(`timed out waiting for ${what}`);
}

/** Sets the watched key to `value` (in the store directly: the writer's transport is not under test). */
function setValue(server: TestServer["server"], value: string): void {
  server.store.set("writer", { key, value: bytes(value), contentType: "" });
}

/** A WatchKeyValue call made over raw HTTP/2, to send exactly the headers a test needs. */
interface RawCall {
  readonly stream: http2.ClientHttp2Stream;
  /** The messages received so far, decoded. */
  readonly messages: WatchKeyValueResponse[];
  /** Resolves with grpc-status and grpc-message (decoded) once the stream has closed; undefined ones when it closed without. */
  readonly ended: Promise<{ status?: number; message?: string; rstCode: number | undefined }>;
}

/** Calls WatchKeyValue on `session` with `headers` added to the gRPC ones. */
function rawWatch(session: http2.ClientHttp2Session, request: { key: string; startRevision?: bigint }, headers: Record<string, string>): RawCall {
  const stream = session.request({
    ":method": "POST",
    ":path": watchKeyValuePath,
    "content-type": "application/grpc",
    te: "trailers",
    client_id: "raw-watcher",
    ...headers,
  });
  const body = toBinary(WatchKeyValueRequestSchema, create(WatchKeyValueRequestSchema, request));
  const envelope = Buffer.alloc(5 + body.length);
  envelope.writeUInt32BE(body.length, 1);
  envelope.set(body, 5);
  stream.end(envelope);
  const messages: WatchKeyValueResponse[] = [];
  let pending = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const size = pending.readUInt32BE(1);
      messages.push(fromBinary(WatchKeyValueResponseSchema, pending.subarray(5, 5 + size)));
      pending = pending.subarray(5 + size);
    }
  });
  let status: { status?: number; message?: string } = {};
  const record = (received: http2.IncomingHttpHeaders) => {
    if (received["grpc-status"] !== undefined) {
      status = { status: Number(received["grpc-status"]), message: decodeURIComponent(String(received["grpc-message"] ?? "")) };
    }
  };
  stream.on("response", record);
  stream.on("trailers", record);
  stream.on("error", () => {}); // a reset shows as rstCode
  const ended = new Promise<{ status?: number; message?: string; rstCode: number | undefined }>((resolve) =>
    stream.on("close", () => resolve({ ...status, rstCode: stream.rstCode })),
  );
  return { stream, messages, ended };
}

describe("the gRPC watch fast path", () => {
  let test: TestServer | undefined;
  let session: http2.ClientHttp2Session | undefined;
  const scope = new WatchScope();

  afterEach(async () => {
    scope.cancelAll();
    session?.destroy();
    session = undefined;
    await test?.close();
    test = undefined;
  });

  async function start(): Promise<TestServer> {
    test = await startTestServer();
    session = http2.connect(test.url);
    session.on("error", () => {});
    return test;
  }

  it("encodes each event's message once for all its gRPC watchers, who get the same messages as Connect and gRPC-Web watchers", async () => {
    const { server, url } = await start();
    const { kv } = createClients("grpc", url, "writer");
    await kv.set({ key, value: bytes("v0") });
    const watchValue = (protocol: Protocol, clientId: string) => {
      const client = createClient(KeyQuarry, createTransport(protocol, url, clientId));
      return scope.open((signal) => client.watchKeyValue({ key }, { signal }));
    };
    const watchUpdates = (clientId: string) => {
      const client = createClient(KeyQuarry, createTransport("grpc", url, clientId));
      return scope.open((signal) => client.watchStream({ keys: [key], events: [KeyEvent.UPDATED] }, { signal }));
    };
    const grpcValueWatchers = [watchValue("grpc", "g1"), watchValue("grpc", "g2"), watchValue("grpc", "g3")];
    const otherValueWatchers = [watchValue("connect", "c1"), watchValue("grpc-web", "w1")];
    const updateWatchers = [watchUpdates("s1"), watchUpdates("s2")];
    // The value watchers' first message is the current value; the update watchers are subscribed once counted.
    for (const watcher of [...grpcValueWatchers, ...otherValueWatchers]) {
      expect(text((await watcher.next()).value)).toBe("v0");
    }
    await waitFor(() => server.hub.size === 7, "7 watchers");
    const encodedBefore = server.grpcWatch.eventFramesEncoded;
    const writtenBefore = server.grpcWatch.eventFramesWritten;

    const sets = 5;
    for (let i = 1; i <= sets; i++) {
      await kv.set({ key, value: bytes(`v${i}`) });
    }
    const received = await Promise.all([...grpcValueWatchers, ...otherValueWatchers].map((watcher) => watcher.take(sets)));
    const updates = await Promise.all(updateWatchers.map((watcher) => watcher.take(sets)));

    const expected = received[3]!.map((message) => [text(message.value), message.revision, KeyEvent[message.keyEvent]]);
    expect(expected.map(([value]) => value)).toEqual(["v1", "v2", "v3", "v4", "v5"]);
    for (const messages of received) {
      expect(messages.map((message) => [text(message.value), message.revision, KeyEvent[message.keyEvent]])).toEqual(expected);
    }
    for (const events of updates) {
      expect(events.map((event) => event.revision)).toEqual(expected.map(([, revision]) => revision));
    }
    // One encoding per event and method; one write per event and gRPC watcher.
    expect(server.grpcWatch.eventFramesEncoded - encodedBefore).toBe(2 * sets);
    expect(server.grpcWatch.eventFramesWritten - writtenBefore).toBe((grpcValueWatchers.length + updateWatchers.length) * sets);
  });

  it("ends a watch at its grpc-timeout with DEADLINE_EXCEEDED after the messages sent before", async () => {
    const { server } = await start();
    setValue(server, "v0");
    const call = rawWatch(session!, { key }, { "grpc-timeout": "300m" });
    expect(await call.ended).toEqual({ status: Code.DeadlineExceeded, message: "the operation timed out", rstCode: http2.constants.NGHTTP2_NO_ERROR });
    expect(call.messages.map((message) => text(message.value))).toEqual(["v0"]);
    await waitFor(() => server.hub.size === 0, "the watcher to be gone");
  });

  it("resets at its deadline a watch whose client has not taken what it was sent, freeing what the stream held", async () => {
    // No other limit would end the stalled watcher.
    test = await startTestServer({ eventStreamMaxBytes: 0, eventStreamTotalMaxBytes: 0, eventStreamSendTimeout: 0n });
    const { server } = test;
    setValue(server, "v0");
    const connection = await StallableConnection.open(test.url);
    try {
      const call = rawWatch(connection.session, { key }, { "grpc-timeout": "5S" });
      await waitFor(() => call.messages.length === 1, "the current value");
      connection.stopReading();
      const big = "x".repeat(900_000);
      for (let i = 0; i < 20 && server.hub.sendingBytes === 0; i++) {
        setValue(server, `${big}${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // A message is in flight that the client does not take, before the deadline.
      await waitFor(() => server.hub.sendingBytes > 0, "a message the client does not take");
      expect(server.hub.size).toBe(1);
      await waitFor(() => server.hub.size === 0 && server.hub.sendingBytes === 0, "the watcher's stream to be reset", 20_000);
    } finally {
      connection.close();
    }
  });

  it("ends a Connect watch (not on the fast path) at its connect-timeout-ms with deadline_exceeded too", async () => {
    const { server, url } = await start();
    setValue(server, "v0");
    const body = toBinary(WatchKeyValueRequestSchema, create(WatchKeyValueRequestSchema, { key }));
    const envelope = Buffer.alloc(5 + body.length);
    envelope.writeUInt32BE(body.length, 1);
    envelope.set(body, 5);
    const response = await fetch(`${url}${watchKeyValuePath}`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto", "connect-timeout-ms": "300", client_id: "connect-watcher" },
      body: envelope,
    });
    const received = Buffer.from(await response.arrayBuffer());
    // Two envelopes: the current value, then the end of the stream (flag 2) with its JSON.
    const firstSize = received.readUInt32BE(1);
    expect(text(fromBinary(WatchKeyValueResponseSchema, received.subarray(5, 5 + firstSize)).value)).toBe("v0");
    const end = received.subarray(5 + firstSize);
    expect(end[0]).toBe(2);
    expect(JSON.parse(end.subarray(5).toString())).toMatchObject({ error: { code: "deadline_exceeded" } });
    await waitFor(() => server.hub.size === 0, "the watcher to be gone");
  });

  it.each(["2592000S", "99999999H"])("keeps a watch with grpc-timeout %s (past Node's timer limit) open", async (timeout) => {
    const { server } = await start();
    setValue(server, "v0");
    const call = rawWatch(session!, { key }, { "grpc-timeout": timeout });
    await waitFor(() => call.messages.length === 1, "the current value");
    // A change made after the first message reaches the watcher: its stream is still open.
    setValue(server, "v1");
    await waitFor(() => call.messages.length === 2, "the change", 10_000);
    expect(call.messages.map((message) => text(message.value))).toEqual(["v0", "v1"]);
    expect(call.stream.closed).toBe(false);
    expect(server.hub.size).toBe(1);
  });

  it("ends the watch when its client resets the stream", async () => {
    const { server } = await start();
    const call = rawWatch(session!, { key }, {});
    await waitFor(() => server.hub.size === 1, "the watcher");
    call.stream.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => server.hub.size === 0, "the watcher to be gone");
  });

  it("ends watches with OK at shutdown", async () => {
    const { server } = await start();
    setValue(server, "v0");
    const call = rawWatch(session!, { key }, {});
    await waitFor(() => call.messages.length === 1, "the current value");
    await test!.close();
    test = undefined;
    expect(await call.ended).toMatchObject({ status: 0 });
  });

  it("answers a bad call trailers-only with its status and exact message", async () => {
    const { server } = await start();
    const ahead = server.store.revision + 10n;
    const refusals = await Promise.all([
      rawWatch(session!, { key, startRevision: ahead }, {}).ended,
      rawWatch(session!, { key }, { "grpc-timeout": "soon" }).ended,
      rawWatch(session!, { key }, { client_id: "" }).ended,
    ]);
    expect(refusals.map(({ status, message }) => ({ status, message }))).toEqual([
      {
        status: Code.OutOfRange,
        message: `revision ${ahead} is ahead of the server's latest revision ${server.store.revision} (was the server restarted without its snapshot?)`,
      },
      { status: Code.InvalidArgument, message: "protocol error: invalid grpc timeout value: soon" },
      { status: Code.InvalidArgument, message: "empty client_id" },
    ]);
    expect(server.hub.size).toBe(0);
  });
});
