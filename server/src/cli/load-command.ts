import { Argument, InvalidArgumentError, Option } from "commander";
import { ConnectError } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { KeyQuarry, type KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { keyquarryHttp2Target } from "@keyquarry/client-node";
import type { ClientCommand } from "./client-commands.js";
import { sdkOptionsFor } from "./client-options.js";
import type { CommandOutput } from "./command-output.js";
import { errorFields, statusName } from "./describe-error.js";
import { CliError, ExitCode, exitCodeFor } from "./exit-code.js";
import { parseDurationMessage } from "./option-parsers.js";
import { GrpcUnarySession } from "./grpc-unary-session.js";
import { orderedCalls } from "./ordered-calls.js";
import { hasSetMany, setMany } from "./set-many-stream.js";

/** One key to set. */
interface LoadItem {
  key: string;
  value: string;
}

/**
 * `keyquarry client load` (alias `bulk-set`): sets many keys over one
 * connection (one SetMany stream, or many Set calls in flight with a server
 * without it), and prints one JSON line per item in input order. Exit
 * status 1 if any item failed (the original always exits 0).
 */
export const loadCommand: ClientCommand = {
  name: "load",
  aliases: ["bulk-set"],
  description:
    "set many keys: k=v arguments, or k=v lines from stdin unless it is a terminal; one JSON line per item, exit status 1 if any failed",
  arguments: [new Argument("[items...]", "k=v items (only the first = splits; no = means an empty value)")],
  options: [
    new Option("--content-type <type>", "content type of every value (default: detected from each value)"),
    new Option("--lock <duration>", "lock every key for this client, e.g. 30s").argParser(parseDurationMessage),
    new Option("--lifespan <duration>", "delete each key this long after it was last set, e.g. 1m").argParser(parseDurationMessage),
    new Option("--concurrency <n>", "calls in flight at most, with a server without SetMany (one Set call per item)").argParser(parseConcurrency).default(64),
  ],
  run({ connection, args: [items], options }) {
    const given = (items as unknown as string[] | undefined) ?? [];
    if (given.length === 0 && process.stdin.isTTY) {
      throw new CliError("no values provided (give k=v arguments or pipe k=v lines)", ExitCode.usage);
    }
    if (connection.protocol !== "grpc") {
      throw new CliError("load speaks gRPC only (many calls over one HTTP/2 connection): leave out --protocol", ExitCode.usage);
    }
    const session = new GrpcUnarySession(keyquarryHttp2Target(connection.address, sdkOptionsFor(connection)), connection.timeout);
    return loadOutputs(session, given.length > 0 ? [given.map(parseItem)] : stdinItems(), {
      contentType: String(options.contentType ?? ""),
      lockDuration: options.lock as Duration | undefined,
      lifespan: options.lifespan as Duration | undefined,
      concurrency: options.concurrency as number,
    });
  },
};

interface LoadSettings {
  contentType: string;
  lockDuration: Duration | undefined;
  lifespan: Duration | undefined;
  concurrency: number;
}

/** The JSON lines of a load, a batch at a time; exit status 1 from the first batch with a failure on. */
async function* loadOutputs(
  session: GrpcUnarySession,
  items: AsyncIterable<LoadItem[]> | Iterable<LoadItem[]>,
  settings: LoadSettings,
): AsyncGenerator<CommandOutput> {
  const progress = process.stderr.isTTY ? startProgress() : undefined;
  let count = 0;
  try {
    // SetMany when the server has it (one stream for every item); else a Set call per item.
    const lines = (await hasSetMany(session)) ? streamedLines(session, items, settings) : callLines(session, items, settings);
    for await (const batch of lines) {
      count += batch.length;
      progress?.update(count);
      const text = batch.map(({ line }) => line + "\n").join("");
      yield { render: () => text, exitCode: batch.some(({ failed }) => failed) ? ExitCode.someFailed : undefined };
    }
  } finally {
    session.close();
    progress?.stop(count);
  }
  if (count === 0) {
    throw new CliError("no values provided (stdin had no k=v lines)", ExitCode.usage);
  }
}

/** An item's output line, and whether it failed. */
interface ItemLine {
  line: string;
  failed: boolean;
}

/** The KeyValue of an item with the load's settings. */
function keyValueOf({ key, value }: LoadItem, { contentType, lockDuration, lifespan }: LoadSettings): MessageInitShape<typeof KeyValueSchema> {
  return { key, value: Buffer.from(value, "utf8"), contentType, lockDuration, lifespan };
}

/** The lines of the items set over one SetMany stream. */
async function* streamedLines(session: GrpcUnarySession, items: AsyncIterable<LoadItem[]> | Iterable<LoadItem[]>, settings: LoadSettings): AsyncGenerator<ItemLine[]> {
  async function* keyValues() {
    for await (const batch of items) {
      yield batch.map((item) => keyValueOf(item, settings));
    }
  }
  for await (const answers of setMany(session, keyValues())) {
    yield answers.map(({ key, code, message, response }) =>
      code === 0
        ? { line: JSON.stringify({ key, success: response?.success ?? true, isNew: response?.isNew ?? false }), failed: false }
        : { line: JSON.stringify({ key, error: { code: statusName(code), message } }), failed: true },
    );
  }
}

/** The lines of the items set by one Set call each, `settings.concurrency` in flight, a key's calls in order. */
function callLines(session: GrpcUnarySession, items: AsyncIterable<LoadItem[]> | Iterable<LoadItem[]>, settings: LoadSettings): AsyncIterable<ItemLine[]> {
  const set = async (item: LoadItem): Promise<ItemLine> => {
    try {
      const response = await session.call(KeyQuarry.method.set, keyValueOf(item, settings));
      return { line: JSON.stringify({ key: item.key, success: response.success, isNew: response.isNew }), failed: false };
    } catch (error) {
      // Without a server, every item would fail alike: stop as other commands do (exit status 3).
      if (exitCodeFor(error) === ExitCode.unreachable || !(error instanceof ConnectError)) {
        throw error;
      }
      return { line: JSON.stringify({ key: item.key, error: errorFields(error) }), failed: true };
    }
  };
  return orderedCalls(items, (item) => item.key, set, settings.concurrency);
}

/** `k=v`: only the first `=` splits, no `=` means an empty value (as in the original). */
function parseItem(text: string): LoadItem {
  const split = text.indexOf("=");
  return split === -1 ? { key: text, value: "" } : { key: text.slice(0, split), value: text.slice(split + 1) };
}

/**
 * The items of stdin's lines, a batch per read, read as they are needed.
 * Lines end at LF, CRLF or a lone CR; empty lines are skipped; text is
 * read as UTF-8. Not readline: it hands over one line (one promise) at a
 * time, which costs a loaded CPU a tenth of the calls' rate.
 */
async function* stdinItems(): AsyncGenerator<LoadItem[]> {
  let partial = "";
  for await (const chunk of process.stdin.setEncoding("utf8") as AsyncIterable<string>) {
    const lines = (partial + chunk).split(/\r\n|\r|\n/);
    partial = lines.pop() ?? "";
    yield lines.filter((line) => line !== "").map(parseItem);
  }
  if (partial !== "") {
    yield [parseItem(partial)];
  }
}

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10_000) {
    throw new InvalidArgumentError("must be an integer from 1 to 10000");
  }
  return n;
}

/** A `<done> items, <rate>/s` line on stderr, rewritten in place a few times a second. */
function startProgress(): { update(count: number): void; stop(count: number): void } {
  const started = performance.now();
  let done = 0;
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    return `\rkeyquarry: ${done} items, ${Math.round(done / Math.max(seconds, 0.001))}/s`;
  };
  const timer = setInterval(() => process.stderr.write(line()), 250).unref();
  return {
    update: (count) => (done = count),
    stop: (count) => {
      clearInterval(timer);
      done = count;
      process.stderr.write(`${line()}\n`);
    },
  };
}
