import { Argument, Command, Option } from "commander";
import { formatValue } from "./format-json.js";
import { parseCount, parseIndent } from "./option-parsers.js";

/** Options shared by the snapshot subcommands. */
interface SnapshotOptions {
  config?: string;
  database?: string;
  indent: number;
}

/**
 * Creates `keyquarry snapshot list|show`: reads the snapshot database
 * directly, without a server. The database comes from `--database`, else
 * from the same configuration `serve` uses (`--config`, KEYQUARRY_* env).
 */
export function createSnapshotCommand(): Command {
  const command = new Command("snapshot")
    .description("inspect stored snapshots without starting a server")
    .addOption(new Option("--config <file>", "YAML config file (for snapshot.database and data_dir)"))
    .addOption(new Option("--database <url>", "sqlite:///path/file.db or postgres://... (default: from the configuration)"))
    .addOption(new Option("--indent <n>", "indent JSON output by n spaces").argParser(parseIndent).default(0));

  command
    .command("list")
    .description("one JSON line per snapshot, newest first")
    .addOption(new Option("--name <name>", "only snapshots of this server name"))
    .action(async (options: { name?: string }) => {
      const global = command.opts<SnapshotOptions>();
      await withSnapshots(global, async (snapshots) => {
        for (const summary of await snapshots.list(options.name)) {
          process.stdout.write(formatValue(summary, global.indent) + "\n");
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
          throw new Error(`no snapshot with id ${id}`);
        }
        const keys = state.keys.map(({ value, ...key }) => ({
          ...key,
          size: value.length,
          value: options.values ? value : undefined,
        }));
        process.stdout.write(formatValue({ ...state, keys }, global.indent) + "\n");
      });
    });
  return command;
}

async function withSnapshots(
  options: SnapshotOptions,
  use: (snapshots: import("../index.js").SnapshotStore) => Promise<void>,
): Promise<void> {
  // Loaded on demand, as for `serve`.
  const { loadConfig, openSnapshotStore } = await import("../index.js");
  const config = loadConfig({ file: options.config, env: process.env, flags: { "snapshot.database": options.database } });
  const snapshots = openSnapshotStore(config.snapshot.database, config.dataDir);
  try {
    await use(snapshots);
  } finally {
    await snapshots.close();
  }
}
