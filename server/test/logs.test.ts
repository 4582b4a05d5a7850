import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { createTestDatabase, type TestDatabase } from "./kit/create-test-database.js";
import { killServeProcesses, ServeExitedError, spawnServe, type ServeProcess } from "./kit/spawn-serve.js";

// `keyquarry serve` as a real process (the built CLI): these read its whole log (stdout, text lines)
// once it has exited, so no line can still be on its way.

afterEach(async () => {
  await killServeProcesses();
});

/** The log lines of `level` and `message`, with their structured part. */
function linesOf(log: string, level: string, message: string): Array<Record<string, unknown>> {
  return log
    .split("\n")
    .filter((line) => line.includes(`] ${level}: ${message} {`))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>);
}

/** Stops the server (SIGTERM) and returns its complete log. */
async function stop(serve: ServeProcess): Promise<string> {
  serve.child.kill("SIGTERM");
  expect(await serve.exited).toEqual({ code: 0, signal: null });
  return serve.stdout();
}

describe("key event logs", () => {
  it("log_events writes each key event as one structured line (key, kind, revision, client id, time), never the value", async () => {
    const serve = await spawnServe({ env: { KEYQUARRY_LOG_EVENTS: "true" } });
    const { kv } = createClients("grpc", serve.url, "writer");
    await kv.set({ key: "greeting", value: bytes("value-never-logged") });
    await kv.set({ key: "greeting", value: bytes("value-never-logged-2") });
    await kv.delete({ key: "greeting" });
    const log = await stop(serve);

    const events = ["created new key", "updated key", "deleted key"].flatMap((message) => linesOf(log, "EVENT", message));
    const mine = events.map((line) => line["event"] as Record<string, string>).filter((event) => event["key"] === "greeting");
    expect(mine.map((event) => [event["kind"], event["clientId"]])).toEqual([
      ["CREATED", "writer"],
      ["UPDATED", "writer"],
      ["DELETED", "writer"],
    ]);
    const revisions = mine.map((event) => BigInt(event["revision"]!));
    expect(revisions[1]).toBe(revisions[0]! + 1n);
    expect(revisions[2]).toBe(revisions[1]! + 1n);
    for (const event of mine) {
      expect(new Date(event["time"]!).toISOString()).toBe(event["time"]);
    }
    // The reserved keys' creation at start is logged too, by the server's own client id.
    expect(linesOf(log, "EVENT", "created new key").some((line) => (line["event"] as Record<string, string>)["clientId"] === "keyquarry")).toBe(true);
    expect(log).not.toContain("value-never-logged");
    expect(log).not.toContain(Buffer.from("value-never-logged").toString("base64"));
  });

  it("log level EVENT shows the events and every other line (the NOTICE listening line, INFO ones too)", async () => {
    // spawnServe itself waits for the NOTICE "keyquarry listening" line.
    const serve = await spawnServe({ args: ["--log-level", "EVENT"] });
    await createClients("connect", serve.url, "writer").kv.set({ key: "k", value: bytes("v") });
    const log = await stop(serve);
    expect(linesOf(log, "EVENT", "created new key").map((line) => (line["event"] as Record<string, string>)["key"])).toContain("k");
    expect(log).toMatch(/\] INFO: Server listening at /);
    expect(log).toMatch(/\] NOTICE: stopped/);
  });

  it("at the default level (NOTICE) and without log_events, no event is logged", async () => {
    const serve = await spawnServe();
    await createClients("grpc", serve.url, "writer").kv.set({ key: "k", value: bytes("v") });
    const log = await stop(serve);
    expect(log).toMatch(/\] NOTICE: keyquarry listening /);
    expect(log).not.toContain("EVENT:");
    expect(log).not.toContain("INFO:");
  });
});

describe("snapshot logs and secrets", () => {
  let db: TestDatabase;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  /** The test database's URL with a password in it (the throwaway cluster trusts local users, so any password works). */
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const withPassword = new URL(db.url);
    withPassword.username ||= "postgres";
    withPassword.password = password;
    url = withPassword.toString();
  });
  afterAll(async () => {
    await killServeProcesses();
    await db?.drop();
  });

  it("snapshots and restores are logged at NOTICE with their figures; the database password never appears anywhere", async () => {
    const env = { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: url, KEYQUARRY_NAME: "logs-test" };
    const output: string[] = [];

    const first = await spawnServe({ args: ["--log-level", "EVENT"], env });
    const { kv } = createClients("grpc", first.url, "writer");
    for (const key of ["a", "b", "c"]) await kv.set({ key, value: bytes(key) });
    output.push(await stop(first), first.stderr());
    const [saved] = linesOf(output[0]!, "NOTICE", "snapshot saved");
    expect(saved).toMatchObject({ snapshotId: expect.stringMatching(/^\d+$/), revision: expect.stringMatching(/^\d+$/), ms: expect.any(Number) });
    expect(linesOf(output[0]!, "NOTICE", "no snapshot to restore")).toHaveLength(1);

    const second = await spawnServe({ env });
    output.push(await stop(second), second.stderr());
    const [restored] = linesOf(output[2]!, "NOTICE", "snapshot restored");
    expect(restored).toMatchObject({ serverName: "logs-test", keys: saved!["keys"], revision: saved!["revision"], ms: expect.any(Number) });
    // The database is named, with the password masked: the test would see it if it were not.
    expect(restored!["database"]).toBe(url.replace(`:${password}@`, ":***@"));

    // A database that does not exist: the server cannot start, and says which database, masked.
    const missing = new URL(url);
    missing.pathname = "/kq_no_such_database";
    const failed = await spawnServe({ env: { ...env, KEYQUARRY_SNAPSHOT_DATABASE: missing.toString() } }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ServeExitedError);
    const { exit, stdout, stderr } = failed as ServeExitedError;
    expect(exit.code).toBe(1);
    expect(stderr).toContain(`cannot open the snapshot database ${missing.toString().replace(`:${password}@`, ":***@")}`);
    output.push(stdout, stderr);

    for (const text of output) expect(text).not.toContain(password);
  });
});
