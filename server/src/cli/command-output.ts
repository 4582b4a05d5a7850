import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { formatJson } from "./format-json.js";

/**
 * What a client subcommand writes to stdout on success, rendered once the
 * `--indent` setting is known, and its exit status (default 0).
 */
export interface CommandOutput {
  render(indent: number): string | Uint8Array;
  exitCode?: number;
}

/** The response message as one JSON document (see {@link formatJson}). */
export function jsonOutput<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  exitCode?: number,
): CommandOutput {
  return { render: (indent) => formatJson(schema, message, indent) + "\n", exitCode };
}

/**
 * A value exactly as stored, so that `get key > file` gives back the bytes
 * that were set. Only on a terminal does a value that does not end a line
 * get a newline, so that the prompt does not follow it on the same line.
 */
export function rawOutput(value: Uint8Array): CommandOutput {
  return {
    render: () =>
      process.stdout.isTTY && value.length > 0 && value[value.length - 1] !== 0x0a
        ? Buffer.concat([value, Buffer.from("\n")])
        : value,
  };
}

/** One line per item, e.g. key names. */
export function linesOutput(lines: readonly string[]): CommandOutput {
  return { render: () => lines.map((line) => line + "\n").join("") };
}
