/**
 * The `keyquarry` CLI in scripts and shells: versions, exit statuses, exact
 * value bytes, durations with units, a closed stdout pipe, and the snapshot
 * commands' read-only, RFC 3339 view. Real servers, the built CLI as a child
 * process.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import serverPackage from "../package.json" with { type: "json" };
import { createKeyquarryClient } from "@keyquarry/client-node";
import { durationFromNanos } from "../src/rpc/duration.js";
import { bin, cleanEnv, keyquarry, keyquarryBytes } from "./kit/cli-process.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

const second = 1_000_000_000n;

describe("keyquarry CLI for scripts", () => {
  let server: TestServer;
  let address: string;
  let dir: string;
  const client = (...args: string[]) => keyquarry(["client", "--address", address, ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-scripting-"));
    server = await startTestServer({ minLifespan: second, minLockDuration: second, maxLockDuration: 3600n * second });
    address = new URL(server.url).host;
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--version prints the CLI's version from package.json", async () => {
    expect(await keyquarry(["--version"])).toEqual({ code: 0, stdout: `${serverPackage.version}\n`, stderr: "" });
  });

  it("version prints the CLI's and the server's versions", async () => {
    expect(await keyquarry(["version", "--address", address])).toEqual({
      code: 0,
      stdout: `keyquarry version: ${serverPackage.version}\nserver version: ${serverPackage.version}\n`,
      stderr: "",
    });
    const stats = JSON.parse((await client("stats")).stdout) as { serverVersion?: string };
    expect(stats.serverVersion).toBe(serverPackage.version);
  });

  it("version with no server there prints the CLI's version, says so and exits 3", async () => {
    const result = await keyquarry(["version", "--address", "127.0.0.1:1"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(`keyquarry version: ${serverPackage.version}\n`);
    expect(result.stderr).toMatch(/^keyquarry: server at 127\.0\.0\.1:1 unreachable: unavailable: .*ECONNREFUSED.*\n$/);
  });

  it.each([
    [["set", "k", "v", "--lifespan", "5"], "5"],
    [["set", "k", "v", "--lock", "5"], "5"],
    [["lock", "k", "5"], "5"],
    [["--timeout", "1", "get", "k"], "1"],
    [["watch", "--progress", "5"], "5"],
    [["watch-key", "k", "--progress", "2.5"], "2.5"],
  ])("a duration without a unit is a usage error (exit 2) suggesting seconds: %j", async (args, given) => {
    const result = await client(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`invalid duration "${given}": missing unit (did you mean ${given}s?)`);
  });

  it("a --progress below the server's minimum is a usage error naming it", async () => {
    const result = await client("watch", "--progress", "10ms");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("10ms is below the minimum of 100ms");
  });

  it("the server names the configured lifespan and lock limits", async () => {
    const short = await client("set", "limited", "v", "--lifespan", "1ms");
    expect(short).toEqual({
      code: 4,
      stdout: "",
      stderr: "keyquarry: invalid_argument: invalid lifespan: 1ms is below the minimum of 1s (min_lifespan)\n",
    });
    const lockShort = await client("lock", "limited", "500ms", "--create-if-missing");
    expect(lockShort.stderr).toBe(
      "keyquarry: out_of_range: invalid lock Duration: 500ms is below the minimum of 1s (min_lock_duration)\n",
    );
    const lockLong = await client("set", "limited", "v", "--lock", "2h");
    expect(lockLong.stderr).toBe(
      "keyquarry: out_of_range: lock Duration too long: 2h0m0s is above the maximum of 1h0m0s (max_lock_duration)\n",
    );
  });

  it("exit statuses: 0 ok, 1 not found, 2 usage, 3 unreachable, 4 refused", async () => {
    await client("set", "present", "v");
    expect((await client("exists", "present")).code).toBe(0);
    expect(await client("exists", "absent")).toEqual({ code: 1, stdout: "{}\n", stderr: "" });
    expect(await client("get", "absent")).toEqual({ code: 1, stdout: "", stderr: "keyquarry: not_found: Key not found\n" });
    expect((await client("pop", "absent")).code).toBe(1);
    expect((await keyquarry(["no-such-command"])).code).toBe(2);
    expect((await client("get")).code).toBe(2);
    expect((await client("get", "k", "--no-such-option")).code).toBe(2);
    expect((await client("list", "--limit", "-1")).code).toBe(2);
    expect((await keyquarry(["client", "--address", "127.0.0.1:1", "get", "k"])).code).toBe(3);
    expect((await keyquarry(["client", "--address", "no-such-host.invalid:1", "get", "k"])).code).toBe(3);
    // TLS to a plaintext server: the handshake fails.
    expect((await client("--tls", "get", "present")).code).toBe(3);
    expect((await client("--client-id", "keyquarry", "get", "present")).code).toBe(4);
    expect((await keyquarry(["--help"])).code).toBe(0);
  });

  it.each([
    ["binary bytes", Buffer.from([0x00, 0xff, 0x0a, 0x80, 0x00, 0x7f, 0xfe])],
    ["text ending in a newline", Buffer.from("line 1\nline 2\n")],
    ["text without a trailing newline", Buffer.from("no newline")],
    ["an empty value", Buffer.alloc(0)],
  ])("get and pop write the exact bytes of %s, as set from a file on stdin", async (name, bytes) => {
    const key = `exact/${name}`;
    const file = join(dir, "value.bin");
    await writeFile(file, bytes);
    const input = await readFile(file);
    expect((await keyquarry(["client", "--address", address, "set", key], input)).code).toBe(0);
    const got = await keyquarryBytes(["client", "--address", address, "get", key]);
    expect(got.code).toBe(0);
    expect(got.stdout.equals(bytes)).toBe(true);
    const popped = await keyquarryBytes(["client", "--address", address, "pop", key]);
    expect(popped.stdout.equals(bytes)).toBe(true);
  });

  it("on a terminal, a value that does not end a line gets one (script(1) gives the CLI a pty)", async () => {
    expect(existsSync("/usr/bin/script")).toBe(true);
    await client("set", "terminal", "no newline");
    await client("set", "terminal-nl", "ends\n");
    const onTerminal = (key: string) =>
      new Promise<string>((resolve) => {
        const command = [process.execPath, bin, "client", "--address", address, "get", key].join(" ");
        const child = spawn("/usr/bin/script", ["-qec", command, "/dev/null"], { env: cleanEnv() });
        let output = "";
        child.stdout.on("data", (chunk) => (output += String(chunk)));
        child.once("close", () => resolve(output));
      });
    // The terminal turns "\n" into "\r\n".
    expect(await onTerminal("terminal")).toBe("no newline\r\n");
    expect(await onTerminal("terminal-nl")).toBe("ends\r\n");
  });

  it("a closed stdout pipe ends the command quietly: client list | head -1", async () => {
    // More output than a pipe holds (64 KiB), so the CLI is still writing when head exits.
    const keys = Array.from({ length: 3000 }, (_, i) => `pipe/${"x".repeat(40)}-${i}`);
    const sdk = createKeyquarryClient(address, { clientId: "filler" });
    await Promise.all(keys.map((key) => sdk.set({ key, value: new Uint8Array(0) })));
    expect(await pipedToHead(["client", "--address", address, "list", "--pattern", "^pipe/"])).toEqual({
      stdout: `${keys[0]}\nstatus 0\n`,
      stderr: "",
    });
  });
});

/** Runs the CLI in bash as `keyquarry <args> | head -1` with pipefail, then prints the pipeline's status. */
function pipedToHead(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const quoted = [process.execPath, bin, ...args].map((arg) => `'${arg}'`).join(" ");
  return new Promise((resolve) => {
    const shell = spawn("/bin/bash", ["-c", `set -o pipefail; ${quoted} | head -1; echo "status $?"`], { env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    shell.stdout.on("data", (chunk) => (stdout += String(chunk)));
    shell.stderr.on("data", (chunk) => (stderr += String(chunk)));
    shell.once("close", () => resolve({ stdout, stderr }));
  });
}

describe("keyquarry snapshot", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-snapshots-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says there is no database, exits 1 and creates none", async () => {
    const file = join(dir, "missing.db");
    for (const command of [["list"], ["show", "1"]]) {
      const result = await keyquarry(["snapshot", ...command, "--database", `sqlite://${file}`]);
      expect(result).toEqual({ code: 1, stdout: "", stderr: `keyquarry: no snapshot database at ${file}\n` });
    }
    // The default database, <data_dir>/keyquarry.db, in a data dir that does not exist either.
    const dataDir = join(dir, "no-data-dir");
    const byDefault = await keyquarry(["snapshot", "list"], "", { KEYQUARRY_DATA_DIR: dataDir });
    expect(byDefault).toMatchObject({ code: 1, stderr: `keyquarry: no snapshot database at ${join(dataDir, "keyquarry.db")}\n` });
    expect(existsSync(file)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("prints times in RFC 3339 and durations in Go's notation, and stops quietly at a closed pipe", async () => {
    const file = join(dir, "snapshots.db");
    const database = `sqlite://${file}`;
    const server = await startTestServer({ name: "times", snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database, retain: 1000 } });
    const address = new URL(server.url).host;
    const sdk = createKeyquarryClient(address, { clientId: "timer" });
    await sdk.register({});
    await sdk.set({ key: "timed", value: new TextEncoder().encode("v"), lifespan: durationFromNanos(90n * second) });
    await sdk.lock({ key: "timed", duration: durationFromNanos(30n * second) });
    await server.close(); // the final snapshot

    const listed = await keyquarry(["snapshot", "list", "--database", database]);
    expect(listed.code).toBe(0);
    const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
    const [summary, journal] = listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
    expect(summary).toMatchObject({ id: 1, serverName: "times", created: expect.stringMatching(rfc3339) });
    expect(journal).toEqual({ serverName: "times", journal: { entries: 0, lastSeq: 0 } });

    const shown = JSON.parse((await keyquarry(["snapshot", "show", "1", "--database", database])).stdout);
    expect(shown.takenAt).toMatch(rfc3339);
    expect(shown.keys[0]).toMatchObject({
      key: "timed",
      created: expect.stringMatching(rfc3339),
      lock: { duration: "30s", created: expect.stringMatching(rfc3339), deadline: expect.stringMatching(rfc3339) },
      lifespan: { duration: "1m30s", set: expect.stringMatching(rfc3339), deadline: expect.stringMatching(rfc3339) },
    });
    expect(shown.keys[0].updated).toBeUndefined();
    expect(shown.clients).toContainEqual({ clientId: "timer", firstSeen: expect.stringMatching(rfc3339) });

    // Many snapshots: more list output than a pipe holds.
    const { openSnapshotStore } = await import("../src/snapshot/index.js");
    const store = openSnapshotStore(database, dir);
    const state = await store.load(1n);
    for (let i = 0; i < 600; i++) {
      await store.save(`many-${"n".repeat(100)}`, state!, 1000);
    }
    await store.close();
    const piped = await pipedToHead(["snapshot", "list", "--database", database]);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toMatch(/^\{"id":601,.*\}\nstatus 0\n$/);
  });
});
