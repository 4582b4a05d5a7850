/**
 * A linearizability checker for the history of one key used as a register
 * through keyquarry's API: reads (Inspect with the value), unconditional
 * Sets and compare-and-set (Set with if_version). It is the Wing–Gong search
 * with Lowe's memoization, as Porcupine does it: the calls and returns sit in
 * one linked list in time order; the search linearizes a pending call when
 * the model allows its result, backtracks at a return it could not reach,
 * and skips any (set of linearized operations, model state) it has already
 * explored, which keeps hundreds of concurrent operations fast.
 *
 * An operation whose outcome is unknown (the call failed with UNAVAILABLE, a
 * deadline or a lost connection) returns at +infinity: it may take effect at
 * any point after its call, or never.
 */
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";

/** The register: a key's version (0n = absent) and value. */
export interface RegisterState {
  version: bigint;
  value: string;
}

/** What a client asked. */
export type RegisterInput =
  | { kind: "read" }
  | { kind: "write"; value: string }
  | { kind: "cas"; expectedVersion: bigint; value: string };

/**
 * What it got: a read's observation (without `version` when only the value
 * was read), a write or cas that succeeded (with the new version when the
 * API reported it), a cas refused with FAILED_PRECONDITION, or no answer.
 */
export type RegisterOutput =
  | { kind: "read"; value: string; version?: bigint }
  | { kind: "ok"; version?: bigint }
  | { kind: "failed" }
  | { kind: "unknown" };

/** One operation of a history; times are process.hrtime.bigint() values. */
export interface RegisterOperation {
  /** Who issued it (for the explanation only). */
  client: string | number;
  call: bigint;
  /** Absent when the outcome is unknown. */
  return?: bigint;
  input: RegisterInput;
  output: RegisterOutput;
}

/** {@link checkRegisterHistory}'s verdict. */
export type RegisterVerdict =
  | { ok: true }
  | {
      ok: false;
      /** The longest sequence of operations the search could linearize, in order. */
      longestPrefix: RegisterOperation[];
      /** The register after that prefix. */
      state: RegisterState;
      /** Which operations were left and why none could come next. */
      explanation: string;
    };

/** The register before the first operation: the key does not exist. */
export const absent: RegisterState = { version: 0n, value: "" };

/**
 * The states `operation` may leave the register in when it takes effect in
 * `state`: none when its output is impossible there, two for an unknown
 * outcome (took effect, or never did). Mirrors the store: a Set of the
 * value the key already holds changes nothing, not even the version.
 */
export function registerStep(state: RegisterState, input: RegisterInput, output: RegisterOutput): RegisterState[] {
  if (input.kind === "read") {
    const matches = output.kind === "unknown" || (output.kind === "read" && output.value === state.value && (output.version ?? state.version) === state.version);
    return matches ? [state] : [];
  }
  const applies = input.kind === "write" || input.expectedVersion === state.version;
  const after = !applies ? state : state.version !== 0n && state.value === input.value ? state : { version: state.version + 1n, value: input.value };
  switch (output.kind) {
    case "ok":
      return applies && (output.version ?? after.version) === after.version ? [after] : [];
    case "failed":
      return input.kind === "cas" && !applies ? [state] : [];
    case "unknown":
      return applies && after !== state ? [after, state] : [state];
    case "read":
      return [];
  }
}

/** A call or return in the search's doubly linked list. */
interface Entry {
  id: number;
  /** The call's matching return; undefined on a return entry. */
  match?: Entry;
  prev?: Entry;
  next?: Entry;
}

/**
 * Whether the history is linearizable for a register starting absent (or
 * `initial`). Throws on a malformed history (a return before its call).
 */
