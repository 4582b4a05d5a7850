import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { create, toBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { spawn } from "node:child_process";
import http2 from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config/default-config.js";
import { build } from "../src/host/server.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients, protocols } from "./kit/create-clients.js";
import { startTestServer } from "./kit/start-test-server.js";

const dir = mkdtempSync(join(tmpdir(), "keyquarry-listen-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startOnSocket(path: string) {
  const server = await build({ ...defaultConfig(), listenAddress: `unix://${path}` }, { logger: false });
  return { server, url: await server.listen() };
}

describe("listening on a unix socket", () => {
  it("serves gRPC and Connect over the socket and removes the file on close", async () => {
    const path = join(dir, "kq.sock");
    const { server, url } = await startOnSocket(path);
    expect(url).toBe(`unix://${path}`);
    try {
      const grpc = createClients("grpc", "http://localhost", "socket", { http2: { nodeOptions: { createConnection: () => connect(path) } } }).kv;
      const json = createClients("connect-json", "http://localhost", "socket", { http1: { socketPath: path } }).kv;
      expect((await grpc.set({ key: "over", value: bytes("unix") })).isNew).toBe(true);
      expect(text((await json.get({ key: "over" })).value)).toBe("unix");
    } finally {
      await server.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  it("replaces a stale socket file left by a crashed server", async () => {
    const path = join(dir, "stale.sock");
    // A process killed with SIGKILL leaves its socket file behind, with nobody accepting on it.
    const crashed = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`]);
    await new Promise((resolve) => crashed.stdout.once("data", resolve));
    crashed.kill("SIGKILL");
    await new Promise((resolve) => crashed.once("exit", resolve));
    expect(existsSync(path)).toBe(true);
    const { server } = await startOnSocket(path);
    await server.close();
  });

  it("refuses a socket another server is serving on", async () => {
    const path = join(dir, "busy.sock");
    const first = await startOnSocket(path);
    try {
      await expect(startOnSocket(path)).rejects.toThrow(`socket file '${path}' is in use by another server`);
    } finally {
      await first.server.close();
    }
  });

  it("refuses to replace a file that is not a socket", async () => {
    const path = join(dir, "regular-file");
    writeFileSync(path, "precious");
    await expect(startOnSocket(path)).rejects.toThrow("exists and is not a socket");
    expect(existsSync(path)).toBe(true);
  });
});

describe("closing", () => {
  it("closes promptly while clients of every protocol hold idle connections", async () => {
    const test = await startTestServer();
    for (const protocol of protocols) {
      await createClients(protocol, test.url, "idle").kv.exists({ key: "x" });
    }
    // A hang here (waiting for keep-alive connections) is caught by the test timeout.
    await test.close();
  });

  it("lets a call in flight finish before closing", async () => {
    const test = await startTestServer();
    const session = http2.connect(test.url);
    await new Promise((resolve) => session.once("connect", resolve));
    const call = session.request({
      ":method": "POST",
      ":path": "/keyquarry.KeyQuarry/Set",
      "content-type": "application/grpc",
      te: "trailers",
      client_id: "busy",
    });
    const message = toBinary(KeyValueSchema, create(KeyValueSchema, { key: "late", value: bytes("value") }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => call.once("trailers", resolve));
    call.resume();
    // Half of the request, then a ping round trip: the server has the call in flight.
    call.write(frame.subarray(0, 4));
    await new Promise((resolve) => session.ping(resolve));
    const closed = test.close();
    call.end(frame.subarray(4));
    expect((await trailers)["grpc-status"]).toBe("0");
    await closed;
    session.close();
  });

  it("ends calls still unfinished after graceful_shutdown_timeout", async () => {
    const test = await startTestServer({ gracefulShutdownTimeout: 100_000_000n });
    const session = http2.connect(test.url);
    session.on("error", () => {});
    await new Promise((resolve) => session.once("connect", resolve));
    const stalled = session.request({
      ":method": "POST",
      ":path": "/keyquarry.KeyQuarry/Get",
      "content-type": "application/grpc",
      te: "trailers",
      client_id: "stalled",
    });
    stalled.on("error", () => {});
    stalled.write(Buffer.from([0, 0, 0]));
    await new Promise((resolve) => session.ping(resolve));
    const ended = new Promise((resolve) => stalled.once("close", resolve));
    // Without the timeout this would wait for the client forever (caught by the test timeout).
    await test.close();
    await ended;
  });
});
