/**
 * `keyquarry serve` started as the README's production command does it
 * (node running server/bin/keyquarry.js, no npm or shell in between) and
 * stopped by a supervisor's signal: it must stop gracefully in its own
 * process, exit 0, and leave a final snapshot holding every write.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyquarry } from "./kit/cli-process.js";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";

describe.each(["SIGTERM", "SIGINT"] as const)("keyquarry serve stopped by %s", (signal) => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "kq-signals-"));
  });
  afterEach(async () => {
    await killServeProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stops gracefully even when signalled the moment it says it listens", async () => {
    // A supervisor may signal as soon as it reads the line: the handler must be there by then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = await spawnServe({ env: { KEYQUARRY_DATA_DIR: dataDir, KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_NAME: "at-listening", KEYQUARRY_LOG_LEVEL: "NOTICE" } });
      proc.child.kill(signal);
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stdout()).toContain(`shutting down {"reason":"${signal}"}`);
    }
  });

  it("exits 0 from its own process after writing the final snapshot into data_dir", async () => {
    // Snapshots in the default database, <data_dir>/keyquarry.db: the container's setting (data_dir = /data).
    const proc = await spawnServe({
      env: { KEYQUARRY_DATA_DIR: dataDir, KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_NAME: "signals", KEYQUARRY_LOG_LEVEL: "NOTICE" },
    });
    // The process a supervisor signals is the server itself: it has started no process of its own.
    const pid = proc.child.pid!;
    expect(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim()).toBe("");

    const { kv } = createClients("grpc", proc.url, "writer");
    const written = Array.from({ length: 20 }, (_, n) => ({ key: `key-${n}`, value: `value ${n}` }));
    for (const { key, value } of written) {
      await kv.set({ key, value: bytes(value) });
    }

    proc.child.kill(signal);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain(`shutting down {"reason":"${signal}"}`);
    expect(proc.stderr()).toBe("");

    // Read back with the CLI, which finds the database from the same setting.
    const env = { KEYQUARRY_DATA_DIR: dataDir };
    const listed = await keyquarry(["snapshot", "list"], "", env);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    const summaries = listed.stdout.trim().split("\n").map((line) => JSON.parse(line) as { id: number });
    expect(summaries).toEqual([
      expect.objectContaining({ serverName: "signals", keys: written.length }),
      // The final snapshot covers the whole journal.
      { serverName: "signals", journal: { entries: 0, lastSeq: 0 } },
    ]);
    const shown = await keyquarry(["snapshot", "show", String(summaries[0]!.id), "--values"], "", env);
    expect(shown).toMatchObject({ code: 0, stderr: "" });
    const state = JSON.parse(shown.stdout) as { keys: Array<{ key: string; value: string }> };
    const stored = Object.fromEntries(state.keys.map(({ key, value }) => [key, Buffer.from(value, "base64").toString()]));
    expect(stored).toEqual(Object.fromEntries(written.map(({ key, value }) => [key, value])));
  });
});
