/**
 * The browser SDK's helpers against a real server (in Node, whose fetch the
 * SDK uses as a browser's): typed values, and resumableWatch across a server
 * restart on the same port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { freePort } from "../../server/test/kit/free-port.js";
import { startTestServer, type TestServer } from "../../server/test/kit/start-test-server.js";
import {
  createKeyquarryWebClient,
  getValueAs,
  jsonValue,
  KeyEvent,
  resumableWatch,
  setValueAs,
  textValue,
  type Event,
  type KeyquarryWebClient,
  type ResumableWatchStatus,
} from "../src/index.js";

const waitLong = { timeout: 20_000, interval: 25 };

let testServer: TestServer | undefined;
let server: KeyquarryServer | undefined;
let dir: string | undefined;
const watches: AbortController[] = [];

afterEach(async () => {
  for (const watch of watches.splice(0)) {
    watch.abort();
  }
  await testServer?.close();
  testServer = undefined;
  await server?.close();
  server = undefined;
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

function clientOf(url: string, clientId: string): KeyquarryWebClient {
  return createKeyquarryWebClient(url, { clientId, protocol: "connect" });
}

/** Runs a resumable watch of every event in the background, collecting what it yields and reports. */
function collectWatch(client: KeyquarryWebClient, startRevision?: bigint) {
  const controller = new AbortController();
  watches.push(controller);
  const messages: Event[] = [];
  const statuses: ResumableWatchStatus[] = [];
  const open = (start: bigint | undefined, signal: AbortSignal) =>
    client.watchStream({ startRevision: start, progressInterval: { nanos: 200_000_000 } }, { signal });
  const done = (async () => {
    for await (const message of resumableWatch(open, { startRevision, signal: controller.signal, onStatus: (s) => statuses.push(s), firstDelayMs: 20, maxDelayMs: 200 })) {
      messages.push(message);
    }
  })();
  return { messages, statuses, done, abort: () => controller.abort() };
}

describe("typed values", () => {
  it("sets and gets text and JSON with their content types", async () => {
    testServer = await startTestServer();
    const client = clientOf(testServer.url, "typed");
    await setValueAs(client, { key: "greeting" }, "héllo", textValue);
    await setValueAs(client, { key: "config", lifespan: { seconds: 60n } }, { retries: 3, hosts: ["a", "b"] }, jsonValue());
    expect(await getValueAs(client, "greeting", textValue)).toBe("héllo");
    expect(await getValueAs(client, "config", jsonValue<{ retries: number }>())).toEqual({ retries: 3, hosts: ["a", "b"] });
    expect((await client.inspect({ key: "greeting" })).contentType).toBe("text/plain; charset=utf-8");
    const config = await client.inspect({ key: "config" });
    expect(config.contentType).toBe("application/json");
    expect(config.lifespan?.seconds).toBe(60n);
    // Other Set fields pass through: a stale if_version is refused.
    await expect(setValueAs(client, { key: "config", ifVersion: 7n }, {}, jsonValue())).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });
});

describe("resumableWatch", () => {
  it("delivers every event once across a server restart, with progress marks and its reconnect reported", async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-sdk-resume-"));
    const listenAddress = `127.0.0.1:${await freePort()}`;
    const start = async () => {
      server = await build(
        {
          ...defaultConfig(),
          listenAddress,
          name: "sdk-resume",
          snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database: `sqlite://${join(dir!, "snapshots.db")}`, retain: 2 },
        },
        { logger: false },
      );
      return server.listen();
    };
    const url = await start();
    const writer = clientOf(url, "writer");
    const set = (key: string) => setValueAs(writer, { key }, key, textValue);
    const watch = collectWatch(clientOf(url, "watcher"));
    const changes = () => watch.messages.filter((m) => !m.progress && !m.key.startsWith("keyquarry")).map((m) => `${KeyEvent[m.event]} ${m.key}`);

    // The first progress mark says the stream is open.
    await vi.waitFor(() => expect(watch.messages.some((m) => m.progress)).toBe(true), waitLong);
    await set("a");
    await set("b");
    await vi.waitFor(() => expect(changes()).toEqual(["CREATED a", "CREATED b"]), waitLong);

    await server!.close();
    server = undefined;
    await vi.waitFor(() => expect(watch.statuses.filter((s) => s.state === "reconnecting").length).toBeGreaterThan(1), waitLong);
    await start();
    await set("c");
    await vi.waitFor(() => expect(changes()).toEqual(["CREATED a", "CREATED b", "CREATED c"]), waitLong);

    // Events strictly after each other, nothing repeated; progress marks never go back.
    const events = watch.messages.filter((m) => !m.progress).map((m) => m.revision);
    expect(events).toEqual(events.map((_, i) => events[0]! + BigInt(i)));
    const revisions = watch.messages.map((m) => m.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    const resumed = watch.statuses.filter((s) => s.state === "connected");
    expect(resumed[0]).toEqual({ state: "connected", resumedAfter: undefined });
    expect(resumed.at(-1)).toMatchObject({ state: "connected", resumedAfter: expect.any(BigInt) });

    watch.abort();
    await watch.done; // returns, without an error, when aborted
  }, 60_000);

  it("ends with an error the server gives that retrying cannot fix (OUT_OF_RANGE)", async () => {
    testServer = await startTestServer();
    const watch = collectWatch(clientOf(testServer.url, "watcher"), 1_000_000n);
    const error = await watch.done.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.OutOfRange);
    expect(watch.statuses).toEqual([]);
  });
});
