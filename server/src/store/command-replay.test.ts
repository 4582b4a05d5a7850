/**
 * Deterministic replay, property-based: random sequences of every kind of
 * command and read (with expiries by a moving clock, eager, scheduled and
 * Admin prunes, refusals of every kind) run on a store whose command sink
 * keeps every record, encoded, sealed in batches and decoded again as the
 * journal does. A snapshot taken at a random step, then the records after
 * it, replayed into a fresh store, must give the state the original ended
 * with; so must every record replayed from an empty store. Access metrics
 * are not journaled (counted since the last snapshot), so they are the one
 * part of the state left out of the comparison. On failure fast-check
 * prints the seed and path; replay with KEYQUARRY_FC_SEED (and
 * KEYQUARRY_FC_PATH), or run more cases with KEYQUARRY_FC_RUNS.
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { decodeEntry, encodeRecord, sealBatch, type EncodedRecord } from "../journal/journal-entry-codec.js";
import { ManualClock } from "./clock.js";
import { fastCheckParameters } from "./fast-check-parameters.fixture.js";
import { ADMIN, MS, SECOND, T1, baseOptions, bytes } from "./key-value-store.fixture.js";
import { KeyValueStore, type StoreOptions } from "./key-value-store.js";
import type { CommandRecord, CommandSink } from "./store-command.js";
import { StoreError } from "./store-error.js";
import type { StoreState } from "./store-state.js";

const clients = ["alice", "bob", ADMIN] as const;
// Few keys, so that operations meet; "" and a reserved one for their refusals.
const keys = ["a", "b", "c", "d", "e", "", "KeyQuarry/x"] as const;
const lockDurations = [0n, 500n * MS, SECOND, 30n * SECOND, 60n * SECOND, 120n * SECOND] as const;
const lifespans = [0n, 500n * MS, SECOND, 30n * SECOND, 90n * SECOND] as const;
const advances = [1n, 500n * MS, SECOND, 30n * SECOND, 60n * SECOND, 3_600n * SECOND] as const;
const values = ["", "x", "y", "xy", "{\"j\":1}", "long!"] as const;

type Operation =
  | { op: "set"; client: string; key: string; value: string; contentType: string; lockDuration?: bigint; lifespan?: bigint; ifVersion?: bigint }
  | { op: "get" | "pop" | "unlock" | "watchValue" | "recordWatchAccess"; client: string; key: string }
  | { op: "inspect"; client: string; key: string; withValue: boolean; metrics: boolean }
  | { op: "delete"; client: string; key: string; ifVersion?: bigint }
  | { op: "exists" | "keyMetrics"; key: string }
  | { op: "clear"; client: string; force: boolean }
  | { op: "clearHistory" | "register"; client: string }
  | { op: "setReadOnly"; client: string; enable: boolean }
  | { op: "lock"; client: string; key: string; duration?: bigint; createIfMissing: boolean }
  | { op: "getRevision"; client: string; key: string; version: bigint }
  | { op: "listKeys"; pattern: string; includeReserved: boolean }
  | { op: "stats" }
  | { op: "prune"; target: number; ignore: string[] }
  | { op: "scheduledPrune" }
  | { op: "advance"; ns: bigint; expire: "no" | "all" | "one" };

const weighted = <T>(choices: ReadonlyArray<readonly [T, number]>): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([value, weight]) => ({ weight, arbitrary: fc.constant(value) })));
const client = weighted(clients.map((id, i) => [id, clients.length - i] as const));
const key = weighted(keys.map((name, i) => [name, i < 5 ? 6 - i : 1] as const));
const optional = <T>(values: readonly T[], absentInTen: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absentInTen, arbitrary: fc.constant(undefined) }, { weight: 10 - absentInTen, arbitrary: fc.constantFrom(...values) });
const optionalVersion = optional([0n, 1n, 2n, 3n], 7);
const withoutUndefined = <T extends object>(record: T): T =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("set" as const),
      client,
      key,
      value: fc.constantFrom(...values),
      // "" is sniffed from the value.
      contentType: fc.constantFrom("", "", "text/x"),
      lockDuration: optional(lockDurations, 7),
      lifespan: optional(lifespans, 7),
      ifVersion: optionalVersion,
    }).map(withoutUndefined),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom("get" as const, "pop" as const, "unlock" as const, "watchValue" as const, "recordWatchAccess" as const, "get" as const),
      client,
      key,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("inspect" as const), client, key, withValue: fc.boolean(), metrics: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), client, key, ifVersion: optionalVersion }).map(withoutUndefined) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom("exists" as const, "keyMetrics" as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const), client, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom("clearHistory" as const, "register" as const), client }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("setReadOnly" as const), client, enable: weighted([[false, 3], [true, 1]]) }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ op: fc.constant("lock" as const), client, key, duration: optional(lockDurations, 1), createIfMissing: fc.boolean() })
      .map(withoutUndefined),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("getRevision" as const), client, key, version: fc.bigInt({ min: -3n, max: 4n }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("listKeys" as const), pattern: fc.constantFrom("", "*", "a*", "K*"), includeReserved: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: "stats" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("prune" as const), target: fc.nat({ max: 4 }), ignore: fc.subarray(["a", "b", "c"]) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "scheduledPrune" as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ns: fc.constantFrom(...advances),
      expire: fc.constantFrom("no" as const, "all" as const, "one" as const),
    }),
  },
);

/** Small limits, so that MAX_KEYS, MAX_CLIENTS and every kind of prune happen within a few steps. */
const options: fc.Arbitrary<StoreOptions> = fc
  .record({
    revisionLimit: fc.constantFrom(-1, 0, 1, 3),
    keepDeletedKeyHistory: fc.boolean(),
    maxRemovedKeyMetrics: fc.constantFrom(-1, 0, 2),
    maxClients: fc.constantFrom(0, 1),
    maxKeys: fc.constantFrom(0, 3, 4),
    // Eager prune after 3 user keys down to 2; or none.
    eager: fc.boolean(),
    scheduled: fc.boolean(),
  })
  .map(({ eager, scheduled, ...rest }) => ({
    ...baseOptions,
    ...rest,
    maxValueSize: 5,
    maxLockDuration: 60n * SECOND,
    eagerPruneAt: eager ? 3 : 0,
    eagerPruneTo: eager ? 2 : 0,
    pruneAt: scheduled ? 3 : 0,
    pruneTo: scheduled ? 1 : 0,
  }));

