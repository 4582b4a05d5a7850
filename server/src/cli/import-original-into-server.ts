import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyquarryClient } from "@keyquarry/client-node";
import { formatDuration } from "../duration/parse-duration.js";
import { durationFromNanos } from "../rpc/duration.js";
import { errorFields } from "./describe-error.js";
import { ExitCode, exitCodeFor } from "./exit-code.js";
import type { KeyState, RevisionState, StoreState } from "../store/store-state.js";

/** What `--locks` does with a lock of the original: leave it, or take it again for its owner. */
export type LockPolicy = "skip" | "take";

/** The outcome of importing one key through the API: one JSON line of output. */
export type ServerImportResult =
  | { key: string; success: true; version: bigint; revisions: number; lifespanLeft?: string; lock?: "taken" | "skipped" }
  | { key: string; error: { code: string; message: string } };

/** How {@link importIntoServer} reaches the server. */
export interface ServerImportOptions {
  /** The client that sets the keys. */
  client: KeyquarryClient;
  /** A client that calls as `owner` (the lock's owner in the original), for `--locks take`. */
  clientAs(owner: string): KeyquarryClient;
  locks: LockPolicy;
  /** Replace keys the server already has (default: such a key fails, and is left as it is). */
  overwrite: boolean;
  /** Keys imported at a time. */
  concurrency: number;
  /** ns since the epoch; a function because lifespans are sent as the time they have left. */
  now(): bigint;
}

/**
 * Imports `state` (made by storeStateOfOriginal) into a running server
 * through its API, one key after another within each key and `concurrency`
 * keys at a time. Each key: its retained earlier versions first, oldest
 * first, each as a Set with its content type, then the current value with
 * its content type; so the server numbers the versions itself (a key with
 * versions 3, 4, 5 becomes 1, 2, 3). The first Set carries the lifespan's
 * remaining time (later Sets renew it, as any Set does) and, without
 * `overwrite`, `if_version` 0, so that a key the server has fails untouched.
 * With `locks` "take", a live lock is taken again by its owner's client id
 * for its full duration (a new fencing token; under auth the caller's own
 * identity holds it). Resolves with one result per key, in `state` order;
 * rejects as soon as the server is unreachable (the keys set so far stay).
 */
export async function importIntoServer(state: StoreState, options: ServerImportOptions): Promise<ServerImportResult[]> {
  const history = new Map(state.history.map(({ key, revisions }) => [key, revisions]));
  const results: ServerImportResult[] = new Array(state.keys.length);
  let next = 0;
  let unreachable = false;
  const worker = async () => {
    for (let index = next++; index < state.keys.length && !unreachable; index = next++) {
      const key = state.keys[index]!;
      results[index] = await importKey(key, history.get(key.key) ?? [], options).catch((error: unknown) => {
        // Without a server every other key would fail the same way: stop, and fail as client commands do.
        if (exitCodeFor(ConnectError.from(error)) === ExitCode.unreachable) {
          unreachable = true;
          throw error;
        }
        return { key: key.key, error: errorFields(error) };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, state.keys.length) }, worker));
  return results;
}

async function importKey(key: KeyState, retained: readonly RevisionState[], options: ServerImportOptions): Promise<ServerImportResult> {
  const { client } = options;
  // The current version may be the newest retained revision too (as the original saved it): set once.
  const [first, ...later] = [
    ...retained.filter((revision) => revision.version < key.version).map(({ value, contentType }) => ({ value, contentType })),
    { value: key.value, contentType: key.contentTypeSniffed ? "" : key.contentType },
  ];
  const lifespanLeft = key.lifespan && key.lifespan.deadline - options.now();
  if (lifespanLeft !== undefined && lifespanLeft <= 0n) {
    throw new ConnectError("its lifespan ended during the import", Code.FailedPrecondition);
  }
  await client.set({
    key: key.key,
    ...first!,
    lifespan: lifespanLeft === undefined ? undefined : durationFromNanos(lifespanLeft),
    ifVersion: options.overwrite ? undefined : 0n,
  });
  for (const { value, contentType } of later) {
    await client.set({ key: key.key, value, contentType });
  }
  let lock: "taken" | "skipped" | undefined;
  if (key.lock && options.locks === "take") {
    await options.clientAs(key.lock.owner).lock({ key: key.key, duration: durationFromNanos(key.lock.duration) });
    lock = "taken";
  } else if (key.lock) {
    lock = "skipped";
  }
  const { version } = await client.inspect({ key: key.key });
  return {
    key: key.key,
    success: true,
    version,
    revisions: later.length + 1,
    lifespanLeft: lifespanLeft === undefined ? undefined : formatDuration(lifespanLeft),
    lock,
  };
}

