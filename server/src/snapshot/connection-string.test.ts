import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../config/config-error.js";
import { parseConnectionString } from "./connection-string.js";
import { openSnapshotStore } from "./open-snapshot-store.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";
import { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";

const sqlite = (file: string, extra: object = {}) => ({
  driver: "sqlite",
  file,
  readonly: false,
  fileMustExist: false,
  isDefault: false,
  ...extra,
});

describe("parseConnectionString", () => {
  it("defaults to keyquarry.db in the data directory", () => {
    expect(parseConnectionString("", "/var/lib/kq")).toEqual(sqlite("/var/lib/kq/keyquarry.db", { isDefault: true }));
  });

  it("takes everything after sqlite:// as the file", () => {
    expect(parseConnectionString("sqlite:///abs/file.db", "/d")).toEqual(sqlite("/abs/file.db"));
    expect(parseConnectionString("sqlite://rel.db", "/d")).toEqual(sqlite("rel.db"));
    expect(parseConnectionString("sqlite://sub/dir/rel.db", "/d")).toEqual(sqlite("sub/dir/rel.db"));
    expect(parseConnectionString("sqlite://:memory:", "/d")).toEqual(sqlite(":memory:"));
    expect(parseConnectionString("SQLite:///abs.db", "/d")).toEqual(sqlite("/abs.db"));
  });

  it("reads the mode parameter", () => {
    expect(parseConnectionString("sqlite:///a.db?mode=ro", "/d")).toEqual(sqlite("/a.db", { readonly: true, fileMustExist: true }));
    expect(parseConnectionString("sqlite:///a.db?mode=rw", "/d")).toEqual(sqlite("/a.db", { fileMustExist: true }));
    expect(parseConnectionString("sqlite:///a.db?mode=rwc", "/d")).toEqual(sqlite("/a.db"));
    expect(() => parseConnectionString("sqlite:///a.db?mode=wat", "/d")).toThrow("unsupported SQLite mode 'wat'");
    expect(() => parseConnectionString("sqlite:///a.db?cache=shared", "/d")).toThrow("unsupported SQLite connection parameter 'cache'");
  });

  it("passes postgres:// and postgresql:// URLs whole", () => {
    const url = "postgres://user:secret@db.example:5432/kq?sslmode=disable";
    expect(parseConnectionString(url, "/d")).toEqual({ driver: "postgres", url });
    const url2 = "postgresql://user@localhost/kq";
    expect(parseConnectionString(url2, "/d")).toEqual({ driver: "postgres", url: url2 });
  });

  it.each([
    "mysql://root:hunter2@localhost/db",
    "hunter2",
    "/tmp/file.db",
    "sqlite:",
    "sqlite:/x.db",
    "sqlite://",
    "sqlite://?mode=ro",
    "postgres:/hunter2@host/db",
    "postgres://hunter2@[bad/db",
  ])("refuses %s without repeating it", (connectionString) => {
    let error: unknown;
    try {
      parseConnectionString(connectionString, "/d");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("unsupported or invalid database driver in connection string");
    expect(message).toContain("snapshot.database");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain(connectionString);
  });
});

describe("openSnapshotStore", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("creates the data directory for the default SQLite file", async () => {
    dir = mkdtempSync(join(tmpdir(), "kq-open-"));
    const dataDir = join(dir, "nested", "data");
    const store = openSnapshotStore("", dataDir);
    expect(store).toBeInstanceOf(SqliteSnapshotStore);
    await store.migrate();
    await store.close();
    expect(existsSync(join(dataDir, "keyquarry.db"))).toBe(true);
  });

  it("opens an explicit SQLite file, read-only with mode=ro", async () => {
    dir = mkdtempSync(join(tmpdir(), "kq-open-"));
    const file = join(dir, "explicit.db");
    const writer = openSnapshotStore(`sqlite://${file}`, "/nonexistent");
    await writer.migrate();
    await writer.save("n", { format: 1, takenAt: 1n, revision: 2n, commandSeq: 0n, fencingToken: 0n, readonly: false, keys: [], history: [], metrics: [], clients: [] }, 1);
    await writer.close();

    const reader = openSnapshotStore(`sqlite://${file}?mode=ro`, "/nonexistent");
    await reader.migrate();
    expect((await reader.loadLatest("n"))?.revision).toBe(2n);
    await expect(reader.save("n", { format: 1, takenAt: 1n, revision: 3n, commandSeq: 0n, fencingToken: 0n, readonly: false, keys: [], history: [], metrics: [], clients: [] }, 1)).rejects.toThrow(/readonly/);
    await reader.close();
  });

  it("opens PostgreSQL lazily", async () => {
    const store = openSnapshotStore("postgres://nobody@127.0.0.1:1/none", "/d");
    expect(store).toBeInstanceOf(PostgresSnapshotStore);
    await store.close();
  });
});
