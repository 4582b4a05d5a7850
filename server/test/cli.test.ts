import { spawn } from "node:child_process";
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { bin, keyquarry, type CliResult } from "./kit/cli-process.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

describe("keyquarry client", () => {
  let server: TestServer;
  let address: string;
  const client = (...args: string[]) => keyquarry(["client", "--address", address, ...args]);

  beforeAll(async () => {
    server = await startTestServer();
    address = new URL(server.url).host;
  });

  afterAll(async () => {
    await server.close();
  });

  it("sets a new key, updates it and gets the raw value", async () => {
    expect(await client("set", "foo", "bar")).toEqual({
      code: 0,
      stdout: '{"success":true,"isNew":true}\n',
      stderr: "",
    });
    expect((await client("set", "foo", "baz")).stdout).toBe('{"success":true}\n');
    expect(await client("get", "foo")).toEqual({ code: 0, stdout: "baz", stderr: "" });
  });

  it("locks, extends, refuses other clients and unlocks", async () => {
    const first = JSON.parse((await client("lock", "locked-key", "30s", "--create-if-missing")).stdout);
    expect(first).toMatchObject({ success: true, fencingToken: expect.any(Number) });
    const again = JSON.parse((await client("lock", "locked-key", "1m")).stdout);
    expect(again.fencingToken).toBe(first.fencingToken);
    const refused = await client("--client-id", "intruder", "set", "locked-key", "x");
    expect(refused).toMatchObject({ code: 4, stdout: "" });
    expect(refused.stderr).toBe("keyquarry: permission_denied: client_id provided does not match key\n");
    expect((await client("unlock", "locked-key")).stdout).toBe('{"success":true}\n');
    expect((await client("--client-id", "intruder", "set", "locked-key", "x")).code).toBe(0);
    const invalid = await client("lock", "locked-key", "soon");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('invalid duration "soon"');
  });

  it("sets with a lock, a lifespan and a version condition", async () => {
    const created = JSON.parse((await client("set", "cas-key", "v1", "--lock", "10s", "--lifespan", "1h", "--if-version", "0")).stdout);
    expect(created).toMatchObject({ success: true, isNew: true, fencingToken: expect.any(Number) });
    const info = JSON.parse((await client("inspect", "cas-key")).stdout);
    expect(info).toMatchObject({ locked: true, lifespan: "3600s", version: 1, fencingToken: created.fencingToken });
    expect((await client("set", "cas-key", "v2", "--if-version", "1")).stdout).toBe('{"success":true}\n');
    const stale = await client("set", "cas-key", "v3", "--if-version", "1");
    expect(stale.stderr).toBe("keyquarry: failed_precondition: version mismatch: the current version is 2\n");
    expect((await client("delete", "cas-key", "--if-version", "1")).code).toBe(4);
  });

  it("reads revisions, metrics and clears history", async () => {
    for (const value of ["baz", "newbaz", "asdf"]) {
      await client("set", "revised", value);
    }
    expect((await client("get", "revised", "--revision", "2")).stdout).toBe("newbaz");
    expect((await client("get", "revised", "--revision", "0")).stdout).toBe("asdf");
    expect((await client("get", "revised", "--revision", "-1")).stdout).toBe("newbaz");
    expect((await client("get-revision", "revised", "1")).stdout).toBe("baz");
    expect((await client("revision", "revised", "3")).stdout).toBe("asdf");
    const metrics = JSON.parse((await client("metrics", "revised")).stdout);
    // Revision reads are not accesses (as in the original); the plain get is.
    expect(metrics).toMatchObject({ setCount: 3, accessCount: 1 });
    expect(metrics.firstSet).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.parse((await client("clear-history")).stdout)).toMatchObject({ cleared: expect.any(Number) });
    expect((await client("get-revision", "revised", "1")).stderr).toBe("keyquarry: not_found: revision not found\n");
    expect((await client("get-revision", "revised", "3")).stdout).toBe("asdf");
  });

  it("watches events as JSON lines and exits 0 on Ctrl-C", async () => {
    const child = spawn(process.execPath, [bin, "client", "--address", address, "watch", "--keys", "watched", "--progress", "200ms"]);
    let output = "";
    child.stdout.on("data", (chunk) => (output += String(chunk)));
    const nextLine = (predicate: (line: string) => boolean) =>
      vi.waitFor(
        () => {
          const found = output.split("\n").find(predicate);
          if (found === undefined) {
            throw new Error(`no matching line yet in: ${output}`);
          }
          return JSON.parse(found) as Record<string, unknown>;
        },
        { timeout: 10_000, interval: 20 },
      );
    // The first progress line says the server is watching.
    expect(await nextLine((line) => line.includes('"progress":true'))).toMatchObject({ progress: true });
    await client("set", "watched", "v");
    expect(await nextLine((line) => line.includes('"CREATED"'))).toMatchObject({
      key: "watched",
      event: "CREATED",
      revision: expect.any(Number),
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("sets a value read from stdin as raw bytes", async () => {
    const bytes = Uint8Array.of(0x61, 0x00, 0x0a, 0x0a, 0x62);
    expect((await keyquarry(["client", "--address", address, "set", "stdin-key"], bytes)).stdout).toBe(
      '{"success":true,"isNew":true}\n',
    );
    const got = await client("get", "stdin-key");
    expect(got.stdout).toBe("a\0\n\nb");
  });

  it.each([
    ["inspect", ["--indent", "2", "inspect", "inspect-key"]],
    ["info", ["info", "inspect-key", "--indent", "2"]],
  ])("prints %s as JSON with exact 64-bit integers", async (_name, args) => {
    await client("set", "inspect-key", "bar");
    const result = await client(...args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"hash": 16101355973854746');
    expect(result.stdout.startsWith('{\n  "key": "inspect-key",\n')).toBe(true);
    expect(result.stdout.endsWith("}\n")).toBe(true);
    expect(JSON.parse(result.stdout)).toMatchObject({
      key: "inspect-key",
      version: 1,
      size: 3,
      contentType: "text/plain; charset=utf-8",
    });
    const compact = await client("inspect", "inspect-key");
    expect(compact.stdout).toContain('"hash":16101355973854746');
    expect(compact.stdout.split("\n")).toHaveLength(2);
  });

  it("inspects with the value", async () => {
    await client("set", "valued-key", "v");
    const { stdout } = await client("inspect", "valued-key", "--with-value");
    const json = JSON.parse(stdout) as { value?: string };
    expect(json.value).toBe(Buffer.from("v").toString("base64"));
  });

  it("checks existence (exit status 0 or 1), deletes and pops", async () => {
    await client("set", "gone", "1");
    expect(await client("exists", "gone")).toEqual({ code: 0, stdout: '{"exists":true}\n', stderr: "" });
    expect((await client("delete", "gone")).stdout).toBe('{"deleted":true}\n');
    expect(await client("exists", "gone")).toEqual({ code: 1, stdout: "{}\n", stderr: "" });
    await client("set", "popped", "value");
    expect((await client("pop", "popped")).stdout).toBe("value");
    expect((await client("exists", "popped")).code).toBe(1);
  });

  it("lists keys with pattern, limit and reserved keys", async () => {
    await Promise.all(["list-a1", "list-a2", "list-b1"].map((key) => client("set", key, "x")));
    const lines = (result: CliResult) => result.stdout.split("\n").filter((line) => line !== "");
    expect(lines(await client("list", "--pattern", "^list-a")).sort()).toEqual(["list-a1", "list-a2"]);
    expect(lines(await client("list", "--pattern", "^list-", "--limit", "1"))).toHaveLength(1);
    const all = lines(await client("list", "--include-reserved"));
    expect(all).toContain("list-b1");
    expect(all.some((key) => key.startsWith("keyquarry/"))).toBe(true);
    expect(lines(await client("list")).some((key) => key.startsWith("keyquarry/"))).toBe(false);
  });

  it("prints stats and registers", async () => {
    const stats = await client("stats");
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^\{"keys":\d+,/);
    const registered = await keyquarry(["client", "-a", address, "--client-id", "registrant", "register"]);
    expect(JSON.parse(registered.stdout)).toMatchObject({ success: true });
    const again = await keyquarry(["client", "-a", address, "--client-id", "registrant", "register"]);
    expect(again.code).toBe(4);
    expect(again.stderr).toBe("keyquarry: already_exists: already registered\n");
  });

  it("clears user keys", async () => {
    await client("set", "clear-me", "x");
    const result = await client("clear");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ success: true });
    expect((await client("exists", "clear-me")).stdout).toBe("{}\n");
  });

  it("reports RPC errors on one line with the status code", async () => {
    const missing = await client("get", "no-such-key");
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "keyquarry: not_found: Key not found\n" });
    const readonly = await client("readonly", "on");
    expect(readonly.code).toBe(4);
    expect(readonly.stderr).toMatch(/^keyquarry: failed_precondition: .+\n$/);
    const reserved = await client("--client-id", "keyquarry", "get", "foo");
    expect(reserved.code).toBe(4);
    expect(reserved.stderr).toMatch(/^keyquarry: invalid_argument: .+\n$/);
  });

  it("reports usage errors", async () => {
    const result = await client("readonly", "maybe");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid choice (must be: on or off)");
  });

  it("reports an unreachable server as unavailable", async () => {
    const result = await keyquarry(["client", "--address", "127.0.0.1:1", "get", "foo"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^keyquarry: unavailable: .+\n$/);
  });

  it.each(["grpc-web", "connect"])("works over --protocol %s", async (protocol) => {
    const key = `protocol-${protocol}`;
    expect((await client("--protocol", protocol, "set", key, protocol)).stdout).toBe(
      '{"success":true,"isNew":true}\n',
    );
    expect((await client("get", key, "--protocol", protocol)).stdout).toBe(protocol);
  });
});

describe("keyquarry client over a unix socket", () => {
  let server: KeyquarryServer;
  let dir: string;
  let socket: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-"));
    socket = join(dir, "kq.sock");
    server = await build({ ...defaultConfig(), listenAddress: `unix://${socket}`, logLevel: "ERROR" });
    await server.listen();
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sets and gets", async () => {
    const address = `unix://${socket}`;
    expect((await keyquarry(["client", "--address", address, "set", "foo", "bar"])).stdout).toBe(
      '{"success":true,"isNew":true}\n',
    );
    expect((await keyquarry(["client", "get", "foo", "-a", address])).stdout).toBe("bar");
  });

  it("reports a missing socket file", async () => {
    const missing = join(dir, "missing.sock");
    const result = await keyquarry(["client", "--address", `unix://${missing}`, "get", "foo"]);
    expect(result).toEqual({ code: 3, stdout: "", stderr: `keyquarry: unavailable: socket file '${missing}' not found\n` });
  });
});

