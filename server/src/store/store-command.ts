import type { SetRequest, SetResult } from "./store-api.js";
import type { StoreError } from "./store-error.js";

/**
 * One state-changing call of the store, as data: what a journal records and
 * a replay (or a replica) applies again through the same method. Only the
 * arguments are kept; the time and the revision are in {@link CommandRecord}.
 */
export type StoreCommand =
  | { op: "set"; clientId: string; request: SetRequest }
  | { op: "delete"; clientId: string; key: string; ifVersion?: bigint }
  | { op: "pop"; clientId: string; key: string }
  /** `prefixes`: only keys with one of them (an identity limited to key prefixes). */
  | { op: "clear"; clientId: string; force: boolean; prefixes?: string[] }
  | { op: "lock"; clientId: string; key: string; duration?: bigint; createIfMissing: boolean }
  | { op: "unlock"; clientId: string; key: string }
  | { op: "clearHistory"; clientId: string }
  | { op: "register"; clientId: string }
  | { op: "setReadOnly"; clientId: string; enable: boolean }
  /** Admin.Prune. */
  | { op: "prune"; target: number; ignore: string[] }
  /** The scheduled prune (prune_interval). */
  | { op: "scheduledPrune" }
  /** Expirations applied by the expiry timer (`limit`) or at the start of a read (no limit). */
  | { op: "expire"; limit?: number }
  /**
   * Revisions up to `upTo` may be taken without a record (reads' ACCESSED
   * events): a restart after a crash continues above them, so no revision a
   * watcher saw is given twice.
   */
  | { op: "reserveRevisions"; upTo: bigint }
  /** The reserved keys written at every start. */
  | { op: "writeReservedKeys"; values: Array<[string, string]> };

/** A command of op `O`. */
export type StoreCommandOf<O extends StoreCommandOp> = Extract<StoreCommand, { op: O }>;

// The builders of the commands with optional fields leave an absent one out (not `undefined`):
// a command recorded and one decoded from the journal or the cluster's log compare equal.

/** A Delete, with `ifVersion` when given. */
export function deleteCommand(clientId: string, key: string, ifVersion: bigint | undefined): StoreCommandOf<"delete"> {
  return ifVersion === undefined ? { op: "delete", clientId, key } : { op: "delete", clientId, key, ifVersion };
}

/** A Clear, limited to `prefixes` when given. */
export function clearCommand(clientId: string, force: boolean, prefixes: readonly string[] | undefined): StoreCommandOf<"clear"> {
  return prefixes === undefined ? { op: "clear", clientId, force } : { op: "clear", clientId, force, prefixes: [...prefixes] };
}

/** A Lock, with `duration` when given. */
export function lockCommand(clientId: string, key: string, duration: bigint | undefined, createIfMissing: boolean): StoreCommandOf<"lock"> {
  return duration === undefined ? { op: "lock", clientId, key, createIfMissing } : { op: "lock", clientId, key, duration, createIfMissing };
}

/** The name of a {@link StoreCommand}. */
export type StoreCommandOp = StoreCommand["op"];

/** The commands the server issues by itself; every other one is a client's request. */
const serverOps: ReadonlySet<StoreCommandOp> = new Set(["scheduledPrune", "expire", "writeReservedKeys", "reserveRevisions"]);

/** Whether `command` is a client's request (which a durable journal must commit before it is answered). */
export function isClientCommand(command: StoreCommand): boolean {
  return !serverOps.has(command.op);
}

/** A command as it was applied: replaying it at `time` on the state it found gives the same result. */
export interface CommandRecord {
  /** Position in the store's sequence of commands, from 1; a snapshot holds the last one applied. */
  seq: bigint;
  /** The clock reading every part of the command used, ns since the epoch. */
  time: bigint;
  /**
   * The store's revision before the command. Reads advance the revision
   * (ACCESSED events) without being recorded; a replay skips to it.
   */
  revision: bigint;
  command: StoreCommand;
  /**
   * The keys each prune the command ran removed, in order (null: it found
   * fewer keys than its target and did not run). Which keys a prune picks
   * depends on access metrics, which are not journaled: a replay removes
   * these instead of picking again.
   */
  pruned?: Array<string[] | null>;
}

/**
 * Where the store hands its commands (see {@link KeyValueStore.attachCommandSink}).
 * Called synchronously; must not call back into the store.
 */
export interface CommandSink {
  /**
   * Called before a client command changes anything; throws to refuse it
   * (e.g. while its journal cannot commit), leaving the store untouched.
   */
  admit(command: StoreCommand): void;
  /** Called after every command that succeeded or changed the state (a refused one that applied due expirations). */
  record(record: CommandRecord): void;
}

/** What each command's method returns. */
export interface CommandResults {
  set: SetResult;
  delete: void;
  pop: Uint8Array;
  /** Keys removed. */
  clear: bigint;
  /** The lock's fencing token. */
  lock: bigint;
  unlock: void;
  clearHistory: { keys: bigint; cleared: bigint };
  register: void;
  setReadOnly: void;
  /** Keys pruned. */
  prune: number;
  scheduledPrune: number;
  /** Expirations applied. */
  expire: number;
  reserveRevisions: void;
  writeReservedKeys: void;
}

/** What `command`'s method returns. */
export type CommandResult<C extends StoreCommand> = CommandResults[C["op"]];

/** A command applied: its method's result, or the refusal it threw. */
export type CommandOutcome<C extends StoreCommand> = { value: CommandResult<C>; error?: undefined } | { value?: undefined; error: StoreError };
