import { Argument, Option, type OptionValues } from "commander";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { PruneResponseSchema, ShutdownResponseSchema } from "@keyquarry/gen/keyquarry/admin_pb.js";
import {
  ClearHistoryResponseSchema,
  ClearResponseSchema,
  EventSchema,
  KeyEvent,
  DeleteResponseSchema,
  ExistsResponseSchema,
  InspectResponseSchema,
  KeyMetricSchema,
  LockResponseSchema,
  ReadOnlyResponseSchema,
  RegisterResponseSchema,
  ServerMetricsSchema,
  SetResponseSchema,
  UnlockResponseSchema,
  WatchKeyValueResponseSchema,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyquarryClient } from "@keyquarry/client-node";
import type { ClientOptions } from "./client-options.js";
import { loadCommand } from "./load-command.js";
import { jsonOutput, linesOutput, rawOutput, type CommandOutput } from "./command-output.js";
import { dumpCommand } from "./dump-command.js";
import { ExitCode } from "./exit-code.js";
import { listLong } from "./list-long.js";
import {
  parseCount,
  parseDurationMessage,
  parseEvents,
  parseInteger,
  parseList,
  parseOnOff,
  parseProgressInterval,
} from "./option-parsers.js";
import { restoreCommand } from "./restore-command.js";
import { resumableWatch, type WatchMessage } from "./resumable-watch.js";

/** What a client subcommand receives when it runs. */
export interface ClientCommandCall {
  client: KeyquarryClient;
  /** How to reach the server (the `keyquarry client` options), for commands that connect by other means. */
  connection: ClientOptions;
  /** Positional arguments, parsed; commander guarantees the required ones. */
  args: string[];
  /** The subcommand's own options (not the global client options). */
  options: OptionValues;
  /** Aborted by Ctrl-C for streaming commands. */
  signal: AbortSignal;
}

/** A `keyquarry client` subcommand. */
export interface ClientCommand {
  name: string;
  aliases?: string[];
  description: string;
  arguments?: Argument[];
  options?: Option[];
  /** Streaming commands print as items arrive, until Ctrl-C (exit status 0), reconnecting when the server goes away. */
  streaming?: boolean;
  run(call: ClientCommandCall): Promise<CommandOutput> | AsyncIterable<CommandOutput>;
}

const keyArgument = () => new Argument("<key>", "the key");

