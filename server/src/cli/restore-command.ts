import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Code, ConnectError } from "@connectrpc/connect";
import { Option } from "commander";
import type { KeyquarryClient } from "@keyquarry/client-node";
import { durationFromNanos } from "../rpc/duration.js";
import type { ClientCommand } from "./client-commands.js";
import { describeError, errorFields } from "./describe-error.js";
import { parseDumpedKey, parseDumpHeader, type RestorableKey } from "./dump-format.js";
import { CliError, ExitCode, exitCodeFor } from "./exit-code.js";
import { formatValue } from "./format-json.js";
import { mapInOrder } from "./map-in-order.js";
import { ProgressLine } from "./progress-line.js";

/** Keys restored at once (their versions in order, one after another). */
const inFlight = 32;

/** How one key line turned out; only problems are printed. */
type Outcome =
  | { key: string; restored: true }
  | { key: string; skipped: string }
  | { key?: string; line: number; error: { code: string; message: string } };

/**
 * `keyquarry client restore`: sets the keys of a dump (see dump-format.ts)
 * on the server, each with its content type and the lifespan it has left
 * now, its earlier versions first when the dump has them.
 */
export const restoreCommand: ClientCommand = {
  name: "restore",
  description:
    "set the keys of a `dump` (from -i FILE or piped stdin); existing keys are refused unless --overwrite; prints problems and a summary as JSON lines",
  options: [
    new Option("-i, --input <file>", "read this file instead of stdin"),
    new Option("--overwrite", "replace keys that exist (default: refuse them)"),
  ],
  async *run({ client, options }) {
    const input = options.input as string | undefined;
    if (input === undefined && process.stdin.isTTY) {
      throw new CliError("restore: give -i FILE or pipe a dump into stdin", ExitCode.usage);
    }
    const lines = createInterface({ input: input === undefined ? process.stdin : createReadStream(input), crlfDelay: Infinity });
    const counts = { restored: 0, skipped: 0, failed: 0 };
    const progress = new ProgressLine();
    for await (const outcome of mapInOrder(keyLines(lines), inFlight, (line) => restoreLine(client, line, options.overwrite === true))) {
      if ("restored" in outcome) {
        counts.restored++;
      } else {
        counts["skipped" in outcome ? "skipped" : "failed"]++;
        yield { render: () => formatValue(outcome) + "\n" };
      }
      progress.update(() => `restored ${counts.restored}, skipped ${counts.skipped}, failed ${counts.failed}`);
    }
    progress.end();
    yield { render: () => formatValue(counts) + "\n", exitCode: counts.failed > 0 ? ExitCode.someFailed : ExitCode.ok };
  },
};

/** A key line of the dump, with its line number and the time its lifespans count from. */
interface KeyLine {
  text: string;
  number: number;
  dumpedAt: bigint;
}

/** The key lines after a checked header; blank lines are skipped. */
async function* keyLines(lines: AsyncIterable<string>): AsyncGenerator<KeyLine> {
  let dumpedAt: bigint | undefined;
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === "") {
      continue;
    }
    if (dumpedAt === undefined) {
      try {
        dumpedAt = BigInt(Date.parse(parseDumpHeader(text).dumpedAt)) * 1_000_000n;
      } catch (error) {
        throw new CliError(`restore: line ${number}: ${(error as Error).message}`, ExitCode.failed);
      }
      continue;
    }
    yield { text, number, dumpedAt };
  }
  if (dumpedAt === undefined) {
    throw new CliError("restore: the input is empty, not a dump", ExitCode.failed);
  }
}

async function restoreLine(client: KeyquarryClient, line: KeyLine, overwrite: boolean): Promise<Outcome> {
  let entry: RestorableKey;
  try {
    entry = parseDumpedKey(line.text);
  } catch (error) {
    return { line: line.number, error: { code: "invalid_line", message: (error as Error).message } };
  }
  try {
    return await restoreKey(client, entry, line.dumpedAt, overwrite);
  } catch (error) {
    // No server, no point going on: one error (exit status 3) instead of one per key.
    if (exitCodeFor(error) === ExitCode.unreachable) {
      throw error;
    }
    const problem =
      error instanceof ConnectError
        ? errorFields(error)
        : { code: error instanceof KeyExists ? "exists" : "failed", message: describeError(error) };
    return { key: entry.key, line: line.number, error: problem };
  }
}

/**
 * Sets the key's versions oldest first, the first only if the key does not
 * exist (unless `overwrite`), the last with the lifespan left: the dumped
 * deadline (`dumpedAt` + lifespan left) minus now.
 */
async function restoreKey(client: KeyquarryClient, entry: RestorableKey, dumpedAt: bigint, overwrite: boolean): Promise<Outcome> {
  let lifespan: bigint | undefined;
  if (entry.lifespanLeft !== undefined) {
    lifespan = dumpedAt + entry.lifespanLeft - BigInt(Date.now()) * 1_000_000n;
    if (lifespan <= 0n) {
      return { key: entry.key, skipped: "its lifespan ran out" };
    }
  }
  const values = [...entry.history, entry.value];
  for (const [index, value] of values.entries()) {
    const onlyIfAbsent = index === 0 && !overwrite;
    try {
      await client.set({
        key: entry.key,
        value,
        contentType: entry.contentType,
        ifVersion: onlyIfAbsent ? 0n : undefined,
        lifespan: index === values.length - 1 && lifespan !== undefined ? durationFromNanos(lifespan) : undefined,
      });
    } catch (error) {
      // if_version 0 refuses an existing key with FAILED_PRECONDITION.
      if (onlyIfAbsent && ConnectError.from(error).code === Code.FailedPrecondition) {
        throw new KeyExists(entry.key);
      }
      throw error;
    }
  }
  return { key: entry.key, restored: true };
}

/** The key exists and restore was not told to overwrite it. */
class KeyExists extends Error {
  constructor(key: string) {
    super(`${key} exists; --overwrite replaces it`);
  }
}
