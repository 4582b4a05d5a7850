/**
 * kill -9 under concurrent write load, with snapshots on and every other
 * option at its default (journal `sync`): after a restart, every
 * acknowledged Set, Delete and Lock is there, deletes stayed deleted, and
 * the fencing-token and revision counters went on growing. A write in flight
 * at the kill (sent, not answered) may or may not have taken effect: either
 * outcome is accepted for that key only.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { textValueOf } from "./kit/text-value-of.js";
import { journalDrivers, journalSuite } from "./kit/journal-suite.js";

/** The outcome a key must have after the restart: a value, or gone. */
type Outcome = { value: string } | { deleted: true };

/** One writer's keys: what was acknowledged last, and what was in flight at the kill. */
interface WriterLog {
  acknowledged: Map<string, Outcome>;
  inFlight: Map<string, Outcome>;
  /** Locks acknowledged: key → fencing token. */
  locks: Map<string, bigint>;
}

describe.each(journalDrivers)("kill -9 under write load, journal on by default (%s)", (driver) => {
  const suite = journalSuite(driver, "crash");
  // Only what a new user sets: snapshots on, a database and a name. The journal is on by default.
  const serve = () => suite.serve();

  /** Sets, deletes and locks its own keys in a loop until `stop` is set; logs every answer. */
  async function write(url: string, writer: number, stop: { now: boolean }): Promise<WriterLog> {
    const { kv } = createClients("grpc", url, `writer-${writer}`);
    const log: WriterLog = { acknowledged: new Map(), inFlight: new Map(), locks: new Map() };
    for (let i = 0; !stop.now; i++) {
      const key = `w${writer}/k${i % 50}`;
      const intent: Outcome = i % 7 === 3 ? { deleted: true } : { value: `${writer}:${i}` };
      log.inFlight.set(key, intent);
      try {
        if ("deleted" in intent) {
          await kv.delete({ key });
        } else {
          await kv.set({ key, value: bytes(intent.value) });
        }
        log.acknowledged.set(key, intent);
      } catch (error) {
        // NOT_FOUND for a Delete of a key already deleted is still "deleted"; anything else (the kill) ends the loop.
        if (!("deleted" in intent && error instanceof ConnectError && error.code === Code.NotFound)) {
          break;
        }
        log.acknowledged.set(key, intent);
      }
      log.inFlight.delete(key);
      if (i % 25 === 0) {
        const lockKey = `w${writer}/lock${i}`;
        log.inFlight.set(lockKey, { value: "" });
        try {
          const { fencingToken } = await kv.lock({ key: lockKey, duration: { seconds: 600n }, createIfMissing: true });
          log.locks.set(lockKey, fencingToken);
          log.acknowledged.set(lockKey, { value: "" });
        } catch {
          break;
        }
        log.inFlight.delete(lockKey);
      }
    }
    return log;
  }

  it("restores every acknowledged write, and deletes stay deleted", { timeout: 90_000 }, async () => {
    const first = await serve();
    const stop = { now: false };
    const writers = Array.from({ length: 4 }, (_, writer) => write(first.url, writer, stop));
    // Enough writes that many commits are in progress at any moment.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { kv: probe } = createClients("grpc", first.url, "probe");
    const { revision: revisionBefore } = await probe.stats({});
    first.child.kill("SIGKILL");
    stop.now = true;
    const logs = await Promise.all(writers);
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const acknowledged = logs.reduce((sum, log) => sum + log.acknowledged.size, 0);
    expect(acknowledged).toBeGreaterThan(100);

    const second = await serve();
    expect(second.stdout()).toMatch(/"journalEntriesReplayed":[1-9]/);
    for (const [writer, log] of logs.entries()) {
      // As its writer: the locks are its own.
      const { kv } = createClients("grpc", second.url, `writer-${writer}`);
      for (const [key, outcome] of log.acknowledged) {
        const alternative = log.inFlight.get(key);
        const value = await textValueOf(kv, key);
        const found: Outcome = value === undefined ? { deleted: true } : { value };
        const accepted = alternative === undefined ? [outcome] : [outcome, alternative];
        expect(accepted, key).toContainEqual(found);
      }
      for (const [key, fencingToken] of log.locks) {
        const info = await kv.inspect({ key });
        expect(info.locked, key).toBe(true);
        expect(info.fencingToken, key).toBe(fencingToken);
      }
    }
    // The counters went on: a new lock's token is above every token issued before the kill.
    const tokens = logs.flatMap((log) => [...log.locks.values()]);
    const { kv } = createClients("grpc", second.url, "checker");
    const { fencingToken } = await kv.lock({ key: "after-restart", duration: { seconds: 60n }, createIfMissing: true });
    expect(fencingToken).toBeDefined();
    expect(fencingToken!).toBeGreaterThan(tokens.reduce((a, b) => (a > b ? a : b), 0n));
    const { revision } = await kv.stats({});
    expect(revision).toBeDefined();
    expect(revisionBefore).toBeDefined();
    expect(revision!).toBeGreaterThanOrEqual(revisionBefore!);
  });
});