/** The `keyquarry client` subcommands; adding one is adding an entry. */
export const clientCommands: readonly ClientCommand[] = [
  {
    name: "set",
    description:
      "create or update a key; without a value, the value is read from stdin unless it is a terminal",
    arguments: [keyArgument(), new Argument("[value]", "the value (UTF-8)")],
    options: [
      new Option("--content-type <type>", "content type (default: detected from the value)"),
      new Option("--lock <duration>", "lock the key for this client, e.g. 30s").argParser(parseDurationMessage),
      new Option("--lifespan <duration>", "delete the key this long after it was last set, e.g. 1m").argParser(
        parseDurationMessage,
      ),
      new Option("--if-version <n>", "only if the key's version is n (0: only if it does not exist)").argParser(
        parseCount,
      ),
    ],
    async run({ client, args: [key = "", value], options }) {
      const response = await client.set({
        key,
        value: value === undefined ? await readStdin() : Buffer.from(value, "utf8"),
        contentType: String(options.contentType ?? ""),
        lockDuration: options.lock as Duration | undefined,
        lifespan: options.lifespan as Duration | undefined,
        ifVersion: options.ifVersion as bigint | undefined,
      });
      return jsonOutput(SetResponseSchema, response);
    },
  },
  loadCommand,
  {
    name: "get",
    description: "print a key's value",
    arguments: [keyArgument()],
    options: [
      new Option("--revision <n>", "a retained version: n > 0 by number, n < 0 counting back from the current one")
        .argParser(parseInteger),
    ],
    async run({ client, args: [key = ""], options }) {
      const version = options.revision as bigint | undefined;
      if (version !== undefined && version !== 0n) {
        return rawOutput((await client.getRevision({ key, version })).value);
      }
      return rawOutput((await client.get({ key })).value);
    },
  },
  {
    name: "get-revision",
    aliases: ["revision"],
    description: "print a retained version of a key's value (n < 0 counts back from the current one)",
    arguments: [keyArgument(), new Argument("<version>", "version number").argParser(parseInteger)],
    async run({ client, args: [key = "", version] }) {
      return rawOutput((await client.getRevision({ key, version: version as unknown as bigint })).value);
    },
  },
  {
    name: "inspect",
    aliases: ["info"],
    description: "print a key's metadata",
    arguments: [keyArgument()],
    options: [
      new Option("--with-value", "include the value"),
      new Option("--with-metrics", "include access, set and lock metrics"),
    ],
    async run({ client, args: [key = ""], options }) {
      const response = await client.inspect({
        key,
        includeValue: options.withValue === true,
        includeMetrics: options.withMetrics === true,
      });
      return jsonOutput(InspectResponseSchema, response);
    },
  },
  {
    name: "delete",
    description: "delete a key",
    arguments: [keyArgument()],
    options: [new Option("--if-version <n>", "only if the key's version is n").argParser(parseCount)],
    async run({ client, args: [key = ""], options }) {
      return jsonOutput(DeleteResponseSchema, await client.delete({ key, ifVersion: options.ifVersion as bigint | undefined }));
    },
  },
  {
    name: "lock",
    description: "lock a key for this client (locking it again extends the lock)",
    arguments: [keyArgument(), new Argument("<duration>", "how long, e.g. 30s").argParser(parseDurationMessage)],
    options: [new Option("--create-if-missing", "create the key with an empty value if it does not exist")],
    async run({ client, args: [key = "", duration], options }) {
      const response = await client.lock({
        key,
        duration: duration as unknown as Duration,
        createIfMissing: options.createIfMissing === true,
      });
      return jsonOutput(LockResponseSchema, response);
    },
  },
  {
    name: "unlock",
    description: "release this client's lock on a key",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      return jsonOutput(UnlockResponseSchema, await client.unlock({ key }));
    },
  },
  {
    name: "metrics",
    aliases: ["key-metric"],
    description: "print a key's access, set and lock counters",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      return jsonOutput(KeyMetricSchema, await client.getKeyMetric({ key }));
    },
  },
  {
    name: "watch",
    description: "print key events as they happen, one JSON object per line, until Ctrl-C",
    streaming: true,
    options: [
      new Option("--keys <keys>", "only these keys (comma-separated)").argParser(parseList),
      new Option("--events <events>", "only these events, e.g. created,updated,deleted").argParser(parseEvents),
      new Option("--client-ids <ids>", "only events caused by these client ids (comma-separated)").argParser(parseList),
      new Option("--from-revision <n>", "first replay the events after revision n (to resume)").argParser(parseCount),
      progressOption(),
    ],
    run({ client, options, signal }) {
      const filters = {
        keys: (options.keys as string[] | undefined) ?? [],
        events: (options.events as KeyEvent[] | undefined) ?? [],
        clientIds: (options.clientIds as string[] | undefined) ?? [],
      };
      return watchOutputs(EventSchema, options, signal, (startRevision, progressInterval) =>
        client.watchStream({ ...filters, startRevision, progressInterval }, { signal }),
      );
    },
  },
  {
    name: "watch-key",
    description: "print a key's value now and after every change, one JSON object per line, until Ctrl-C",
    streaming: true,
    arguments: [keyArgument()],
    options: [
      new Option("--from-revision <n>", "replay the key's changes after revision n instead of its current value").argParser(
        parseCount,
      ),
      progressOption(),
    ],
    run({ client, args: [key = ""], options, signal }) {
      return watchOutputs(WatchKeyValueResponseSchema, options, signal, (startRevision, progressInterval) =>
        client.watchKeyValue({ key, startRevision, progressInterval }, { signal }),
      );
    },
  },
  {
    name: "clear-history",
    description: "drop retained revisions (the current version of each key stays)",
    async run({ client }) {
      return jsonOutput(ClearHistoryResponseSchema, await client.clearHistory({}));
    },
  },
  {
    name: "exists",
    description: "tell whether a key exists: exit status 0 if it does, 1 if it does not",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      const response = await client.exists({ key });
      return jsonOutput(ExistsResponseSchema, response, response.exists ? ExitCode.ok : ExitCode.notFound);
    },
  },
  {
    name: "pop",
    description: "print a key's value and delete the key",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      return rawOutput((await client.pop({ key })).value);
    },
  },
  {
    name: "list",
    description: "print key names, one per line, in creation order (every page)",
    options: [
      new Option("--pattern <re2>", "only keys matching this regular expression (unanchored)"),
      new Option("--limit <n>", "at most n keys (0 = no limit)").argParser(parseCount),
      new Option("--include-reserved", "include the server's keyquarry/... keys"),
      new Option("--long", "one JSON line per key: size, version, locked, lock end, expiry"),
    ],
    run({ client, options }) {
      // The server answers in pages (bounded by size and scan time); --limit bounds the total.
      const keys = client.listAllKeys({
        pattern: String(options.pattern ?? ""),
        limit: typeof options.limit === "bigint" ? options.limit : 0n,
        includeReserved: options.includeReserved === true,
      });
      return options.long === true ? listLong(client, keys) : keyLines(keys);
    },
  },
  dumpCommand,
  restoreCommand,
  {
    name: "clear",
    description: "delete all keys except reserved and locked ones",
    options: [new Option("--force", "delete locked keys too")],
    async run({ client, options }) {
      return jsonOutput(ClearResponseSchema, await client.clear({ force: options.force === true }));
    },
  },
  {
    name: "stats",
    description: "print server metrics",
    async run({ client }) {
      return jsonOutput(ServerMetricsSchema, await client.stats({}));
    },
  },
  {
    name: "register",
    description: "register the client id with the server",
    async run({ client }) {
      return jsonOutput(RegisterResponseSchema, await client.register({}));
    },
  },
  {
    name: "readonly",
    description: "switch the server's readonly mode (needs the privileged client id)",
    arguments: [new Argument("<state>", "on or off").argParser(parseOnOff)],
    async run({ client, args: [state] }) {
      return jsonOutput(ReadOnlyResponseSchema, await client.setReadOnly({ enable: state === "on" }));
    },
  },
  {
    name: "prune",
    description:
      "remove the least recently used keys until at most <prune-to> user keys remain (needs the privileged client id)",
    arguments: [
      new Argument("<prune-to>", "how many user keys may remain").argParser(parseCount),
      new Argument("[ignore-key...]", "keys never to remove (exact names)"),
    ],
    async run({ client, args: [pruneTo, ignoreKeys] }) {
      const response = await client.admin.prune({
        pruneTo: pruneTo as unknown as bigint,
        ignoreKeys: (ignoreKeys as unknown as string[] | undefined) ?? [],
      });
      return jsonOutput(PruneResponseSchema, response);
    },
  },
  {
    name: "shutdown",
    aliases: ["server-shutdown"],
    description: "shut the server down gracefully (needs the privileged client id)",
    async run({ client }) {
      return jsonOutput(ShutdownResponseSchema, await client.admin.shutdown({}));
    },
  },
];

