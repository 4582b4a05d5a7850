import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Option } from "commander";
import type { InspectResponse, KeyquarryClient } from "@keyquarry/client-node";
import { formatDuration } from "../duration/parse-duration.js";
import { nanosFromDuration } from "../rpc/duration.js";
import { nanosFromTimestamp } from "../rpc/timestamp.js";
import type { ClientCommand } from "./client-commands.js";
import type { CommandOutput } from "./command-output.js";
import { describeError } from "./describe-error.js";
import { dumpFormatName, dumpFormatVersion, type DumpedKey, type DumpedRevision, type DumpHeader } from "./dump-format.js";
import { ExitCode, exitCodeFor } from "./exit-code.js";
import { formatValue } from "./format-json.js";
import { mapInOrder } from "./map-in-order.js";
import { ProgressLine } from "./progress-line.js";

/** Keys fetched at once; enough to hide the round trips, few enough to bound memory. */
const inFlight = 32;

/** `keyquarry client dump`: every user key as a JSON line (see dump-format.ts), sorted by name. */
export const dumpCommand: ClientCommand = {
  name: "dump",
  description: "write every key (value, content type, lifespan left) as JSON lines, sorted by key, for `restore`",
  options: [
    new Option("--prefix <prefix>", "only keys starting with this"),
    new Option("--history", "include each key's retained earlier versions"),
    new Option("-o, --output <file>", "write to this file instead of stdout"),
  ],
  async *run({ client, options }) {
    let failed = 0;
    const lines = dumpLines(client, { prefix: String(options.prefix ?? ""), history: options.history === true }, (key, error) => {
      failed++;
      process.stderr.write(`keyquarry: ${key}: ${describeError(error)}\n`);
    });
    const output = options.output as string | undefined;
    if (output === undefined) {
      for await (const line of lines) {
        yield { render: () => line };
      }
    } else {
      await pipeline(Readable.from(lines), createWriteStream(output));
    }
    if (failed > 0) {
      yield { render: () => "", exitCode: ExitCode.someFailed } satisfies CommandOutput;
    }
  },
};

/** The lines of a dump: the header, then the keys; a key that cannot be dumped goes to `onFailure` instead. */
async function* dumpLines(
  client: KeyquarryClient,
  request: { prefix: string; history: boolean },
  onFailure: (key: string, error: unknown) => void,
): AsyncGenerator<string> {
  const dumpedAt = BigInt(Date.now()) * 1_000_000n;
  const { serverVersion } = await client.stats({});
  const header: DumpHeader = { format: dumpFormatName, formatVersion: dumpFormatVersion, serverVersion, dumpedAt: rfc3339(dumpedAt) };
  yield formatValue(header) + "\n";
  // Sorted by name, so that two dumps of the same data are the same text.
  const keys: string[] = [];
  for await (const key of client.listAllKeys({ pattern: request.prefix === "" ? "" : `^${escapeRegExp(request.prefix)}` })) {
    keys.push(key);
  }
  keys.sort();
  const progress = new ProgressLine();
  let done = 0;
  const dumped = mapInOrder(keys, inFlight, async (key) => {
    try {
      return await dumpKey(client, key, dumpedAt, request.history);
    } catch (error) {
      // No server, no point going on: one error (exit status 3) instead of one per key.
      if (exitCodeFor(error) === ExitCode.unreachable) {
        throw error;
      }
      onFailure(key, error);
      return undefined;
    }
  });
  for await (const entry of dumped) {
    done++;
    progress.update(() => `dumped ${done} of ${keys.length} keys`);
    if (entry !== undefined) {
      yield formatValue(entry) + "\n";
    }
  }
  progress.end();
}

/**
 * One key's line; undefined if it is gone meanwhile. A key that another
 * client has locked fails: its value is the lock holder's (GetRevision
 * obeys the lock too).
 */
async function dumpKey(client: KeyquarryClient, key: string, dumpedAt: bigint, withHistory: boolean): Promise<DumpedKey | undefined> {
  let info: InspectResponse;
  try {
    info = await client.inspect({ key, includeValue: true });
  } catch (error) {
    if (ConnectError.from(error).code === Code.NotFound) {
      return undefined;
    }
    throw error;
  }
  const deadline = lifespanDeadline(info);
  return {
    key,
    value: Buffer.from(info.value ?? new Uint8Array(0)).toString("base64"),
    contentType: info.contentType,
    version: info.version,
    lifespanLeft: deadline === undefined ? undefined : formatDuration(deadline - dumpedAt),
    locked: info.locked === true,
    history: withHistory ? await earlierRevisions(client, key, info.version) : undefined,
  };
}

/** When the key's lifespan runs out: `expires`, or from the lifespan itself for servers that do not send it. */
function lifespanDeadline(info: InspectResponse): bigint | undefined {
  if (info.expires) {
    return nanosFromTimestamp(info.expires);
  }
  if (info.lifespan && info.lifespanSet) {
    return nanosFromTimestamp(info.lifespanSet) + nanosFromDuration(info.lifespan);
  }
  return undefined;
}

/** The retained versions before `current`, oldest first: walked back until one is not retained. */
async function earlierRevisions(client: KeyquarryClient, key: string, current: bigint): Promise<DumpedRevision[]> {
  const revisions: DumpedRevision[] = [];
  for (let version = current - 1n; version > 0n; version--) {
    try {
      const revision = await client.getRevision({ key, version });
      revisions.unshift({
        version,
        value: Buffer.from(revision.value).toString("base64"),
        timestamp: revision.timestamp && (toJson(TimestampSchema, revision.timestamp) as string),
      });
    } catch (error) {
      // NOT_FOUND: older ones are gone; FAILED_PRECONDITION: the server keeps no history.
      const code = ConnectError.from(error).code;
      if (code === Code.NotFound || code === Code.FailedPrecondition) {
        break;
      }
      throw error;
    }
  }
  return revisions;
}

function rfc3339(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000n)).toISOString();
}

/** `text` matched literally by an RE2 pattern. */
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}
