import { Argument, Option, type OptionValues } from "commander";
import {
  ClearResponseSchema,
  DeleteResponseSchema,
  ExistsResponseSchema,
  InspectResponseSchema,
  ReadOnlyResponseSchema,
  RegisterResponseSchema,
  ServerMetricsSchema,
  SetResponseSchema,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyquarryClient } from "../create-keyquarry-client.js";
import { jsonOutput, linesOutput, rawOutput, type CommandOutput } from "./command-output.js";
import { parseCount, parseOnOff } from "./option-parsers.js";

/** What a client subcommand receives when it runs. */
export interface ClientCommandCall {
  client: KeyquarryClient;
  /** Positional arguments, parsed; commander guarantees the required ones. */
  args: string[];
  /** The subcommand's own options (not the global client options). */
  options: OptionValues;
}

/** A `keyquarry client` subcommand. */
export interface ClientCommand {
  name: string;
  aliases?: string[];
  description: string;
  arguments?: Argument[];
  options?: Option[];
  run(call: ClientCommandCall): Promise<CommandOutput>;
}

const keyArgument = () => new Argument("<key>", "the key");

/** The `keyquarry client` subcommands; adding one is adding an entry. */
export const clientCommands: readonly ClientCommand[] = [
  {
    name: "set",
    description:
      "create or update a key; without a value, the value is read from stdin unless it is a terminal",
    arguments: [keyArgument(), new Argument("[value]", "the value (UTF-8)")],
    options: [new Option("--content-type <type>", "content type of a new key (default: detected)")],
    async run({ client, args: [key = "", value], options }) {
      const response = await client.set({
        key,
        value: value === undefined ? await readStdin() : Buffer.from(value, "utf8"),
        contentType: String(options.contentType ?? ""),
      });
      return jsonOutput(SetResponseSchema, response);
    },
  },
  {
    name: "get",
    description: "print a key's value",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      return rawOutput((await client.get({ key })).value);
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
    async run({ client, args: [key = ""] }) {
      return jsonOutput(DeleteResponseSchema, await client.delete({ key }));
    },
  },
  {
    name: "exists",
    description: "tell whether a key exists",
    arguments: [keyArgument()],
    async run({ client, args: [key = ""] }) {
      return jsonOutput(ExistsResponseSchema, await client.exists({ key }));
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
    description: "print key names, one per line, in creation order",
    options: [
      new Option("--pattern <re2>", "only keys matching this regular expression (unanchored)"),
      new Option("--limit <n>", "at most n keys (0 = no limit)").argParser(parseCount),
      new Option("--include-reserved", "include the server's keyquarry/... keys"),
    ],
    async run({ client, options }) {
      const response = await client.listKeys({
        pattern: String(options.pattern ?? ""),
        limit: typeof options.limit === "bigint" ? options.limit : 0n,
        includeReserved: options.includeReserved === true,
      });
      return linesOutput(response.keys);
    },
  },
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
];

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
