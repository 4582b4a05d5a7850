/**
 * The register linearizability checker of the test kit: hand-written
 * histories it must accept or refuse, generated histories of real
 * sequential executions with overlapping intervals, and a recorded history
 * of concurrent CAS increments on a real server.
 */
import { createClient } from "@connectrpc/connect";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createTransport } from "./kit/create-clients.js";
import {
  absent,
  checkRegisterHistory,
  HistoryRecorder,
  recordedRegister,
  registerStep,
  type RegisterInput,
  type RegisterOperation,
  type RegisterOutput,
  type RegisterState,
} from "./kit/linearizability.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

/** An operation of `client` over [call, ret] (ret undefined: unknown outcome). */
function op(client: number, call: number, ret: number | undefined, input: RegisterInput, output: RegisterOutput): RegisterOperation {
  return { client, call: BigInt(call), return: ret === undefined ? undefined : BigInt(ret), input, output };
}
const read = (value: string, version?: bigint): RegisterOutput => ({ kind: "read", value, version });
const ok: RegisterOutput = { kind: "ok" };
const failed: RegisterOutput = { kind: "failed" };
const unknown: RegisterOutput = { kind: "unknown" };
const r: RegisterInput = { kind: "read" };
const w = (value: string): RegisterInput => ({ kind: "write", value });
const cas = (expectedVersion: bigint, value: string): RegisterInput => ({ kind: "cas", expectedVersion, value });

describe("checkRegisterHistory: hand-written histories", () => {
  test("accepts an empty history and sequential writes then reads", () => {
    expect(checkRegisterHistory([])).toEqual({ ok: true });
    const history = [op(1, 0, 10, r, read("", 0n)), op(1, 20, 30, w("a"), ok), op(2, 40, 50, r, read("a", 1n)), op(2, 60, 70, cas(1n, "b"), ok), op(1, 80, 90, r, read("b", 2n))];
    expect(checkRegisterHistory(history)).toEqual({ ok: true });
  });

  test("a read concurrent with a write may see the old or the new value", () => {
    const before = [op(1, 0, 10, w("a"), ok), op(1, 20, 60, w("b"), ok)];
    expect(checkRegisterHistory([...before, op(2, 30, 40, r, read("a", 1n))])).toEqual({ ok: true });
    expect(checkRegisterHistory([...before, op(2, 30, 40, r, read("b", 2n))])).toEqual({ ok: true });
    // New then old across two reads is not: once a read saw b, a later read cannot see a.
    expect(checkRegisterHistory([...before, op(2, 25, 30, r, read("b")), op(3, 35, 40, r, read("a"))]).ok).toBe(false);
  });

  test("refuses a stale read after a completed write, and explains where it stopped", () => {
    const verdict = checkRegisterHistory([op(1, 0, 10, w("a"), ok), op(1, 20, 30, w("b"), ok), op(2, 40, 50, r, read("a"))]);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.longestPrefix.map((o) => o.input)).toEqual([w("a"), w("b")]);
      expect(verdict.state).toEqual({ version: 2n, value: "b" });
      expect(verdict.explanation).toContain('client 2: read() -> "a" [40..50]');
    }
  });

  test("refuses two cas from the same version that both succeed, accepts one failing", () => {
    const start = op(1, 0, 10, w("a"), ok);
    expect(checkRegisterHistory([start, op(1, 20, 40, cas(1n, "x"), ok), op(2, 25, 45, cas(1n, "y"), ok)]).ok).toBe(false);
    expect(checkRegisterHistory([start, op(1, 20, 40, cas(1n, "x"), ok), op(2, 25, 45, cas(1n, "y"), failed)])).toEqual({ ok: true });
  });

  test("refuses a lost update: two increments acknowledged, a later read sees only the first", () => {
    const increments = [op(1, 0, 10, cas(0n, "1"), ok), op(2, 20, 30, cas(1n, "2"), ok)];
    expect(checkRegisterHistory([...increments, op(3, 40, 50, r, read("1", 1n))]).ok).toBe(false);
    expect(checkRegisterHistory([...increments, op(3, 40, 50, r, read("2", 2n))])).toEqual({ ok: true });
  });

  test("a cas fails only against another version, and a write succeeds", () => {
    expect(checkRegisterHistory([op(1, 0, 10, cas(0n, "x"), failed)]).ok).toBe(false);
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), ok), op(1, 20, 30, cas(0n, "x"), failed)])).toEqual({ ok: true });
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), failed)]).ok).toBe(false);
  });

  test("a reported new version must be the one the model reaches", () => {
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), { kind: "ok", version: 1n })])).toEqual({ ok: true });
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), { kind: "ok", version: 2n })]).ok).toBe(false);
  });

  test("setting the value the key holds changes nothing, not even the version (as the store does)", () => {
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), ok), op(1, 20, 30, w("a"), ok), op(1, 40, 50, r, read("a", 1n))])).toEqual({ ok: true });
    expect(checkRegisterHistory([op(1, 0, 10, w("a"), ok), op(1, 20, 30, w("a"), ok), op(1, 40, 50, r, read("a", 2n))]).ok).toBe(false);
  });

  test("an operation of unknown outcome may take effect at any time after its call, or never", () => {
    const lost = op(1, 10, undefined, w("b"), unknown);
    const first = op(2, 0, 5, w("a"), ok);
    expect(checkRegisterHistory([first, lost, op(2, 20, 30, r, read("a")), op(2, 1000, 1010, r, read("b", 2n))])).toEqual({ ok: true });
    expect(checkRegisterHistory([first, lost, op(2, 20, 30, r, read("a")), op(2, 1000, 1010, r, read("a", 1n))])).toEqual({ ok: true });
    // Not before its call, and not undone once seen.
    expect(checkRegisterHistory([first, lost, op(2, 6, 8, r, read("b"))]).ok).toBe(false);
    expect(checkRegisterHistory([first, lost, op(2, 20, 30, r, read("b")), op(2, 40, 50, r, read("a"))]).ok).toBe(false);
  });

  test("refuses a malformed history", () => {
    expect(() => checkRegisterHistory([op(1, 10, 5, r, read(""))])).toThrow(/returns \(5\) before its call \(10\)/);
    expect(() => checkRegisterHistory([op(1, 10, undefined, r, read(""))])).toThrow(/unknown outcome/);
  });
});

