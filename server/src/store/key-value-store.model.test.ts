/**
 * Model-based test of the store engine: random sequences of operations from
 * several clients, with a fake clock, run against the real KeyValueStore
 * and against the reference model (key-value-store.model.ts); every answer
 * and every error must agree, and so must what Inspect shows of each key
 * after every step. On failure fast-check prints the seed and path; replay
 * with KEYQUARRY_FC_SEED (and KEYQUARRY_FC_PATH), or run more cases with
 * KEYQUARRY_FC_RUNS.
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { KeyValueStore } from "./key-value-store.js";
import { StoreModel, type ModelOptions, type Outcome } from "./key-value-store.model.js";
import { fastCheckParameters } from "./fast-check-parameters.fixture.js";
import { MS, SECOND, T1, baseOptions, bytes, expectedErrors, text } from "./key-value-store.fixture.js";
import { StoreError } from "./store-error.js";

const clients = ["alice", "bob", "carol"] as const;
// Few keys, so that operations meet; "" and a reserved one for their refusals.
const keys = ["a", "b", "c", "", "KeyQuarry/x"] as const;
const observedKeys = ["a", "b", "c"] as const;
// Some under min (1s) or over max (1m): their refusals are part of the model. A short max makes capped extensions common.
const lockDurations = [0n, 500n * MS, SECOND, 30n * SECOND, 60n * SECOND, 120n * SECOND] as const;
const lifespans = [0n, 500n * MS, SECOND, 30n * SECOND, 90n * SECOND] as const;
// Steps that reach deadlines exactly, fall just short of them, and pass them.
const advances = [1n, 500n * MS, SECOND - 1n, SECOND, 30n * SECOND, 60n * SECOND] as const;
// Values within max_value_size (4) but one; equal values make Sets that change nothing.
const values = ["", "x", "y", "xy", "long!"] as const;

type Operation =
  | { op: "set"; client: string; key: string; value: string; lockDuration?: bigint; lifespan?: bigint; ifVersion?: bigint }
  | { op: "get" | "pop" | "unlock"; client: string; key: string }
  | { op: "inspect"; client: string; key: string; withValue: boolean }
  | { op: "delete"; client: string; key: string; ifVersion?: bigint }
  | { op: "exists"; key: string }
  | { op: "clear"; force: boolean }
  | { op: "clearHistory"; client: string }
  | { op: "lock"; client: string; key: string; duration?: bigint; createIfMissing: boolean }
  | { op: "getRevision"; client: string; key: string; version: bigint }
  | { op: "advance"; ns: bigint; expireDue: boolean };

/** One of `choices`, each as often as its weight. */
const weighted = <T>(choices: ReadonlyArray<readonly [T, number]>): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([value, weight]) => ({ weight, arbitrary: fc.constant(value) })));
// Skewed, so that the same client often meets its own lock on the same key.
const client = weighted(clients.map((id, i) => [id, clients.length - i] as const));
const key = weighted(keys.map((name, i) => [name, i < 3 ? 6 - 2 * i : 1] as const));
/** Undefined `absentInTen` times in ten, else one of `values`. */
const optional = <T>(values: readonly T[], absentInTen: number): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: absentInTen, arbitrary: fc.constant(undefined) },
    { weight: 10 - absentInTen, arbitrary: fc.constantFrom(...values) },
  );
// Requests mostly leave these out: a refused request changes nothing, so most must pass for states to grow.
const optionalVersion = optional([0n, 1n, 2n, 3n, 4n], 7);
const withoutUndefined = <T extends object>(record: T): T =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        op: fc.constant("set" as const),
        client,
        key,
        value: fc.constantFrom(...values),
        lockDuration: optional(lockDurations, 6),
        lifespan: optional(lifespans, 7),
        ifVersion: optionalVersion,
      })
      .map(withoutUndefined),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom("get" as const, "pop" as const, "unlock" as const), client, key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("inspect" as const), client, key, withValue: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("delete" as const), client, key, ifVersion: optionalVersion }).map(withoutUndefined),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("exists" as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const), force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clearHistory" as const), client }) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        op: fc.constant("lock" as const),
        client,
        key,
        duration: optional(lockDurations, 1),
        createIfMissing: fc.boolean(),
      })
      .map(withoutUndefined),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("getRevision" as const), client, key, version: fc.bigInt({ min: -4n, max: 5n }) }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("advance" as const), ns: fc.constantFrom(...advances), expireDue: fc.boolean() }) },
);

const options: fc.Arbitrary<ModelOptions> = fc.record({
  maxValueSize: fc.constant(4),
  revisionLimit: fc.constantFrom(-1, 0, 1, 3),
  keepDeletedKeyHistory: fc.boolean(),
  minLockDuration: fc.constant(SECOND),
  maxLockDuration: fc.constant(60n * SECOND),
  minLifespan: fc.constant(SECOND),
});

/** The store's answer in the model's terms. */
function outcomeOf(call: () => unknown): Outcome {
  try {
    return { ok: call() };
  } catch (error) {
    if (!(error instanceof StoreError)) {
      throw error;
    }
    const message: string | undefined = expectedErrors[error.code as keyof typeof expectedErrors];
    // The message as the registry written out in the fixture says, the detail after ": ".
    expect(message, error.code).toBeDefined();
    expect(error.message.startsWith(message!), error.code).toBe(true);
    const detail = error.message.slice(message!.length + 2);
    return detail === "" ? { error: error.code } : { error: error.code, detail };
  }
}

