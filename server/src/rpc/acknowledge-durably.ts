import type { DescService } from "@bufbuild/protobuf";
import type { UnaryOperations } from "./unary-operations.js";

/** What the RPC layer asks of a journal (see JournalWriter). */
export interface Durability {
  /** A position in the stream of recorded client commands. */
  mark(): number;
  /** `output` once the commands recorded since `mark` are durable (may reject with a JournalError). */
  acknowledge<T>(mark: number, output: T): T | Promise<T>;
}

/**
 * Every operation of `operations`, answering only once the writes it made
 * are durable: one wrapper for all, so no write can forget to wait, and a
 * read (which records no client command) answers as fast as before.
 */
export function acknowledgeDurably<S extends DescService>(operations: UnaryOperations<S>, durability: Durability): UnaryOperations<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, operation] of Object.entries(operations as Record<string, (...args: never[]) => unknown>)) {
    wrapped[name] = (...args: never[]) => {
      const mark = durability.mark();
      return durability.acknowledge(mark, operation(...args));
    };
  }
  return wrapped as UnaryOperations<S>;
}