/** A sequential execution of `inputs` on the model, each operation at time 100 * its index. */
function execute(inputs: RegisterInput[]): { input: RegisterInput; output: RegisterOutput }[] {
  let state: RegisterState = absent;
  return inputs.map((input) => {
    if (input.kind === "read") {
      return { input, output: read(state.value, state.version) };
    }
    const [next] = registerStep(state, input, ok);
    if (next === undefined) {
      return { input, output: failed };
    }
    state = next;
    return { input, output: ok };
  });
}

/** Ops of 6 clients, client i % 6 issuing op i; intervals around time 100 * i that overlap other clients' ops but never the same client's. */
const clients = 6;
const historyOf = (executed: { input: RegisterInput; output: RegisterOutput }[], spreads: [number, number][]): RegisterOperation[] =>
  executed.map(({ input, output }, i) => op(i % clients, 100 * i - spreads[i]![0], 100 * i + spreads[i]![1], input, output));

const inputArbitrary: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant(r),
  fc.integer({ min: 0, max: 9 }).map((n) => w(`v${n}`)),
  fc.record({ version: fc.bigInt({ min: 0n, max: 40n }), n: fc.integer({ min: 0, max: 9 }) }).map(({ version, n }) => cas(version, `v${n}`)),
);
/** Up to 290 on each side: intervals of ops 1..5 apart overlap, a client's own (6 apart) never do. */
const spreadArbitrary = fc.tuple(fc.integer({ min: 0, max: 290 }), fc.integer({ min: 0, max: 290 }));

describe("checkRegisterHistory: generated histories", () => {
  test("accepts every history of a real sequential execution with overlapping intervals, refuses it with one read's value changed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(inputArbitrary, spreadArbitrary), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        (steps, pick) => {
          const executed = execute(steps.map(([input]) => input));
          const history = historyOf(
            executed,
            steps.map(([, spread]) => spread),
          );
          expect(checkRegisterHistory(history)).toEqual({ ok: true });

          const reads = history.flatMap((o, i) => (o.input.kind === "read" ? [i] : []));
          if (reads.length > 0) {
            const flipped = [...history];
            const i = reads[pick % reads.length]!;
            flipped[i] = { ...history[i]!, output: read("never written", (history[i]!.output as { version?: bigint }).version) };
            expect(checkRegisterHistory(flipped).ok).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test("checks 300 operations of 6 clients with widely overlapping intervals, linearizable or not", () => {
    // Mostly cas of versions near the current one, so that most of them succeed and many orders look possible.
    const inputs: RegisterInput[] = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? r : cas(BigInt(Math.floor(i / 4)), `v${i}`)));
    const history = historyOf(
      execute(inputs),
      inputs.map(() => [290, 290]),
    );
    expect(checkRegisterHistory(history)).toEqual({ ok: true });
    const last = history.length - 3;
    expect(history[last]!.input).toEqual(r);
    const stale = [...history];
    stale[last] = { ...history[last]!, output: read("v0", 1n) };
    const verdict = checkRegisterHistory(stale);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? 0 : verdict.longestPrefix.length).toBeGreaterThan(250);
  });
});

