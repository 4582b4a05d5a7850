/**
 * `keyquarry client watch` and `watch-key` outlive a server restart: they
 * reconnect with back-off and resume after the last revision they received,
 * which the restarted server still counts from, because it restores its
 * revision from the snapshot written when the first one closed.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyquarryClient } from "@keyquarry/client-node";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { spawnKeyquarry, type CliProcess } from "./kit/cli-process.js";
import { freePort } from "./kit/free-port.js";

const waitLong = { timeout: 20_000, interval: 25 };

describe("keyquarry client watch across a server restart", () => {
  let dir: string | undefined;
  let server: KeyquarryServer | undefined;
  const watchers: CliProcess[] = [];

  afterEach(async () => {
    for (const watcher of watchers.splice(0)) {
      watcher.child.kill("SIGKILL");
      await watcher.exited;
    }
    await server?.close();
    server = undefined;
    if (dir !== undefined) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints every event once, before and after the restart, says it is reconnecting, and exits 0 on Ctrl-C", async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-cli-reconnect-"));
    // The first start takes port 0; the restart takes the port it got, where the watchers reconnect to.
    let listenAddress = "127.0.0.1:0";
    const start = async () => {
      server = await build({
        ...defaultConfig(),
        listenAddress,
        logLevel: "ERROR",
        name: "reconnect",
        snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database: `sqlite://${join(dir!, "snapshots.db")}`, retain: 2 },
      });
      return new URL(await server.listen()).host;
    };
    const address = await start();
    listenAddress = address;
    const sdk = createKeyquarryClient(address, { clientId: "writer" });
    const set = (key: string, value: string) => sdk.set({ key, value: new TextEncoder().encode(value) });

    const watch = spawnKeyquarry(["client", "--address", address, "--client-id", "watcher", "watch"]);
    const watchKey = spawnKeyquarry(["client", "--address", address, "--client-id", "key-watcher", "watch-key", "b"]);
    watchers.push(watch, watchKey);
    // Both streams are open once the server counts them.
    await vi.waitFor(async () => expect((await sdk.stats({})).eventSubscribers).toBe(2n), waitLong);

    await set("a", "1");
    await set("b", "1");
    await vi.waitFor(() => expect(lines(watchKey)).toHaveLength(1), waitLong);
    await vi.waitFor(() => expect(changes(watch)).toEqual(["a CREATED", "b CREATED"]), waitLong);

    await server!.close(); // writes the final snapshot, with the revision
    server = undefined;
    // With nobody listening, each attempt is refused and the next one is announced.
    for (const watcher of [watch, watchKey]) {
      await vi.waitFor(() => expect(watcher.stderr()).toMatch(/still unreachable \(unavailable: .*ECONNREFUSED.*\); reconnecting in \d+\.\ds\n/), waitLong);
    }
    await start();
    // Right after the restart, perhaps before the watchers are back: replayed to them when they are.
    await set("b", "2");
    await set("a", "2");
    for (const watcher of [watch, watchKey]) {
      await vi.waitFor(() => expect(watcher.stderr()).toMatch(/reconnected, resuming after revision \d+\n/), waitLong);
    }
    await set("b", "3");
    await vi.waitFor(() => expect(lines(watchKey).map(({ value }) => value)).toEqual(["1", "2", "3"].map(base64)), waitLong);
    await vi.waitFor(() => expect(changes(watch)).toHaveLength(5), waitLong);

    // watch: every event of the server, so revisions follow each other without a gap or a repeat,
    // the restarted server's own (its reserved keys' CREATED) and watch-key's reads (ACCESSED) included.
    const events = lines(watch);
    const revisions = events.map(({ revision }) => Number(revision));
    expect(revisions).toEqual(revisions.map((_, i) => revisions[0]! + i));
    expect(changes(watch)).toEqual(["a CREATED", "b CREATED", "b UPDATED", "a UPDATED", "b UPDATED"]);
    expect(events.filter(({ key }) => String(key).startsWith("keyquarry/")).length).toBeGreaterThan(0);
    // watch-key: the key's three values, each once, in revision order.
    const keyRevisions = lines(watchKey).map(({ revision }) => Number(revision));
    expect(keyRevisions).toEqual([...keyRevisions].sort((x, y) => x - y));
    expect(new Set(keyRevisions).size).toBe(3);

    for (const watcher of [watch, watchKey]) {
      expect(watcher.stderr()).toMatch(/^keyquarry: connection lost \(.+\); reconnecting in \d+\.\ds\n/);
      watcher.child.kill("SIGINT");
      expect(await watcher.exited).toBe(0);
    }
  });

  it("gives up at once (exit 3) when there was never a server to resume from", async () => {
    const watch = spawnKeyquarry(["client", "--address", `127.0.0.1:${await freePort()}`, "watch"]);
    watchers.push(watch);
    expect(await watch.exited).toBe(3);
    expect(watch.stderr()).toMatch(/^keyquarry: unavailable: .*ECONNREFUSED.*\n$/);
  });
});

/** The JSON lines a watcher has printed. */
function lines(watcher: CliProcess): Array<Record<string, unknown>> {
  return watcher
    .stdout()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A watcher's events that changed a user key, as `<key> <event>`. */
function changes(watcher: CliProcess): string[] {
  return lines(watcher)
    .filter(({ key, event }) => !String(key).startsWith("keyquarry/") && event !== "ACCESSED")
    .map(({ key, event }) => `${key} ${event}`);
}

function base64(text: string): string {
  return Buffer.from(text).toString("base64");
}
