import { Argument, Command, Option } from "commander";
import type { KeyquarryClient } from "@keyquarry/client-node";
import { clientFor, addClientOptions, type ClientOptions } from "./client-options.js";
import { CliError, ExitCode } from "./exit-code.js";
import { formatValue } from "./format-json.js";
import { importIntoServer, type LockPolicy } from "./import-original-into-server.js";
import { parseCount } from "./option-parsers.js";

/** The options of `snapshot import-original` (with the client options for `--server`). */
interface ImportOriginalOptions extends ClientOptions {
  name?: string;
  id?: bigint;
  into?: string;
  as?: string;
  server?: boolean;
  locks: LockPolicy;
  overwrite?: boolean;
  config?: string;
  indent: number;
}

/** Keys imported at a time through the API: enough to fill one HTTP/2 connection, few enough to be gentle. */
const serverConcurrency = 32;

/**
 * Creates `keyquarry snapshot import-original <database>`: reads a snapshot
 * of the original Go keyquarry from its `snapshots` table (SQLite or
 * PostgreSQL, read-only), and imports it offline into our snapshot database
 * (`--into`, exact: versions, history, lifespans, locks with their owners)
 * or into a running server through the API (`--server`: values, content
 * types, history as earlier versions, remaining lifespans, locks taken
 * again). Writes one JSON line per item left out or imported, then, offline,
 * one with what was saved. Exit status: 1 if there is no such database or
 * snapshot, 4 if the document is malformed or a key failed.
 */
export function createImportOriginalCommand(): Command {
  const command = addClientOptions(
    new Command("import-original")
      .description("import a snapshot of the original Go keyquarry into our snapshot database (--into) or a running server (--server)")
      .addArgument(new Argument("<database>", "the original's snapshot database: a SQLite file, sqlite:///file.db or postgres://..."))
      .addOption(new Option("--name <name>", "import the newest snapshot of this server name (default: the configured name, <user>@<hostname> unless set)"))
      .addOption(new Option("--id <id>", "import the snapshot with this id").argParser(parseCount).conflicts("name"))
      .addOption(new Option("--into <database>", "offline: save into our snapshot database (a SQLite file, sqlite:///file.db or postgres://...)"))
      .addOption(new Option("--as <name>", "with --into: the server name to save under (default: the snapshot's)"))
      .addOption(new Option("--server", "import into the running server at --address, through its API").conflicts(["into", "as"]))
      .addOption(new Option("--locks <policy>", "with --server: take live locks again for their owners' client ids, or skip them").choices(["take", "skip"]).default("take"))
      .addOption(new Option("--overwrite", "with --server: replace keys the server already has (default: such a key fails)")),
  );
  return command.action(async (database: string) => {
    const options = command.optsWithGlobals<ImportOriginalOptions>();
    if ((options.into === undefined) === (options.server !== true)) {
      throw new CliError("say where to import to: --into <database> (our snapshot database, offline) or --server (the server at --address)", ExitCode.usage);
    }
    // Loaded on demand, as for `serve`: client commands do not pay for the server code.
    const { loadConfig, openSnapshotStore } = await import("../index.js");
    const original = await import("../snapshot/original/index.js");
    const config = loadConfig({ file: options.config, env: process.env, flags: { "snapshot.enabled": true } });
    try {
      const row = await original.readOriginalSnapshot(database, options.id === undefined ? { name: options.name ?? config.name } : { id: options.id });
      const document = original.parseOriginalDocument(row.data);
      const now = nowNanos();
      const { state, skipped } = original.storeStateOfOriginal(document, now, row.created ?? now);
      const print = (value: unknown) => process.stdout.write(formatValue(value, options.indent) + "\n");
      for (const { key, what, reason } of skipped) {
        print({ key, skipped: what, reason });
      }
      const from = { id: row.id, serverName: row.serverName, version: document.version };
      if (options.into !== undefined) {
        const store = openSnapshotStore(intoConnectionString(options.into), config.dataDir);
        try {
          const serverName = options.as ?? row.serverName;
          const id = await original.saveImportedState(store, serverName, state);
          const revisions = state.history.reduce((sum, { revisions }) => sum + revisions.length, 0);
          const count = (has: (key: (typeof state.keys)[number]) => unknown) => state.keys.filter(has).length;
          print({
            from,
            saved: { id, serverName },
            keys: state.keys.length,
            locks: count((key) => key.lock),
            lifespans: count((key) => key.lifespan),
            history: { keys: state.history.length, revisions },
            clients: state.clients.length,
            skipped: skipped.length,
          });
        } finally {
          await store.close();
        }
        return;
      }
      // One client (one connection) per lock owner, made when first needed.
      const owners = new Map<string, KeyquarryClient>();
      const clientAs = (owner: string) => {
        const client = owners.get(owner) ?? clientFor({ ...options, clientId: owner });
        owners.set(owner, client);
        return client;
      };
      const results = await importIntoServer(state, {
        client: clientFor(options),
        clientAs,
        locks: options.locks,
        overwrite: options.overwrite === true,
        concurrency: serverConcurrency,
        now: nowNanos,
      });
      results.forEach(print);
      const failed = results.filter((result) => "error" in result).length;
      process.stderr.write(`imported ${results.length - failed} of ${results.length} keys of snapshot ${row.id} (${JSON.stringify(row.serverName)}); ${failed} failed, ${skipped.length} left out\n`);
      if (failed > 0) {
        process.exitCode = ExitCode.failed;
      }
    } catch (error) {
      if (error instanceof original.OriginalSnapshotError) {
        throw new CliError(error.message, error.notFound ? ExitCode.notFound : ExitCode.failed);
      }
      throw error;
    }
  });
}

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** `--into` as a connection string: a bare path is a SQLite file. */
function intoConnectionString(into: string): string {
  if (into === "") {
    throw new CliError("--into needs a database", ExitCode.usage);
  }
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(into) ? into : `sqlite://${into}`;
}
