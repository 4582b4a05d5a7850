import { existsSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Argument, Command, Option } from "commander";
import { formatDuration } from "../duration/parse-duration.js";
import { timestampFromNanos } from "../rpc/timestamp.js";
import type { SnapshotStore, SnapshotSummary } from "../snapshot/snapshot-store.js";
import type { KeyState, StoreState } from "../store/store-state.js";
import { CliError, ExitCode } from "./exit-code.js";
import { formatValue } from "./format-json.js";
import { createImportOriginalCommand } from "./create-import-original-command.js";
import { indentOption, parseCount } from "./option-parsers.js";

/** Options shared by the snapshot subcommands. */
interface SnapshotOptions {
  config?: string;
  database?: string;
  indent: number;
}

/**
 * Creates `keyquarry snapshot list|show`: reads the snapshot database
 * directly, without a server, and never creates or changes one. The
 * database comes from `--database`, else from the same configuration `serve`
 * uses (`--config`, KEYQUARRY_* env). Times are printed in RFC 3339,
 * durations as `1m30s`. `list` also prints each server name's journal
 * (`{"serverName","journal":{"entries","lastSeq"}}`): the commands recorded
 * after its newest snapshot, which a restart replays.
 */
export function createSnapshotCommand(): Command {
  const command = new Command("snapshot")
    .description("inspect stored snapshots, or import the original keyquarry's, without starting a server")
    .addOption(new Option("--config <file>", "YAML config file (for snapshot.database and data_dir)"))
    .addOption(new Option("--database <url>", "sqlite:///path/file.db or postgres://... (default: from the configuration)"))
    .addOption(indentOption());

  command
    .command("list")
    .description("one JSON line per snapshot, newest first; then one per server name with the length of its journal")
    .addOption(new Option("--name <name>", "only snapshots and the journal of this server name"))
    .action(async (options: { name?: string }) => {
      const global = command.opts<SnapshotOptions>();
      await withSnapshots(global, async (snapshots, configuredName) => {
        const summaries = await snapshots.list(options.name);
        for (const summary of summaries) {
          process.stdout.write(formatValue(summaryView(summary), global.indent) + "\n");
        }
        // The configured name too: a server killed before its first snapshot has only a journal.
        const names = new Set([options.name ?? configuredName, ...summaries.map((summary) => summary.serverName)]);
        for (const serverName of names) {
          const journal = await journalLength(snapshots, serverName);
          if (journal.entries > 0 || summaries.some((summary) => summary.serverName === serverName)) {
            process.stdout.write(formatValue({ serverName, journal }, global.indent) + "\n");
          }
        }
      });
    });

  command
    .command("show")
    .description("what one snapshot holds: counters, clients and every key's metadata")
    .addArgument(new Argument("<id>", "snapshot id (see `snapshot list`)").argParser(parseCount))
    .addOption(new Option("--values", "include the values (base64)"))
    .action(async (id: bigint, options: { values?: boolean }) => {
      const global = command.opts<SnapshotOptions>();
      await withSnapshots(global, async (snapshots) => {
        const state = await snapshots.load(id);
        if (state === undefined) {
          throw new CliError(`no snapshot with id ${id}`, ExitCode.notFound);
        }
        process.stdout.write(formatValue(stateView(state, options.values === true), global.indent) + "\n");
      });
    });

  command.addCommand(createImportOriginalCommand());
  return command;
}

async function withSnapshots(
  options: SnapshotOptions,
  use: (snapshots: SnapshotStore, configuredName: string) => Promise<void>,
): Promise<void> {
  // Loaded on demand, as for `serve`.
  const { loadConfig, openSnapshotStore, parseConnectionString } = await import("../index.js");
  // Snapshots are read whatever `serve`'s snapshot.enabled says (the loader refuses a database while they are off).
  const flags = { "snapshot.enabled": true, "snapshot.database": options.database };
  const config = loadConfig({ file: options.config, env: process.env, flags });
  const database = parseConnectionString(config.snapshot.database, config.dataDir);
  const missing = `no snapshot database at ${database.driver === "sqlite" ? database.file : "the configured address"}`;
  if (database.driver === "sqlite" && !existsSync(database.file)) {
    throw new CliError(missing, ExitCode.notFound);
  }
  const snapshots = openSnapshotStore(config.snapshot.database, config.dataDir, { readonly: true });
  try {
    await use(snapshots, config.name);
  } catch (error) {
    // A database no server has written to yet (SQLite's and PostgreSQL's words).
    if (isMissingTable(error)) {
      throw new CliError(`${missing} (it holds no snapshot tables)`, ExitCode.notFound);
    }
    throw error;
  } finally {
    await snapshots.close();
  }
}

/** SQLite's and PostgreSQL's words for a table that is not there. */
function isMissingTable(error: unknown): boolean {
  return error instanceof Error && /no such table|relation .* does not exist/.test(error.message);
}

/**
 * The journal's length of `name`; empty in a database last written before
 * the journal existed (the next `serve` adds its table; this command never changes the database).
 */
async function journalLength(snapshots: SnapshotStore, name: string): Promise<{ entries: number; lastSeq: bigint }> {
  try {
    return await snapshots.journalLength(name);
  } catch (error) {
    if (isMissingTable(error)) {
      return { entries: 0, lastSeq: 0n };
    }
    throw error;
  }
}

/** ns since the epoch in RFC 3339, e.g. `2024-01-01T12:00:00.123456789Z`. */
function time(ns: bigint): string {
  return toJson(TimestampSchema, timestampFromNanos(ns)) as string;
}

/** `time` of an optional time, where 0 and undefined mean "never". */
function optionalTime(ns: bigint | undefined): string | undefined {
  return ns === undefined || ns === 0n ? undefined : time(ns);
}

function summaryView(summary: SnapshotSummary) {
  return { ...summary, created: time(summary.created) };
}

function stateView(state: StoreState, withValues: boolean) {
  return {
    ...state,
    takenAt: time(state.takenAt),
    keys: state.keys.map((key) => keyView(key, withValues)),
    history: state.history.map(({ key, revisions }) => ({
      key,
      revisions: revisions.map(({ value, timestamp, ...revision }) => ({
        ...revision,
        timestamp: time(timestamp),
        size: value.length,
        value: withValues ? value : undefined,
      })),
    })),
    metrics: state.metrics.map(({ key, metrics }) => ({
      key,
      metrics: {
        ...metrics,
        firstAccessed: optionalTime(metrics.firstAccessed),
        lastAccessed: optionalTime(metrics.lastAccessed),
        firstSet: optionalTime(metrics.firstSet),
        lastSet: optionalTime(metrics.lastSet),
        firstLocked: optionalTime(metrics.firstLocked),
        lastLocked: optionalTime(metrics.lastLocked),
      },
    })),
    clients: state.clients.map(({ clientId, firstSeen }) => ({ clientId, firstSeen: time(firstSeen) })),
  };
}

function keyView({ value, lock, lifespan, ...key }: KeyState, withValue: boolean) {
  return {
    ...key,
    created: time(key.created),
    updated: optionalTime(key.updated),
    size: value.length,
    value: withValue ? value : undefined,
    lock: lock && {
      ...lock,
      duration: formatDuration(lock.duration),
      created: time(lock.created),
      deadline: time(lock.deadline),
    },
    lifespan: lifespan && {
      duration: formatDuration(lifespan.duration),
      set: time(lifespan.set),
      deadline: time(lifespan.deadline),
    },
  };
}