export function checkRegisterHistory(operations: readonly RegisterOperation[], initial: RegisterState = absent): RegisterVerdict {
  for (const op of operations) {
    if (op.return !== undefined && op.return < op.call) {
      throw new Error(`operation of client ${op.client} returns (${op.return}) before its call (${op.call})`);
    }
    if ((op.return === undefined) !== (op.output.kind === "unknown")) {
      throw new Error(`operation of client ${op.client}: an unknown outcome has no return time, and only it`);
    }
  }
  const head = buildEntries(operations);
  const cache = new Set<string>();
  const calls: { entry: Entry; state: RegisterState; alternative: number }[] = [];
  let linearized = 0n;
  let state = initial;
  let longest: { ids: number[]; state: RegisterState; remaining: number[] } = { ids: [], state, remaining: callable(head) };

  // The entry to look at and, for a call, which of its possible next states to try first.
  let entry = head.next;
  let firstAlternative = 0;
  while (head.next !== undefined) {
    if (entry === undefined) {
      throw new Error("unreachable: the list ends with a return entry");
    }
    if (entry.match !== undefined) {
      const op = operations[entry.id]!;
      const nextStates = registerStep(state, op.input, op.output);
      let taken = false;
      for (let alternative = firstAlternative; alternative < nextStates.length; alternative++) {
        const next = nextStates[alternative]!;
        const withOp = linearized | (1n << BigInt(entry.id));
        const key = `${withOp.toString(36)}|${next.version}|${next.value}`;
        if (!cache.has(key)) {
          cache.add(key);
          calls.push({ entry, state, alternative });
          state = next;
          linearized = withOp;
          lift(entry);
          if (calls.length > longest.ids.length) {
            longest = { ids: calls.map((c) => c.entry.id), state, remaining: callable(head) };
          }
          entry = head.next;
          firstAlternative = 0;
          taken = true;
          break;
        }
      }
      if (!taken) {
        entry = entry.next;
        firstAlternative = 0;
      }
    } else {
      // A return whose call is not linearized: undo the last choice and try what comes after it.
      const last = calls.pop();
      if (last === undefined) {
        return refusal(operations, longest);
      }
      state = last.state;
      linearized &= ~(1n << BigInt(last.entry.id));
      unlift(last.entry);
      entry = last.entry;
      firstAlternative = last.alternative + 1;
    }
  }
  return { ok: true };
}

/** The list head (a sentinel) of every call and return in time order; unknown outcomes return after everything. */
function buildEntries(operations: readonly RegisterOperation[]): Entry {
  const events: { id: number; time: bigint; isReturn: boolean }[] = [];
  const infinity = operations.reduce((max, op) => (op.return !== undefined && op.return > max ? op.return : op.call > max ? op.call : max), 0n) + 1n;
  operations.forEach((op, id) => {
    events.push({ id, time: op.call, isReturn: false }, { id, time: op.return ?? infinity, isReturn: true });
  });
  // At equal times calls come first: such operations count as concurrent, the weaker (safe) claim.
  events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : Number(a.isReturn) - Number(b.isReturn)));
  const head: Entry = { id: -1 };
  const returns = new Map<number, Entry>();
  let tail = head;
  for (const event of events) {
    const entry: Entry = { id: event.id, prev: tail };
    tail.next = entry;
    tail = entry;
    if (event.isReturn) {
      returns.set(event.id, entry);
    }
  }
  for (let e = head.next; e !== undefined; e = e.next) {
    const ret = returns.get(e.id)!;
    if (ret !== e) {
      e.match = ret;
    }
  }
  return head;
}

/** Takes a call and its return out of the list. */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== undefined) {
    ret.next.prev = ret.prev;
  }
}

/** Puts them back, in the reverse order of {@link lift}. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== undefined) {
    ret.next.prev = ret;
  }
  call.prev!.next = call;
  call.next!.prev = call;
}

/** The operations that could be linearized next: those called before the first remaining return. */
function callable(head: Entry): number[] {
  const ids: number[] = [];
  for (let e = head.next; e !== undefined && e.match !== undefined; e = e.next) {
    ids.push(e.id);
  }
  return ids;
}

function refusal(
  operations: readonly RegisterOperation[],
  longest: { ids: number[]; state: RegisterState; remaining: number[] },
): RegisterVerdict {
  const describe = (id: number) => describeOperation(operations[id]!);
  const explanation = [
    `linearized ${longest.ids.length} of ${operations.length} operations, leaving the register at ${describeState(longest.state)}; then none of these could take effect:`,
    ...longest.remaining.map((id) => `  ${describe(id)}`),
    "the longest linearizable prefix ended with:",
    ...longest.ids.slice(-5).map((id) => `  ${describe(id)}`),
  ].join("\n");
  return { ok: false, longestPrefix: longest.ids.map((id) => operations[id]!), state: longest.state, explanation };
}

function describeState(state: RegisterState): string {
  return state.version === 0n ? "absent" : `version ${state.version} = ${JSON.stringify(state.value)}`;
}

