import { once } from "node:events";
import http from "node:http";
import http2, { constants } from "node:http2";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import https from "node:https";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../src/config/config.js";
import { clientPreface, encodeFrame, encodeHeaders, frameType, RawHttp2Connection, settingsOf } from "./kit/raw-http2.js";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { millis, pollUntil } from "./kit/watch-helpers.js";

// Generous: other test runs share the machine's two cores. For the same reason the
// timeouts under test that established connections must not hit are a second or more:
// a stalled event loop runs expired timers before it reads the data that was due first.
const timeout = 30_000;

const servers: TestServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  cleanups.splice(0).forEach((cleanup) => cleanup());
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server with the given limits, closed after the test. */
async function start(overrides: Partial<Config>): Promise<TestServer> {
  const server = await startTestServer(overrides);
  servers.push(server);
  return server;
}

/** A node:http2 client session whose preface and SETTINGS the server has answered. */
async function h2connect(url: string): Promise<http2.ClientHttp2Session> {
  // The test certificate is self-signed.
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on("error", () => {});
  cleanups.push(() => session.destroy());
  await once(session, "remoteSettings");
  return session;
}

/** A plain TCP connection to the server, destroyed after the test. */
function tcpConnect(url: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => {});
  // Reading, so that the server's closing is seen.
  socket.resume();
  cleanups.push(() => socket.destroy());
  return socket;
}

/** Resolves when `emitter` (a socket, session or stream) has closed. */
const closed = (emitter: Socket | http2.Http2Session | http2.Http2Stream) =>
  new Promise<void>((resolve) => (emitter.closed ? resolve() : emitter.once("close", () => resolve())));

/** The HTTP status of a Connect JSON Set of key "k" over `session`. */
async function setOver(session: http2.ClientHttp2Session): Promise<number> {
  const stream = session.request({
    ":method": "POST",
    ":path": "/keyquarry.KeyQuarry/Set",
    "content-type": "application/json",
    client_id: "writer",
  });
  stream.end(JSON.stringify({ key: "k", value: "dg==" }));
  const [headers] = (await once(stream, "response")) as [http2.IncomingHttpHeaders];
  stream.resume();
  return Number(headers[":status"]);
}

describe("max_concurrent_streams", () => {
  it(
    "is advertised in SETTINGS; streams past it are refused with REFUSED_STREAM while other connections are served",
    async () => {
      const test = await start({ maxConcurrentStreams: 4 });
      const raw = new RawHttp2Connection(test.url);
      cleanups.push(() => raw.socket.destroy());
      // gRPC calls whose bodies never come: each stream stays open.
      const call = (streamId: number) =>
        encodeHeaders(streamId, {
          ":method": "POST",
          ":scheme": "http",
          ":path": "/keyquarry.KeyQuarry/Get",
          ":authority": "localhost",
          "content-type": "application/grpc",
          te: "trailers",
          client_id: "hog",
        });
      // Six streams in the first flight, as a client that ignores the server's SETTINGS would.
      raw.write(clientPreface, encodeFrame(frameType.settings, 0, 0), ...[1, 3, 5, 7, 9, 11].map(call));

      const settings = await raw.waitFor((f) => f.type === frameType.settings && f.flags === 0, "the server's SETTINGS");
      expect(settingsOf(settings).get(constants.NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)).toBe(4);
      for (const streamId of [9, 11]) {
        const reset = await raw.waitFor((f) => f.type === frameType.rstStream && f.streamId === streamId, `a reset of stream ${streamId}`);
        expect(reset.payload.readUInt32BE(0)).toBe(constants.NGHTTP2_REFUSED_STREAM);
      }
      // Streams are handled in order: the first four were open when the fifth was refused.
      expect(raw.frames.filter((f) => f.type === frameType.rstStream).map((f) => f.streamId)).toEqual([9, 11]);

      // Other connections are served meanwhile, and a well-behaved client learns the limit.
      const { kv } = createClients("grpc", test.url, "other");
      expect((await kv.set({ key: "k", value: bytes("v") })).isNew).toBe(true);
      expect((await h2connect(test.url)).remoteSettings.maxConcurrentStreams).toBe(4);
    },
    timeout,
  );
});