describe("HistoryRecorder with a real server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  test("concurrent cas increments and reads of 6 clients: linearizable, no lost update", async () => {
    const recorder = new HistoryRecorder();
    const registers = Array.from({ length: clients }, (_, c) =>
      recordedRegister(recorder, c, createClient(KeyQuarry, createTransport("grpc", server.url, `client-${c}`)), "counter"),
    );
    let increments = 0;
    await Promise.all(
      registers.map(async (register) => {
        for (let i = 0; i < 25; i++) {
          const seen = await register.read();
          if (seen.kind !== "read") {
            throw new Error(`read answered ${seen.kind}`);
          }
          const next = String(Number(seen.value || "0") + 1);
          if ((await register.cas(seen.version ?? 0n, next)).kind === "ok") {
            increments++;
          }
        }
      }),
    );
    const final = await registers[0]!.read();
    expect(final).toEqual({ kind: "read", value: String(increments), version: BigInt(increments) });
    expect(recorder.operations).toHaveLength(clients * 25 * 2 + 1);
    expect(recorder.operations.some((o) => o.output.kind === "failed")).toBe(true);
    expect(recorder.check()).toEqual({ ok: true });
  });

  test("the checker refuses the recorded history once an acknowledged increment is hidden from a later read", async () => {
    const recorder = new HistoryRecorder();
    const register = recordedRegister(recorder, 0, createClient(KeyQuarry, createTransport("connect", server.url, "solo")), "hidden");
    await register.cas(0n, "1");
    await register.cas(1n, "2");
    const seen = await register.read();
    expect(seen).toEqual({ kind: "read", value: "2", version: 2n });
    expect(recorder.check()).toEqual({ ok: true });
    recorder.operations[2] = { ...recorder.operations[2]!, output: read("1", 1n) };
    expect(recorder.check().ok).toBe(false);
  });
});

describe("HistoryRecorder when the server dies", () => {
  afterEach(killServeProcesses);

  // Over HTTP/2 a cut call fails CANCELLED, over HTTP/1.1 ABORTED, a refused connection UNAVAILABLE: all of unknown outcome.
  test.each(["grpc", "connect"] as const)("calls cut by kill -9 are recorded as unknown, and the history still checks (%s)", async (kind) => {
    const serve = await spawnServe();
    const recorder = new HistoryRecorder();
    const writers = Array.from({ length: 4 }, (_, c) => recordedRegister(recorder, c, createClient(KeyQuarry, createTransport(kind, serve.url, `writer-${c}`)), "k"));
    await Promise.all(
      writers.map(async (register, c) => {
        for (let i = 0; ; i++) {
          if (c === 0 && i === 20) {
            serve.child.kill("SIGKILL");
          }
          if ((await register.write(`${c}-${i}`)).kind === "unknown") {
            return;
          }
        }
      }),
    );
    const unknowns = recorder.operations.filter((o) => o.output.kind === "unknown");
    expect(unknowns.map((o) => o.client).sort()).toEqual([0, 1, 2, 3]);
    expect(unknowns.every((o) => o.return === undefined)).toBe(true);
    expect(recorder.operations.length).toBeGreaterThanOrEqual(24);
    expect(recorder.check()).toEqual({ ok: true });
  });

  test("any other error is the test's own and is thrown, not recorded", async () => {
    const serve = await spawnServe();
    const recorder = new HistoryRecorder();
    const register = recordedRegister(recorder, 0, createClient(KeyQuarry, createTransport("grpc", serve.url, "bad")), "");
    await expect(register.write("x")).rejects.toThrow(/key/i);
    expect(recorder.operations).toEqual([]);
  });
});
