/**
 * A journal damaged the ways a crash or a bad disk damages it, in the
 * database a real server wrote (SQLite and PostgreSQL), then a restart:
 * - a torn last batch (a row missing, a checksum wrong, a command that does
 *   not decode) is dropped with a warning, never misread: the server starts
 *   with every complete batch applied and none of the torn one, and what it
 *   journals next survives another kill -9;
 * - damage in an earlier batch, a gap, or an entry of a newer format stops
 *   `keyquarry serve` (exit code 1) with a message naming the entry.
 */
import { describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { textValueOf } from "./kit/text-value-of.js";
import { openJournalDatabase, type JournalRow } from "./kit/journal-database.js";
import { journalDrivers, journalSuite } from "./kit/journal-suite.js";
import { ServeExitedError } from "./kit/spawn-serve.js";

const serverName = "damage";

/** The key a journal row's Set wrote, if it is a Set. */
const keyOf = (row: JournalRow): string | undefined => {
  const command = JSON.parse(row.command) as { op: string; key?: string };
  return command.op === "set" ? command.key : undefined;
};

describe.each(journalDrivers)("a damaged journal at restart (%s)", (driver) => {
  const suite = journalSuite(driver, serverName);
  const serve = () => suite.serve();

  /**
   * Journals Sets with a real server and kills it (-9): ten one at a time
   * (a batch each), then forty at once (group commit: batches of several).
   * Returns the rows it committed.
   */
  async function writeJournal(): Promise<JournalRow[]> {
    const server = await serve();
    const { kv } = createClients("grpc", server.url, "writer");
    for (let i = 0; i < 10; i++) {
      await kv.set({ key: `one/${i}`, value: bytes(`v${i}`) });
    }
    await Promise.all(Array.from({ length: 40 }, (_, i) => kv.set({ key: `burst/${i}`, value: bytes(`b${i}`) })));
    server.child.kill("SIGKILL");
    await server.exited;
    const journal = openJournalDatabase(suite.database, serverName);
    try {
      return await journal.rows();
    } finally {
      await journal.close();
    }
  }

  /** The value of `key` now, or undefined if it does not exist. */
  const valueOf = (url: string, key: string) => textValueOf(createClients("grpc", url, "reader").kv, key);

  /** The last batch of several rows; the rows after it are removed, as if the crash came while it was committed. */
  async function tearDownTo(rows: readonly JournalRow[]): Promise<{ torn: JournalRow[]; before: JournalRow[] }> {
    const first = rows.findLast((row) => row.batchSize >= 2);
    // Forty concurrent Sets on one connection always share commits; if not, group commit is broken.
    expect(first, "a batch of several entries").toBeDefined();
    const torn = rows.filter((row) => row.batch === first!.batch);
    expect(torn).toHaveLength(first!.batchSize);
    const last = torn.at(-1)!.seq;
    const journal = openJournalDatabase(suite.database, serverName);
    await journal.exec(`DELETE FROM journal_entries WHERE seq > ${last}`);
    await journal.close();
    return { torn, before: rows.filter((row) => row.seq < first!.batch) };
  }

  /** Damages the torn batch: by SQL, or by rewriting a command with a matching checksum. */
  type Damage = (torn: JournalRow[], damage: (sql: string) => Promise<void>, rewrite: (seq: bigint, command: string) => Promise<void>) => Promise<void>;
  const wrongChecksum = (row: JournalRow) => (row.checksum + 1) % 2 ** 32;
  const tornCases: Array<[string, Damage]> = [
    ["its last row missing", (torn, damage) => damage(`DELETE FROM journal_entries WHERE seq = ${torn.at(-1)!.seq}`)],
    ["a checksum that does not match", (torn, damage) => damage(`UPDATE journal_entries SET checksum = ${wrongChecksum(torn[0]!)} WHERE seq = ${torn[0]!.seq}`)],
    // The checksum matches: only decoding can tell.
    ["a garbled command", (torn, _damage, rewrite) => rewrite(torn[1]!.seq, `{"op":"set","clientId":"writer","key":`)],
    ["a command of an unknown kind", (torn, _damage, rewrite) => rewrite(torn.at(-1)!.seq, `{"op":"teleport","clientId":"writer"}`)],
  ];

  it.each(tornCases)(
    "a last batch with %s is dropped with a warning; complete ones are applied; new writes survive another kill -9",
    { timeout: 60_000 },
    async (_, damage) => {
      const rows = await writeJournal();
      const { torn, before } = await tearDownTo(rows);
      const journal = openJournalDatabase(suite.database, serverName);
      await damage(torn, (sql) => journal.exec(sql), (seq, command) => journal.rewriteCommand(seq, command));
      const left = (await journal.rows()).filter((row) => row.batch === torn[0]!.batch).length;
      await journal.close();

      const second = await serve();
      expect(second.stdout()).toContain(`WARN: the journal's last batch was incomplete (a crash while it was written); it was dropped {"entries":${left}}`);
      expect(second.stdout()).toContain(`"journalEntriesReplayed":${before.length}`);
      expect(second.stdout()).not.toContain("journal replay diverged");
      for (const row of before) {
        const key = keyOf(row);
        if (key !== undefined) {
          expect(await valueOf(second.url, key), key).toBeDefined();
        }
      }
      for (const row of torn) {
        const key = keyOf(row);
        expect(key).toBeDefined();
        // Not one entry of the torn batch was applied, sound rows included.
        expect(await valueOf(second.url, key!), key).toBeUndefined();
      }

      // The dropped rows made way: what is journaled now replays after another kill -9.
      const { kv } = createClients("grpc", second.url, "writer");
      await kv.set({ key: "after/1", value: bytes("a1") });
      await kv.delete({ key: "one/0" });
      second.child.kill("SIGKILL");
      await second.exited;
      const third = await serve();
      expect(third.stdout()).not.toMatch(/last batch was incomplete/);
      expect(await valueOf(third.url, "after/1")).toBe("a1");
      expect(await valueOf(third.url, "one/0")).toBeUndefined();
      expect(await valueOf(third.url, "one/9")).toBe("v9");
      expect(await valueOf(third.url, keyOf(torn[0]!)!)).toBeUndefined();
    },
  );

  /** Starts a server that must refuse: its exit and output. */
  async function refusedStart(): Promise<ServeExitedError> {
    const error = await serve().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ServeExitedError);
    return error as ServeExitedError;
  }

  it("a damaged entry in an earlier batch stops the server, naming the entry", { timeout: 60_000 }, async () => {
    const rows = await writeJournal();
    // A Set written alone, with complete batches after it.
    const victim = rows.find((row) => keyOf(row) === "one/3")!;
    const journal = openJournalDatabase(suite.database, serverName);
    await journal.exec(`UPDATE journal_entries SET checksum = ${wrongChecksum(victim)} WHERE seq = ${victim.seq}`);
    await journal.close();

    const refused = await refusedStart();
    expect(refused.exit).toEqual({ code: 1, signal: null });
    expect(refused.stderr).toContain(`journal entry ${victim.seq} is damaged: its checksum does not match`);
  });

  it("a gap in the journal stops the server, naming the missing entry", { timeout: 60_000 }, async () => {
    const rows = await writeJournal();
    const victim = rows.find((row) => keyOf(row) === "one/3")!;
    expect(victim.batchSize).toBe(1);
    const journal = openJournalDatabase(suite.database, serverName);
    await journal.exec(`DELETE FROM journal_entries WHERE seq = ${victim.seq}`);
    await journal.close();

    const refused = await refusedStart();
    expect(refused.exit).toEqual({ code: 1, signal: null });
    expect(refused.stderr).toContain(`the journal has a gap: entry ${victim.seq} is missing`);
  });

  it("an entry of a newer format stops the server, even in the last batch (never taken for a torn one)", { timeout: 60_000 }, async () => {
    const rows = await writeJournal();
    const last = rows.at(-1)!;
    const journal = openJournalDatabase(suite.database, serverName);
    await journal.exec(`UPDATE journal_entries SET format = 2 WHERE seq = ${last.seq}`);
    await journal.close();

    const refused = await refusedStart();
    expect(refused.exit).toEqual({ code: 1, signal: null });
    expect(refused.stderr).toContain(`journal entry ${last.seq} has format 2, newer than this server's 1; upgrade keyquarry to replay it`);
    // Nothing was dropped: a newer server still finds the whole journal.
    const after = openJournalDatabase(suite.database, serverName);
    expect(await after.rows()).toHaveLength(rows.length);
    await after.close();
  });
});
