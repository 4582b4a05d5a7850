/**
 * `keyquarry client dump` and `restore` against real servers: a dump of
 * server A restored into a fresh server B dumps the same; existing keys are
 * refused unless --overwrite; lifespans carry their deadline over.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { createKeyquarryClient, type KeyquarryClient } from "@keyquarry/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDuration } from "../src/duration/parse-duration.js";
import { nanosFromDuration } from "../src/rpc/duration.js";
import { bytes, text } from "./kit/bytes.js";
import { keyquarry } from "./kit/cli-process.js";
import { freePort } from "./kit/free-port.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

const hour = create(DurationSchema, { seconds: 3600n });
const minute = create(DurationSchema, { seconds: 60n });
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

/** The JSON lines of a dump or of restore's output. */
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** A dump's key lines without what depends on when and where it was taken (times, locks). */
function comparable(dump: string) {
  return jsonLines(dump)
    .slice(1)
    .map(({ lifespanLeft, locked, history, ...rest }) => ({
      ...rest,
      hasLifespan: lifespanLeft !== undefined,
      history: (history as { version: number; value: string }[] | undefined)?.map(({ version, value }) => ({ version, value })),
    }));
}

describe("keyquarry client dump and restore", () => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;
  let alice: KeyquarryClient;
  let onB: KeyquarryClient;
  const cli = (server: TestServer, args: string[], input = "", clientId = "alice") =>
    keyquarry(["client", "--address", new URL(server.url).host, "--client-id", clientId, ...args], input);

  beforeEach(async () => {
    a = await startTestServer();
    b = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "keyquarry-dump-"));
    alice = createKeyquarryClient(new URL(a.url).host, { clientId: "alice" });
    onB = createKeyquarryClient(new URL(b.url).host, { clientId: "bob" });
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close(), rm(dir, { recursive: true, force: true })]);
  });

  it("restores into a fresh server what dumps the same: keys, values, content types, history", async () => {
    await alice.set({ key: "text", value: bytes("hello") });
    await alice.set({ key: "bin", value: allBytes, contentType: "application/octet-stream" });
    await alice.set({ key: "doc", value: bytes('{"a":1}'), contentType: "application/json" });
    for (const version of ["v1", "v2", "v3"]) {
      await alice.set({ key: "history", value: bytes(version) });
    }
    await alice.set({ key: "empty", value: new Uint8Array(0) });
    await alice.set({ key: "expiring", value: bytes("soon"), lifespan: hour });
    await alice.set({ key: "locked", value: bytes("mine"), lockDuration: minute });
    const file = join(dir, "a.jsonl");

    const dumped = await cli(a, ["dump", "--history", "-o", file]);
    expect(dumped).toMatchObject({ code: 0, stdout: "" });
    const dump = await readFile(file, "utf8");
    const [header, ...entries] = jsonLines(dump);
    expect(header).toMatchObject({ format: "keyquarry-dump", formatVersion: 1, serverVersion: expect.any(String) });
    // Sorted by name; the server's own keyquarry/... keys are left out.
    expect(entries.map((entry) => entry.key)).toEqual(["bin", "doc", "empty", "expiring", "history", "locked", "text"]);
    expect(entries.find((entry) => entry.key === "bin")).toMatchObject({
      value: Buffer.from(allBytes).toString("base64"),
      contentType: "application/octet-stream",
    });
    expect(entries.find((entry) => entry.key === "history")).toMatchObject({
      version: 3,
      history: [
        { version: 1, value: Buffer.from("v1").toString("base64") },
        { version: 2, value: Buffer.from("v2").toString("base64") },
      ],
    });
    expect(entries.find((entry) => entry.key === "locked")?.locked).toBe(true);

    const restored = await cli(b, ["restore", "-i", file], "", "bob");
    expect(restored.code).toBe(0);
    expect(jsonLines(restored.stdout)).toEqual([{ restored: 7, skipped: 0, failed: 0 }]);

    const again = await cli(b, ["dump", "--history"], "", "bob");
    expect(again.code).toBe(0);
    expect(comparable(again.stdout)).toEqual(comparable(dump));
    expect(text((await onB.getRevision({ key: "history", version: 1n })).value)).toBe("v1");
    // A lock's ownership is not carried over.
    expect((await onB.inspect({ key: "locked" })).locked).toBe(false);

    // The lifespan keeps its deadline: what B gives it is at most what was left at the dump.
    const left = parseDuration(String(entries.find((entry) => entry.key === "expiring")?.lifespanLeft));
    const lifespan = nanosFromDuration((await onB.inspect({ key: "expiring" })).lifespan!);
    expect(left).toBeLessThanOrEqual(3600n * 1_000_000_000n);
    expect(lifespan).toBeGreaterThan(0n);
    expect(lifespan).toBeLessThanOrEqual(left);
  });

  it("refuses keys that exist, per line with exit status 1, and restores the rest (from stdin)", async () => {
    await alice.set({ key: "taken", value: bytes("from A") });
    await alice.set({ key: "free", value: bytes("from A") });
    await onB.set({ key: "taken", value: bytes("B's own") });
    const dump = (await cli(a, ["dump"])).stdout;

    const restored = await cli(b, ["restore"], dump, "bob");
    expect(restored.code).toBe(1);
    expect(jsonLines(restored.stdout)).toEqual([
      { key: "taken", line: 3, error: { code: "exists", message: "taken exists; --overwrite replaces it" } },
      { restored: 1, skipped: 0, failed: 1 },
    ]);
    expect(text((await onB.get({ key: "taken" })).value)).toBe("B's own");
    expect(text((await onB.get({ key: "free" })).value)).toBe("from A");
  });

  it("replaces keys that exist with --overwrite", async () => {
    await alice.set({ key: "taken", value: bytes("from A") });
    await onB.set({ key: "taken", value: bytes("B's own") });
    const dump = (await cli(a, ["dump"])).stdout;

    const restored = await cli(b, ["restore", "--overwrite"], dump, "bob");
    expect(restored).toMatchObject({ code: 0, stdout: '{"restored":1,"skipped":0,"failed":0}\n' });
    expect(text((await onB.get({ key: "taken" })).value)).toBe("from A");
  });

  it("skips and counts keys whose lifespan ran out since the dump; reports bad lines and goes on", async () => {
    const file = join(dir, "old.jsonl");
    await writeFile(
      file,
      [
        '{"format":"keyquarry-dump","formatVersion":1,"serverVersion":"","dumpedAt":"2020-01-01T00:00:00Z"}',
        '{"key":"gone","value":"eA==","contentType":"","version":1,"lifespanLeft":"1h0m0s","locked":false}',
        "not json",
        '{"key":"kept","value":"eA==","contentType":"text/plain","version":1,"locked":false}',
        "",
      ].join("\n"),
    );
    const restored = await cli(b, ["restore", "-i", file]);
    expect(restored.code).toBe(1);
    expect(jsonLines(restored.stdout)).toEqual([
      { key: "gone", skipped: "its lifespan ran out" },
      { line: 3, error: { code: "invalid_line", message: "not JSON" } },
      { restored: 1, skipped: 1, failed: 1 },
    ]);
    expect((await onB.exists({ key: "gone" })).exists).toBe(false);
    expect((await onB.inspect({ key: "kept" })).contentType).toBe("text/plain");
  });

  it("refuses input that is not a dump of this format version (exit status 4), restoring nothing", async () => {
    const newer = '{"format":"keyquarry-dump","formatVersion":2,"dumpedAt":"2020-01-01T00:00:00Z"}\n{"key":"k","value":"","contentType":""}\n';
    expect(await cli(b, ["restore"], newer)).toMatchObject({
      code: 4,
      stderr: "keyquarry: restore: line 1: dump format version 2 is not 1, the one this CLI reads\n",
    });
    expect(await cli(b, ["restore"], '{"key":"k"}\n')).toMatchObject({ code: 4, stderr: expect.stringContaining("not a keyquarry dump") });
    expect((await onB.exists({ key: "k" })).exists).toBe(false);
  });

  it("pages through ListKeys: every key of a store no page holds is dumped and restored", async () => {
    // About 10 keys per page.
    const paged = await startTestServer({ maxListKeysResponseSize: 256 });
    try {
      const filler = createKeyquarryClient(new URL(paged.url).host, { clientId: "filler" });
      const keys = Array.from({ length: 100 }, (_, i) => `paged/${String(i).padStart(3, "0")}`);
      for (const key of keys) {
        await filler.set({ key, value: bytes(key) });
      }
      expect((await filler.listKeys({})).more).toBe(true);
      const dump = (await cli(paged, ["dump"])).stdout;
      expect(jsonLines(dump).slice(1).map((entry) => entry.key)).toEqual(keys);
      expect(await cli(b, ["restore"], dump)).toMatchObject({ code: 0, stdout: '{"restored":100,"skipped":0,"failed":0}\n' });
      expect(text((await onB.get({ key: "paged/099" })).value)).toBe("paged/099");
    } finally {
      await paged.close();
    }
  });

  it("stops at once with exit status 3 when there is no server, rather than failing every key", async () => {
    for (const key of ["k1", "k2", "k3"]) {
      await alice.set({ key, value: bytes(key) });
    }
    const dump = (await cli(a, ["dump"])).stdout;
    const nobody = `127.0.0.1:${await freePort()}`;
    const restored = await keyquarry(["client", "--address", nobody, "restore"], dump);
    expect(restored).toMatchObject({ code: 3, stdout: "" });
    expect(restored.stderr).toMatch(/^keyquarry: unavailable: .*ECONNREFUSED.*\n$/);
    expect(await keyquarry(["client", "--address", nobody, "dump"])).toMatchObject({ code: 3, stdout: "" });
  });

  it("dumps only the keys under --prefix, taken literally", async () => {
    for (const key of ["a.b/1", "a.b/2", "axb/3", "z/a.b/4"]) {
      await alice.set({ key, value: bytes(key) });
    }
    const dumped = await cli(a, ["dump", "--prefix", "a.b/"]);
    expect(jsonLines(dumped.stdout).slice(1).map((entry) => entry.key)).toEqual(["a.b/1", "a.b/2"]);
  });

  it("reports a key another client has locked (exit status 1) and dumps the others", async () => {
    await alice.set({ key: "open", value: bytes("x") });
    await alice.set({ key: "guarded", value: bytes("secret"), lockDuration: minute });
    const dumped = await cli(a, ["dump"], "", "mallory");
    expect(dumped.code).toBe(1);
    expect(dumped.stderr).toBe("keyquarry: guarded: permission_denied: Key is locked\n");
    expect(jsonLines(dumped.stdout).slice(1).map((entry) => entry.key)).toEqual(["open"]);
  });
});