describe("max_header_list_size", () => {
  it(
    "answers a larger header list with 431 over HTTP/1.1 and a stream reset over HTTP/2",
    async () => {
      const test = await start({ maxHeaderListSize: 2048 });
      const padding = { "x-padding": "a".repeat(4000) };

      const { hostname, port } = new URL(test.url);
      const http1 = http.request({ host: hostname, port, method: "POST", path: "/keyquarry.KeyQuarry/Get", headers: padding });
      http1.end();
      const [response] = (await once(http1, "response")) as [http.IncomingMessage];
      response.resume();
      expect(response.statusCode).toBe(431);

      const session = await h2connect(test.url);
      const stream = session.request({ ":method": "POST", ":path": "/keyquarry.KeyQuarry/Get", ...padding });
      stream.on("error", () => {});
      stream.on("response", () => expect.fail("an oversized request was answered"));
      stream.end();
      await closed(stream);
      expect(stream.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);

      // A client that never acknowledges the server's SETTINGS is held to the limit too.
      const raw = new RawHttp2Connection(test.url);
      cleanups.push(() => raw.socket.destroy());
      const request = { ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "localhost", ...padding };
      raw.write(clientPreface, encodeFrame(frameType.settings, 0, 0), encodeHeaders(1, request));
      const answer = await raw.waitFor((f) => f.streamId === 1, "an answer on stream 1");
      expect(answer.type).toBe(frameType.rstStream);
      expect(answer.payload.readUInt32BE(0)).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);

      // Requests within the limit are served, on both protocols.
      expect(await setOver(await h2connect(test.url))).toBe(200);
      expect((await createClients("connect", test.url, "writer").kv.get({ key: "k" })).value).toEqual(bytes("v"));
    },
    timeout,
  );
});

describe("max_connections", () => {
  it(
    "closes a connection over the limit at once, while the open ones keep working",
    async () => {
      const test = await start({ maxConnections: 2 });
      const first = await h2connect(test.url);
      const second = await h2connect(test.url);

      await closed(tcpConnect(test.url));

      expect(await setOver(first)).toBe(200);
      expect(await setOver(second)).toBe(200);
    },
    timeout,
  );
});

describe("handshake_timeout", () => {
  it(
    "closes sockets that have not completed a preface or first request in time, but not established ones",
    async () => {
      const test = await start({ handshakeTimeout: 1_000_000_000n });
      const established = await h2connect(test.url);

      const silent = tcpConnect(test.url);
      const partialPreface = tcpConnect(test.url);
      partialPreface.write(clientPreface.subarray(0, 10));
      // The magic alone, without the SETTINGS frame that completes a client preface.
      const magicOnly = tcpConnect(test.url);
      magicOnly.write(clientPreface);
      const partialRequest = tcpConnect(test.url);
      partialRequest.write("POST /keyquarry.KeyQuarry/Get HTTP/1.1\r\nHost: localhost\r\n");
      await Promise.all([silent, partialPreface, magicOnly, partialRequest].map(closed));

      // Older than all of them, so past its own deadline by now: still served.
      expect(await setOver(established)).toBe(200);
    },
    timeout,
  );

  describe("over TLS", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "keyquarry-tls-"));
      execFileSync("openssl", [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
        ...["-subj", "/CN=localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ], { stdio: "ignore" });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it(
      "counts the TLS handshake in, and keeps connections that completed it and their preface or first request",
      async () => {
        const test = await start({
          handshakeTimeout: 2_000_000_000n,
          sslCertfile: join(dir, "cert.pem"),
          sslKeyfile: join(dir, "key.pem"),
        });
        const { hostname, port } = new URL(test.url);
        const established = await h2connect(test.url);
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
        cleanups.push(() => agent.destroy());
        const httpsGet = async () => {
          const request = https.get({ host: hostname, port, path: "/", agent });
          const [response] = (await once(request, "response")) as [http.IncomingMessage];
          response.resume();
          return { status: response.statusCode, reused: request.reusedSocket };
        };
        expect((await httpsGet()).reused).toBe(false);

        // TLS completed (h2 chosen by ALPN), then nothing.
        const silent = tlsConnect({ host: hostname, port: Number(port), ALPNProtocols: ["h2"], rejectUnauthorized: false });
        silent.on("error", () => {});
        silent.resume();
        cleanups.push(() => silent.destroy());
        await once(silent, "secureConnect");
        await Promise.all([closed(silent), closed(tcpConnect(test.url))]);

        expect(await setOver(established)).toBe(200);
        expect(await httpsGet()).toEqual({ status: 404, reused: true });
      },
      timeout,
    );
  });
});

/** A Connect JSON WatchStream over `session`, whose messages are read as they come. */
function watchOver(session: http2.ClientHttp2Session): {
  stream: http2.ClientHttp2Stream;
  /** Resolves once a message (its JSON) satisfies `match`. */
  message: (match: (json: string) => boolean) => Promise<void>;
} {
  const stream = session.request({
    ":method": "POST",
    ":path": "/keyquarry.KeyQuarry/WatchStream",
    "content-type": "application/connect+json",
    client_id: "watcher",
  });
  // A progress mark comes at once: the server has subscribed the watcher by then.
  const body = Buffer.from(JSON.stringify({ progressInterval: "3600s" }));
  const envelope = Buffer.alloc(5);
  envelope.writeUInt32BE(body.length, 1);
  stream.end(Buffer.concat([envelope, body]));
  const messages: string[] = [];
  let pending = Buffer.alloc(0);
  stream.on("data", (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      messages.push(pending.subarray(5, 5 + length).toString());
      pending = pending.subarray(5 + length);
    }
  });
  const message = async (match: (json: string) => boolean) => {
    while (!messages.some(match)) {
      if (stream.closed) {
        throw new Error(`the watch ended; messages: ${messages.join(" ")}`);
      }
      await Promise.race([once(stream, "data"), closed(stream)]);
    }
  };
  return { stream, message };
}

