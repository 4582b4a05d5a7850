import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { formatJson } from "./format-json.js";

/**
 * What a client subcommand writes to stdout on success, rendered once the
 * `--indent` setting is known.
 */
export type CommandOutput = (indent: number) => string | Uint8Array;

/** The response message as one JSON document (see {@link formatJson}). */
export function jsonOutput<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): CommandOutput {
  return (indent) => formatJson(schema, message, indent) + "\n";
}

/** A value exactly as stored, followed by a newline. */
export function rawOutput(value: Uint8Array): CommandOutput {
  return () => Buffer.concat([value, Buffer.from("\n")]);
}

/** One line per item, e.g. key names. */
export function linesOutput(lines: readonly string[]): CommandOutput {
  return () => lines.map((line) => line + "\n").join("");
}