describe("keyquarry client admin commands (privileged client id `boss`)", () => {
  let server: TestServer;
  let address: string;
  const client = (...args: string[]) => keyquarry(["client", "--address", address, ...args]);
  const boss = (...args: string[]) => client("--client-id", "boss", ...args);
  const lines = (result: CliResult) => result.stdout.split("\n").filter((line) => line !== "");
  const adminOnly = "keyquarry: permission_denied: missing or invalid client ID for admin function\n";

  beforeAll(async () => {
    server = await startTestServer({ privilegedClientId: "boss" });
    address = new URL(server.url).host;
  });

  afterAll(async () => {
    await server.close();
  });

  it("prune <prune-to> [ignore-key...] prints {\"pruned\":N}, or {} when nothing was removed", async () => {
    expect(await boss("prune", "0")).toEqual({ code: 0, stdout: "{}\n", stderr: "" });
    for (const key of ["keep", "also-keep", "a", "b", "c"]) {
      await client("set", key, "x");
    }
    // 5 user keys (reserved ones never count), down to 1: the two ignored keys stay.
    expect(await boss("prune", "1", "keep", "also-keep")).toEqual({ code: 0, stdout: '{"pruned":3}\n', stderr: "" });
    expect(lines(await client("list"))).toEqual(["keep", "also-keep"]);
    expect((await boss("prune", "5")).stdout).toBe("{}\n");
    expect((await boss("--protocol", "connect", "prune", "0", "keep")).stdout).toBe('{"pruned":1}\n');
    expect(lines(await client("list"))).toEqual(["keep"]);
    expect(lines(await client("list", "--include-reserved")).filter((key) => key.startsWith("keyquarry/"))).toHaveLength(16);
  });

  it("prune refuses other client ids and a bad <prune-to>", async () => {
    await client("set", "survivor", "x");
    expect(await client("prune", "0")).toEqual({ code: 4, stdout: "", stderr: adminOnly });
    expect(await client("--client-id", "Boss", "prune", "0")).toEqual({ code: 4, stdout: "", stderr: adminOnly });
    expect((await client("exists", "survivor")).stdout).toBe('{"exists":true}\n');
    for (const bad of ["abc", "1.5", "-1"]) {
      const result = await boss("prune", bad);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).not.toBe("");
    }
    expect((await boss("prune", "abc")).stderr).toContain("must be a non-negative integer");
    expect((await boss("prune")).stderr).toContain("missing required argument 'prune-to'");
  });

  it("shutdown (alias server-shutdown) prints {} for the privileged client and starts the server's shutdown", async () => {
    let requested = false;
    void server.server.shutdownRequested.then(() => (requested = true));
    expect(await client("shutdown")).toEqual({ code: 4, stdout: "", stderr: adminOnly });
    expect(await client("server-shutdown")).toEqual({ code: 4, stdout: "", stderr: adminOnly });
    expect(requested).toBe(false);
    expect(await boss("server-shutdown")).toEqual({ code: 0, stdout: "{}\n", stderr: "" });
    await server.server.shutdownRequested;
    expect(await boss("shutdown", "--protocol", "connect")).toEqual({ code: 0, stdout: "{}\n", stderr: "" });
  });
});