describe("idle_timeout", () => {
  it(
    "sends GOAWAY (NO_ERROR) to an HTTP/2 connection without streams and closes it",
    async () => {
      const test = await start({ idleTimeout: 300_000_000n });
      const session = await h2connect(test.url);
      const [code] = (await once(session, "goaway")) as [number];
      expect(code).toBe(constants.NGHTTP2_NO_ERROR);
      await closed(session);
    },
    timeout,
  );

  it(
    "keeps a connection with an open watch stream, and counts idleness from its end",
    async () => {
      const test = await start({ idleTimeout: 1_000_000_000n });
      const session = await h2connect(test.url);
      const goaways: number[] = [];
      session.on("goaway", (code: number) => goaways.push(code));
      const watch = watchOver(session);
      await watch.message(() => true);

      // Each fresh connection is sent GOAWAY one idle timeout after it opened: three in a row
      // take at least three idle timeouts.
      for (let i = 0; i < 3; i++) {
        await once(await h2connect(test.url), "goaway");
      }
      await createClients("connect", test.url, "writer").kv.set({ key: "watched", value: bytes("later") });
      await watch.message((json) => json.includes('"watched"'));
      expect(goaways).toEqual([]);

      watch.stream.close();
      const [code] = (await once(session, "goaway")) as [number];
      expect(code).toBe(constants.NGHTTP2_NO_ERROR);
    },
    timeout,
  );
});

describe("keepalive", () => {
  it(
    "PINGs HTTP/2 connections every keepalive_interval; a peer that answers stays connected",
    async () => {
      const test = await start({ keepaliveInterval: 200_000_000n, keepaliveTimeout: 2_000_000_000n, idleTimeout: 0n });
      const session = await h2connect(test.url);
      for (let i = 0; i < 3; i++) {
        await once(session, "ping");
      }
      expect(await setOver(session)).toBe(200);
    },
    timeout,
  );

  it(
    "closes a connection whose peer stops answering PINGs after keepalive_timeout",
    async () => {
      const test = await start({ keepaliveInterval: 200_000_000n, keepaliveTimeout: 300_000_000n, idleTimeout: 0n });
      const raw = new RawHttp2Connection(test.url);
      cleanups.push(() => raw.socket.destroy());
      raw.write(clientPreface, encodeFrame(frameType.settings, 0, 0));
      await raw.waitFor((f) => f.type === frameType.settings && f.flags === 0, "the server's SETTINGS");
      raw.write(encodeFrame(frameType.settings, 0x1, 0));

      // It reads the PING but never answers it.
      await raw.waitFor((f) => f.type === frameType.ping, "a PING");
      await raw.closed;
    },
    timeout,
  );

  it(
    "ends the watch streams of a peer that vanished, freeing their subscriptions",
    async () => {
      const test = await start({
        keepaliveInterval: 200_000_000n,
        keepaliveTimeout: 1_000_000_000n,
        idleTimeout: 0n,
        eventStreamSubscriberLimit: 1,
      });
      const link = await startLink(test.url);
      const session = await h2connect(link.url);
      await watchOver(session).message(() => true);

      const { kv } = createClients("grpc", test.url, "other");
      const watchFirstMessage = async () => {
        const abort = new AbortController();
        try {
          for await (const message of kv.watchStream({ progressInterval: millis(3_600_000) }, { signal: abort.signal })) {
            return message.progress;
          }
          return false;
        } finally {
          abort.abort();
        }
      };
      // The only subscription is taken.
      expect((await rejection(watchFirstMessage())).code).toBe(Code.ResourceExhausted);

      // The peer's network goes away without a FIN or RST, as when a laptop sleeps.
      link.cut();
      const freed = await pollUntil(
        () => watchFirstMessage().catch(() => false),
        (subscribed) => subscribed,
        timeout / 2,
      );
      expect(freed).toBe(true);
    },
    timeout,
  );
});

/**
 * A TCP relay to `target` whose `cut` silently drops all traffic from then
 * on in both directions, leaving both connections open.
 */
async function startLink(target: string): Promise<{ url: string; cut(): void }> {
  const { hostname, port } = new URL(target);
  let cut = false;
  const relay: Server = createServer((client) => {
    const server = connect(Number(port), hostname);
    for (const [from, to] of [
      [client, server],
      [server, client],
    ] as const) {
      from.on("data", (data) => cut || to.write(data));
      from.on("error", () => {});
      from.on("close", () => to.destroy());
    }
    cleanups.push(() => client.destroy());
  });
  relay.listen(0, "127.0.0.1");
  await once(relay, "listening");
  cleanups.push(() => relay.close());
  const address = relay.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, cut: () => (cut = true) };
}