/** Runs one operation; refusals (StoreError) are part of the sequence: returns the code of one. */
function run(store: KeyValueStore, clock: ManualClock, operation: Operation): string | undefined {
  try {
    apply(store, clock, operation);
    return undefined;
  } catch (error) {
    if (!(error instanceof StoreError)) {
      throw error;
    }
    return error.code;
  }
}

function apply(store: KeyValueStore, clock: ManualClock, operation: Operation): void {
  {
    switch (operation.op) {
      case "set": {
        const { op: _op, client, value, ...request } = operation;
        store.set(client, { ...request, value: bytes(value) });
        return;
      }
      case "get":
        return void store.get(operation.client, operation.key);
      case "pop":
        return void store.pop(operation.client, operation.key);
      case "unlock":
        return store.unlock(operation.client, operation.key);
      case "watchValue":
        return void store.watchValue(operation.client, operation.key);
      case "recordWatchAccess":
        return store.recordWatchAccess(operation.client, operation.key);
      case "inspect":
        return void store.inspect(operation.client, operation.key, { value: operation.withValue, metrics: operation.metrics });
      case "delete":
        return store.delete(operation.client, operation.key, operation.ifVersion);
      case "exists":
        return void store.exists(operation.key);
      case "keyMetrics":
        return void store.keyMetrics(operation.key);
      case "clear":
        return void store.clear(operation.client, operation.force);
      case "clearHistory":
        return void store.clearHistory(operation.client);
      case "register":
        return store.register(operation.client);
      case "setReadOnly":
        return store.setReadOnly(operation.client, operation.enable);
      case "lock":
        return void store.lock(operation.client, operation.key, operation.duration, operation.createIfMissing);
      case "getRevision":
        return void store.getRevision(operation.client, operation.key, operation.version);
      case "listKeys": {
        const budget = { maxKeys: Infinity, maxBytes: Infinity, pageEmpty: true, expired: () => false };
        return void store.scanKeys({ pattern: store.keyPattern(operation.pattern), includeReserved: operation.includeReserved, after: 0 }, budget);
      }
      case "stats":
        return void store.stats();
      case "prune":
        // As Admin.Prune does, after authorizing the caller.
        return void store.prune(operation.target, new Set(operation.ignore));
      case "scheduledPrune":
        return void store.scheduledPrune();
      case "advance":
        clock.advance(operation.ns);
        // As the host's expiry timer does, sometimes a slice at a time.
        if (operation.expire !== "no") {
          store.expireDue(operation.expire === "all" ? Infinity : 1);
        }
        return;
    }
  }
}

/** A sink as the journal's: encodes each record at once, and remembers the revision each left the store at. */
class RecordingSink implements CommandSink {
  readonly encoded: EncodedRecord[] = [];
  /** The store's revision right after each record. */
  readonly revisionAfter: bigint[] = [];
  constructor(private readonly store: () => KeyValueStore) {}
  admit(): void {}
  record(record: CommandRecord): void {
    this.encoded.push(encodeRecord(record));
    this.revisionAfter.push(this.store().revision);
  }
  /** Every record, sealed in batches of `batchSize` and decoded as replay reads them. */
  decoded(batchSize: number): CommandRecord[] {
    const entries = [];
    for (let i = 0; i < this.encoded.length; i += batchSize) {
      entries.push(...sealBatch(this.encoded.slice(i, i + batchSize)));
    }
    return entries.map(decodeEntry);
  }
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The state without what is not journaled (access metrics) and without the
 * revision (compared on its own); removed keys' metrics and history in key
 * order (their order in a state follows when the key table swept them aside,
 * which reads do).
 */
function comparable(state: StoreState): unknown {
  return {
    ...state,
    revision: undefined,
    // Compared on the stores (commandSeq): exporting records a revision reservation after the state it exports.
    commandSeq: undefined,
    history: state.history.toSorted(byKey),
    metrics: state.metrics
      .map(({ key, metrics: { accessCount: _a, firstAccessed: _f, lastAccessed: _l, ...rest } }) => ({ key, metrics: rest }))
      .sort(byKey),
  };
}

const show = (value: unknown): string => JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));