describe("keyquarry client shutdown against keyquarry serve", () => {
  afterEach(killServeProcesses);

  /** `keyquarry serve` with privileged client id `boss`, listening; `address` is its host:port for `--address`. */
  async function serve() {
    const { url, exited } = await spawnServe({ args: ["--privileged-client-id", "boss"] });
    return { address: new URL(url).host, exited };
  }

  it("--protocol connect: prints {} and the server exits with status 0", async () => {
    const { address, exited } = await serve();
    const result = await keyquarry(["client", "-a", address, "--client-id", "boss", "--protocol", "connect", "shutdown"]);
    expect(result).toEqual({ code: 0, stdout: "{}\n", stderr: "" });
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it("over gRPC (the default): prints {} and the server exits with status 0", async () => {
    const { address, exited } = await serve();
    const result = await keyquarry(["client", "-a", address, "--client-id", "boss", "server-shutdown"]);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(result).toEqual({ code: 0, stdout: "{}\n", stderr: "" });
  });
});

describe("keyquarry snapshot", () => {

  describe("list: the journal of each server name", () => {
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-journal-"));
    });

    afterEach(async () => {
      await killServeProcesses();
      await rm(dir, { recursive: true, force: true });
    });

    /** `snapshot list`'s lines, parsed. */
    async function list(args: string[], env: Record<string, string> = {}): Promise<unknown[]> {
      const listed = await keyquarry(["snapshot", "list", ...args], "", env);
      expect(listed).toMatchObject({ code: 0, stderr: "" });
      return listed.stdout === "" ? [] : listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
    }

    it("counts the acknowledged commands a kill -9 left after the newest snapshot, and none once a snapshot covers them", async () => {
      const database = `sqlite://${join(dir, "snapshots.db")}`;
      // The defaults: journal `sync`, so every acknowledged Set is in it.
      const env = { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: database, KEYQUARRY_NAME: "journaled", KEYQUARRY_DATA_DIR: dir };
      const served = await spawnServe({ env });
      const address = new URL(served.url).host;
      // The name comes from the configuration, as for `serve`; no snapshot yet, only the start-up's commands.
      const [atStart, ...none] = (await list([], env)) as Array<{ serverName: string; journal: { entries: number; lastSeq: number } }>;
      expect(none).toEqual([]);
      expect(atStart).toEqual({ serverName: "journaled", journal: { entries: expect.any(Number), lastSeq: atStart!.journal.entries } });

      for (const key of ["a", "b", "c"]) {
        expect(await keyquarry(["client", "--address", address, "set", key, "v"])).toMatchObject({ code: 0 });
      }
      served.child.kill("SIGKILL");
      await served.exited;
      const entries = atStart!.journal.entries + 3;
      expect(await list(["--database", database, "--name", "journaled"])).toEqual([{ serverName: "journaled", journal: { entries, lastSeq: entries } }]);
      expect(await list(["--database", database, "--name", "another"])).toEqual([]);

      // Restart (replays the journal), then stop: the final snapshot covers the journal, which it truncates.
      const restarted = await spawnServe({ env });
      restarted.child.kill("SIGTERM");
      expect(await restarted.exited).toEqual({ code: 0, signal: null });
      expect(await list([], env)).toEqual([
        expect.objectContaining({ id: 1, serverName: "journaled", keys: 3 }),
        { serverName: "journaled", journal: { entries: 0, lastSeq: 0 } },
      ]);
    });

    it("shows an empty journal in a database written before the journal existed, and changes nothing", async () => {
      const file = join(dir, "old.db");
      const server = await startTestServer({ name: "old", snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database: `sqlite://${file}`, retain: 3 } });
      await server.close(); // the final snapshot
      const sqlite = new Database(file);
      sqlite.exec("DROP TABLE journal_entries");
      sqlite.close();

      expect(await list(["--database", `sqlite://${file}`])).toEqual([
        expect.objectContaining({ id: 1, serverName: "old" }),
        { serverName: "old", journal: { entries: 0, lastSeq: 0 } },
      ]);
      const after = new Database(file, { readonly: true });
      expect(after.prepare("SELECT name FROM sqlite_master WHERE name = 'journal_entries'").all()).toEqual([]);
      after.close();
    });
  });
  it("lists and shows stored snapshots without a server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-snapshot-"));
    const database = `sqlite://${join(dir, "snapshots.db")}`;
    try {
      const server = await startTestServer({ name: "cli-test", snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database, retain: 3 } });
      const address = new URL(server.url).host;
      await keyquarry(["client", "--address", address, "set", "kept", "value"]);
      await server.close(); // writes the final snapshot

      const listed = await keyquarry(["snapshot", "list", "--database", database]);
      expect(listed.code).toBe(0);
      const [summary, journal, ...rest] = listed.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
      expect(summary).toMatchObject({ id: 1, serverName: "cli-test", keys: 1, bytes: 5 });
      // The final snapshot covers every command: its journal is empty.
      expect(journal).toEqual({ serverName: "cli-test", journal: { entries: 0, lastSeq: 0 } });
      expect(rest).toEqual([]);

      const shown = await keyquarry(["snapshot", "show", "1", "--database", database, "--values"]);
      const state = JSON.parse(shown.stdout) as { keys: Array<Record<string, unknown>> };
      expect(state.keys).toEqual([
        expect.objectContaining({ key: "kept", size: 5, version: 1, value: Buffer.from("value").toString("base64") }),
      ]);
      const missing = await keyquarry(["snapshot", "show", "9", "--database", database]);
      expect(missing).toMatchObject({ code: 1, stderr: "keyquarry: no snapshot with id 9\n" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