/** Runs one operation on the store, answering as the model does. */
function runOnStore(store: KeyValueStore, clock: ManualClock, operation: Operation): Outcome {
  switch (operation.op) {
    case "set": {
      const { client, key, value, ...rest } = operation;
      return outcomeOf(() => store.set(client, { key, value: bytes(value), contentType: "", ...withoutOp(rest) }));
    }
    case "get":
      return outcomeOf(() => text(store.get(operation.client, operation.key)));
    case "pop":
      return outcomeOf(() => text(store.pop(operation.client, operation.key)));
    case "unlock":
      return outcomeOf(() => store.unlock(operation.client, operation.key));
    case "inspect":
      return outcomeOf(() => {
        const info = store.inspect(operation.client, operation.key, { value: operation.withValue });
        return {
          version: info.version,
          size: Number(info.size),
          created: info.created,
          updated: info.updated,
          locked: info.locked,
          fencingToken: info.fencingToken,
          lifespan: info.lifespan,
          value: info.value && text(info.value),
        };
      });
    case "delete":
      return outcomeOf(() => store.delete(operation.client, operation.key, operation.ifVersion));
    case "exists":
      return outcomeOf(() => store.exists(operation.key));
    case "clear":
      return outcomeOf(() => store.clear("alice", operation.force));
    case "clearHistory":
      return outcomeOf(() => store.clearHistory(operation.client));
    case "lock":
      return outcomeOf(() => store.lock(operation.client, operation.key, operation.duration, operation.createIfMissing));
    case "getRevision":
      return outcomeOf(() => {
        const { value, version, timestamp } = store.getRevision(operation.client, operation.key, operation.version);
        return { value: text(value), version, timestamp };
      });
    case "advance":
      clock.advance(operation.ns);
      if (operation.expireDue) {
        // As the host's expiry timer does between requests.
        store.expireDue();
      }
      return { ok: undefined };
  }
}

const withoutOp = <T extends { op?: unknown }>({ op: _op, ...rest }: T) => rest;

/** Runs one operation on the model. */
function runOnModel(model: StoreModel, operation: Operation): Outcome {
  switch (operation.op) {
    case "set": {
      const { client, ...request } = operation;
      return model.set(client, withoutOp(request));
    }
    case "get":
      return model.get(operation.client, operation.key);
    case "pop":
      return model.pop(operation.client, operation.key);
    case "unlock":
      return model.unlock(operation.client, operation.key);
    case "inspect":
      return model.inspect(operation.client, operation.key, operation.withValue);
    case "delete":
      return model.delete(operation.client, operation.key, operation.ifVersion);
    case "exists":
      return model.exists(operation.key);
    case "clear":
      return model.clear(operation.force);
    case "clearHistory":
      return model.clearHistory(operation.client);
    case "lock":
      return model.lock(operation.client, operation.key, operation.duration, operation.createIfMissing);
    case "getRevision":
      return model.getRevision(operation.client, operation.key, operation.version);
    case "advance":
      model.advance(operation.ns);
      return { ok: undefined };
  }
}

/** Asserts deep equality; vitest's diff (and the context) is only made for a failure, to keep thousands of runs fast. */
function expectSame(actual: Outcome[], expected: Outcome[], context: () => string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    expect(actual, context()).toStrictEqual(expected);
  }
}

const show = (value: unknown): string => JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));

const parameters = fastCheckParameters(1000);

describe("KeyValueStore against its reference model", () => {
  // About 10 ms a run on a busy machine; generous, as other tests may share the CPU.
  it("agrees on every answer, error and key state", { timeout: Math.max(60_000, parameters.numRuns * 50) }, () => {
    fc.assert(
      fc.property(options, fc.array(operation, { maxLength: 50, size: "max" }), (modelOptions, operations) => {
        const clock = new ManualClock(T1);
        const store = new KeyValueStore({ ...baseOptions, ...modelOptions, maxKeys: 0 }, clock);
        const model = new StoreModel(modelOptions, T1);
        for (const [step, operation] of operations.entries()) {
          // The operation, then what Inspect shows of each key.
          const looks = observedKeys.map((key): Operation => ({ op: "inspect", client: "alice", key, withValue: false }));
          const actual = [runOnStore(store, clock, operation), ...looks.map((look) => runOnStore(store, clock, look))];
          const expected = [runOnModel(model, operation), ...looks.map((look) => runOnModel(model, look))];
          expectSame(actual, expected, () => `step ${step}: ${show(operation)}, then Inspect of ${observedKeys.join(", ")}`);
        }
        // Then every revision retained, of existing and removed keys.
        const revisions = observedKeys.flatMap((key) =>
          Array.from({ length: 23 }, (_, i): Operation => ({ op: "getRevision", client: "alice", key, version: BigInt(i - 6) })),
        );
        expectSame(
          revisions.map((look) => runOnStore(store, clock, look)),
          revisions.map((look) => runOnModel(model, look)),
          () => `at the end: ${revisions.map(show).join(", ")}`,
        );
      }),
      parameters,
    );
  });
});
