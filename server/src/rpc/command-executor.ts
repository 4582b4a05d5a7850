import type { CommandResult, StoreCommand } from "../store/store-command.js";
import type { CallContext } from "./unary-operations.js";

/**
 * How the RPC layer changes the store: a single server runs the command on
 * its store (synchronously: KeyValueStore is one); a cluster node appends it
 * to the replicated log and answers with what applying it gave, or the
 * refusal it threw, once this node has applied it.
 */
export interface CommandExecutor {
  execute<C extends StoreCommand>(command: C, call?: CallContext): CommandResult<C> | Promise<CommandResult<C>>;
}

/** `map(value)`, after the promise when it is one: a synchronous result stays synchronous (the single server's hot path). */
export function whenDone<T, R>(value: T | Promise<T>, map: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(map) : map(value);
}