/** Replays `records` (those after the state's position) into a fresh store holding `state`, at `now`. */
function replayed(
  storeOptions: StoreOptions,
  state: StoreState | undefined,
  records: readonly CommandRecord[],
  now: bigint,
): { store: KeyValueStore; inStep: boolean[] } {
  // Another time on its clock: every command must run at its recorded time, not the clock's.
  const clock = new ManualClock(T1 - 1000n * SECOND);
  const store = new KeyValueStore(storeOptions, clock);
  if (state !== undefined) {
    store.importState(state);
  }
  const after = store.commandSeq;
  const inStep = records.filter((record) => record.seq > after).map((record) => store.applyCommand(record).inStep);
  clock.advance(now - clock.now());
  return { store, inStep };
}

const parameters = fastCheckParameters(500);

/** What the runs recorded, over all of them: every kind of command must have been replayed. */
const seen = new Set<string>();

describe("journal replay", () => {
  const timeout = Math.max(60_000, parameters.numRuns * 100);
  it("a snapshot plus the records after it, or every record from empty, give the state the run ended with", { timeout }, () => {
    fc.assert(
      fc.property(
        options,
        fc.array(operation, { minLength: 1, maxLength: 60, size: "max" }),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        (storeOptions, operations, snapshotAt, batchSize) => {
          const clock = new ManualClock(T1);
          const store = new KeyValueStore(storeOptions, clock);
          const sink = new RecordingSink(() => store);
          store.attachCommandSink(sink);
          store.writeReservedKeys([["KeyQuarry/x", "reserved"]]);
          let snapshot: StoreState | undefined;
          for (const [step, operation] of operations.entries()) {
            if (step === snapshotAt % operations.length) {
              snapshot = store.exportState(true);
            }
            const refusal = run(store, clock, operation);
            if (refusal !== undefined) {
              seen.add(`refused ${refusal}`);
            }
          }
          // What a crash now would leave: the records so far, and every revision handed out, reads' ones included.
          const recordedBeforeFinal = sink.encoded.length;
          const handedOut = store.revision;
          const final = store.exportState(true);
          const records = sink.decoded(batchSize);
          const crashed = replayed(storeOptions, undefined, records.slice(0, recordedBeforeFinal), clock.now()).store;
          crashed.continueAfterReservedRevisions();
          expect(crashed.revision, "a restart after a crash continues above every revision handed out").toBeGreaterThanOrEqual(handedOut);
          for (const record of records) {
            seen.add(record.command.op);
            if (record.pruned?.some((keys) => keys !== null && keys.length > 0)) {
              seen.add(`pruned in ${record.command.op}`);
            }
          }
          expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => BigInt(i + 1)));
          // The revision the last command left; reads after it only number their ACCESSED events.
          const lastRevision = sink.revisionAfter.at(-1) ?? 0n;
          expect(final.revision).toBeGreaterThanOrEqual(lastRevision);

          for (const [from, state] of [["snapshot", snapshot], ["empty", undefined]] as const) {
            const { store: copy, inStep } = replayed(storeOptions, state, records, clock.now());
            expect(inStep.every(Boolean), `${from}: replay in step with the recorded revisions`).toBe(true);
            const copyState = copy.exportState(true);
            if (!isDeepStrictEqual(comparable(copyState), comparable(final))) {
              expect(comparable(copyState), `${from}: ${show(operations)}`).toStrictEqual(comparable(final));
            }
            // A snapshot holds the revision its reads reached; a replay reaches the last command's.
            const expectedRevision = state !== undefined && state.revision > lastRevision ? state.revision : lastRevision;
            expect(copy.revision, from).toBe(expectedRevision);
            expect(copyState.fencingToken, from).toBe(final.fencingToken);
            expect(copy.commandSeq, from).toBe(store.commandSeq);
          }
        },
      ),
      parameters,
    );
    const ops = ["set", "delete", "pop", "clear", "lock", "unlock", "clearHistory", "register", "setReadOnly"];
    ops.push("prune", "scheduledPrune", "expire", "writeReservedKeys", "reserveRevisions");
    // Eager prunes run inside a Set or a Lock that creates a key.
    expect([...seen].filter((what) => !what.startsWith("refused")).sort()).toEqual(
      [...ops, "pruned in prune", "pruned in scheduledPrune", "pruned in set", "pruned in lock"].sort(),
    );
    const refusals = ["MAX_KEYS", "MAX_CLIENTS", "VERSION_MISMATCH", "READONLY", "NOT_AUTHORIZED", "LOCKED", "WRONG_OWNER", "LOCKED_OTHER", "LIFESPAN_INVALID"];
    expect([...seen].filter((what) => what.startsWith("refused"))).toEqual(expect.arrayContaining(refusals.map((code) => `refused ${code}`)));
  });
});
