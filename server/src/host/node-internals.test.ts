import * as httpolyglot from "@httptoolkit/httpolyglot";
import { connect as http2Connect } from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  nativeStreamsApply,
  NodeInternalsError,
  patches,
  polyglotSubServers,
  takeCompatListener,
  trackHttp1Connections,
  useNativeStreams,
} from "./node-internals.js";

// Each check runs against the installed Node and httpolyglot: a failure names the patch an upgrade broke.
let server: ReturnType<typeof httpolyglot.createServer> | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe("the Node/httpolyglot internals our server patches", () => {
  it(`still hold: ${patches.subServers}`, () => {
    server = httpolyglot.createServer({}, () => {});
    expect(() => polyglotSubServers(server!), patches.subServers).not.toThrow();
  });

  it(`still hold: ${patches.connectionTracking}`, () => {
    server = httpolyglot.createServer({}, () => {});
    const { http1 } = polyglotSubServers(server);
    expect(() => trackHttp1Connections(http1), patches.connectionTracking).not.toThrow();
  });

  it(`still hold: ${patches.compatListener}`, () => {
    server = httpolyglot.createServer({}, () => {});
    const { http2 } = polyglotSubServers(server);
    const before = http2.listenerCount("stream");
    expect(() => takeCompatListener(http2), patches.compatListener).not.toThrow();
    expect(http2.listenerCount("stream"), `${patches.compatListener}: removed`).toBe(before - 1);
  });

  it(`still hold: ${patches.nativeStreams}`, async () => {
    server = httpolyglot.createServer({}, (_request, response) => response.end("ok"));
    const { http2 } = polyglotSubServers(server);
    useNativeStreams(http2);
    const seen: { before?: unknown; after?: unknown; error?: unknown } = {};
    const flag = (socket: Socket) => (socket as Socket & { _handle?: { isStreamBase?: unknown } })._handle?.isStreamBase;
    // Runs before the patch (prepended later), then after it.
    http2.prependListener("connection", (socket: Socket) => {
      seen.before = flag(socket);
      try {
        nativeStreamsApply(socket);
      } catch (error) {
        seen.error = error;
      }
    });
    http2.on("connection", (socket: Socket) => (seen.after = flag(socket)));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const session = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ":path": "/" });
      let text = "";
      stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
      stream.on("end", () => resolve(text));
      stream.on("error", reject);
    });
    session.close();
    expect(seen.error, patches.nativeStreams).toBeUndefined();
    // httpolyglot marks sniffed h2c sockets as not stream-based; the patch undoes it and HTTP/2 still works.
    expect([seen.before, seen.after, body], patches.nativeStreams).toEqual([false, true, "ok"]);
  });

  it("name the broken patch when an assumption does not hold", () => {
    const plain = createNetServer();
    expect(() => polyglotSubServers(plain)).toThrow(NodeInternalsError);
    expect(() => polyglotSubServers(plain)).toThrow(patches.subServers);
  });
});