function progressOption(): Option {
  return new Option("--progress <duration>", "also print a progress line with the latest revision this often").argParser(
    parseProgressInterval,
  );
}

// Asked for even when not printed: the first one tells that the stream is
// open and from which revision to resume, later ones keep that revision
// recent when few events match the filters.
const silentProgressInterval = parseProgressInterval("1m");

/**
 * The messages of a watch as output lines, resumed after a lost connection
 * (see {@link resumableWatch}); progress lines only with `--progress`.
 */
async function* watchOutputs<Desc extends DescMessage>(
  schema: Desc,
  options: OptionValues,
  signal: AbortSignal,
  open: (startRevision: bigint | undefined, progressInterval: Duration) => AsyncIterable<MessageShape<Desc> & WatchMessage & { progress: boolean }>,
): AsyncGenerator<CommandOutput> {
  const progressInterval = options.progress as Duration | undefined;
  const messages = resumableWatch({
    open: (startRevision) => open(startRevision, progressInterval ?? silentProgressInterval),
    startRevision: options.fromRevision as bigint | undefined,
    signal,
    report: (line) => process.stderr.write(`keyquarry: ${line}\n`),
  });
  for await (const message of messages) {
    if (!message.progress || progressInterval !== undefined) {
      yield jsonOutput(schema, message);
    }
  }
}

/** Every key name, printed once all are listed (one line each). */
async function keyLines(keys: AsyncIterable<string>): Promise<CommandOutput> {
  const names: string[] = [];
  for await (const key of keys) {
    names.push(key);
  }
  return linesOutput(names);
}

async function readStdin(): Promise<Uint8Array> {
  // An interactive terminal means nothing was piped in: the value is empty.
  if (process.stdin.isTTY) {
    return new Uint8Array(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