/** e.g. `client 2: cas(3, "x") -> failed [1200..1450]`. */
export function describeOperation(op: RegisterOperation): string {
  const input =
    op.input.kind === "read" ? "read()" : op.input.kind === "write" ? `write(${JSON.stringify(op.input.value)})` : `cas(${op.input.expectedVersion}, ${JSON.stringify(op.input.value)})`;
  const output =
    op.output.kind === "read"
      ? op.output.version === undefined
        ? JSON.stringify(op.output.value)
        : `version ${op.output.version} = ${JSON.stringify(op.output.value)}`
      : op.output.kind === "ok" && op.output.version !== undefined
        ? `ok (version ${op.output.version})`
        : op.output.kind;
  return `client ${op.client}: ${input} -> ${output} [${op.call}..${op.return ?? "∞"}]`;
}

/** Codes of a failed call that may or may not have taken effect. */
const unknownOutcomeCodes = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Unknown, Code.Aborted]);

/** The default of {@link HistoryRecorder}'s `unknownOutcome`: a Connect error with one of {@link unknownOutcomeCodes}. */
export function isUnknownOutcome(error: unknown): boolean {
  return error instanceof ConnectError && unknownOutcomeCodes.has(error.code);
}

/**
 * Records a history while clients run: each {@link HistoryRecorder.record}
 * notes the call time, runs the operation and notes its return. A cas that
 * throws FAILED_PRECONDITION failed; a call whose error is of unknown outcome
 * (by default UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, UNKNOWN, ABORTED) is
 * recorded as unknown; any other error is a bug of the test and is rethrown.
 */
export class HistoryRecorder {
  /** The operations recorded so far, in the order they ended. */
  readonly operations: RegisterOperation[] = [];

  constructor(private readonly unknownOutcome: (error: unknown) => boolean = isUnknownOutcome) {}

  /**
   * Runs `run` as `client`'s operation `input` and records it; `run` returns
   * the output of a call that answered. Resolves with the recorded output.
   */
  async record(client: string | number, input: RegisterInput, run: () => Promise<RegisterOutput>): Promise<RegisterOutput> {
    const call = process.hrtime.bigint();
    let output: RegisterOutput;
    try {
      output = await run();
    } catch (error) {
      if (input.kind === "cas" && error instanceof ConnectError && error.code === Code.FailedPrecondition) {
        output = { kind: "failed" };
      } else if (this.unknownOutcome(error)) {
        this.operations.push({ client, call, input, output: { kind: "unknown" } });
        return { kind: "unknown" };
      } else {
        throw error;
      }
    }
    this.operations.push({ client, call, return: process.hrtime.bigint(), input, output });
    return output;
  }

  /** {@link checkRegisterHistory} of what was recorded. */
  check(initial: RegisterState = absent): RegisterVerdict {
    return checkRegisterHistory(this.operations, initial);
  }
}

/** A key of a keyquarry server used as a register, each call recorded (see {@link recordedRegister}). */
export interface RecordedRegister {
  /** Inspect with the value: the version and value (version 0n and "" when NOT_FOUND). */
  read(): Promise<RegisterOutput>;
  /** Set. */
  write(value: string): Promise<RegisterOutput>;
  /** Set with if_version. */
  cas(expectedVersion: bigint, value: string): Promise<RegisterOutput>;
}

/** `key` through `kv` as `client`'s register, every call recorded in `recorder`. */
export function recordedRegister(recorder: HistoryRecorder, client: string | number, kv: Client<typeof KeyQuarry>, key: string): RecordedRegister {
  const set = async (value: string, ifVersion?: bigint): Promise<RegisterOutput> => {
    await kv.set({ key, value: new TextEncoder().encode(value), ifVersion });
    return { kind: "ok" };
  };
  return {
    read: () =>
      recorder.record(client, { kind: "read" }, async () => {
        try {
          const info = await kv.inspect({ key, includeValue: true });
          return { kind: "read", version: info.version, value: new TextDecoder().decode(info.value) };
        } catch (error) {
          if (error instanceof ConnectError && error.code === Code.NotFound) {
            return { kind: "read", version: absent.version, value: absent.value };
          }
          throw error;
        }
      }),
    write: (value) => recorder.record(client, { kind: "write", value }, () => set(value)),
    cas: (expectedVersion, value) => recorder.record(client, { kind: "cas", expectedVersion, value }, () => set(value, expectedVersion)),
  };
}
