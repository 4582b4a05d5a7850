import { describe, expect, it } from "vitest";
import { fnv1a64 } from "../../store/fnv1a64.js";
import { parseOriginalDocument } from "./original-document.js";
import { storeStateOfOriginal } from "./original-to-store-state.js";

const second = 1_000_000_000n;
const now = 1_800_000_000n * second;
const takenAt = now - 5n * second;
/** An RFC 3339 time `ago` ns before `now`, as Go writes it. */
const before = (ago: bigint) => new Date(Number((now - ago) / 1_000_000n)).toISOString();

function convert(document: object) {
  return storeStateOfOriginal(parseOriginalDocument(JSON.stringify(document)), now, takenAt);
}

describe("storeStateOfOriginal", () => {
  it("keeps values, versions, times and creators; hashes from the values; explicit content types kept, sniffed ones marked", () => {
    const { state } = convert({
      keys: [
        { key: "a", value: "PGh0bWw+PC9odG1sPg==", content_type: "text/html; charset=utf-8", hash: 1, created: before(9n * second), updated: before(8n * second), version: 4, created_by: "x" },
        { key: "b", value: "PGh0bWw+PC9odG1sPg==", content_type: "application/x-mine", created: before(9n * second), version: 1 },
        { key: "c", value: "aGk=", version: 1 },
        { key: "d", value: null },
      ],
    });
    expect(state.keys.map(({ key, contentType, contentTypeSniffed, version }) => ({ key, contentType, contentTypeSniffed, version }))).toEqual([
      { key: "a", contentType: "text/html; charset=utf-8", contentTypeSniffed: true, version: 4n },
      { key: "b", contentType: "application/x-mine", contentTypeSniffed: false, version: 1n },
      // Without a content type: sniffed, as the original's restore did.
      { key: "c", contentType: "text/plain; charset=utf-8", contentTypeSniffed: true, version: 1n },
      { key: "d", contentType: "", contentTypeSniffed: true, version: 0n },
    ]);
    const [a, , c] = state.keys;
    expect(a).toMatchObject({ hash: fnv1a64(new TextEncoder().encode("<html></html>")), created: now - 9n * second, updated: now - 8n * second, createdBy: "x" });
    // The original's restore: a zero creation time becomes now.
    expect(c!.created).toBe(now);
    expect(state).toMatchObject({ takenAt, revision: 0n, commandSeq: 0n, readonly: false });
  });

  it("leaves out keys whose lifespan ended; keeps the others' deadline at lifespan_set + lifespan", () => {
    const { state, skipped } = convert({
      keys: [{ key: "gone" }, { key: "alive" }],
      reapers: [
        { key: "gone", lifespan: Number(10n * second), lifespan_set: before(10n * second) },
        { key: "alive", lifespan: Number(60n * second), lifespan_set: before(10n * second) },
        { key: "nowhere", lifespan: Number(60n * second), lifespan_set: before(0n) },
      ],
    });
    expect(state.keys.map(({ key }) => key)).toEqual(["alive"]);
    expect(state.keys[0]!.lifespan).toEqual({ duration: 60n * second, set: now - 10n * second, deadline: now + 50n * second });
    expect(skipped).toEqual([
      { key: "gone", what: "key", reason: expect.stringContaining("lifespan ended") },
      { key: "nowhere", what: "lifespan", reason: "the snapshot has no such key" },
    ]);
  });

  it("keeps live locks with their owners for their full duration from now, with new fencing tokens; drops ended ones", () => {
    const minute = 60n * second;
    const { state, skipped } = convert({
      keys: [{ key: "a" }, { key: "b" }, { key: "c" }],
      locks: [
        { key: "a", duration: Number(10n * minute), client_id: "ann", created: before(minute) },
        { key: "b", duration: Number(10n * second), client_id: "bob", created: before(minute) },
        { key: "c", duration: Number(5n * minute), client_id: "cid", created: before(minute) },
      ],
    });
    expect(state.keys.map(({ key, lock }) => ({ key, lock }))).toEqual([
      { key: "a", lock: { owner: "ann", duration: 10n * minute, created: now - minute, deadline: now + 10n * minute, fencingToken: 1n } },
      { key: "b", lock: undefined },
      { key: "c", lock: { owner: "cid", duration: 5n * minute, created: now - minute, deadline: now + 5n * minute, fencingToken: 2n } },
    ]);
    expect(state.fencingToken).toBe(2n);
    expect(skipped).toEqual([{ key: "b", what: "lock", reason: expect.stringContaining("ended") }]);
  });

  it("makes up metrics as the original did, unless the document has them; history and clients as saved", () => {
    const { state } = convert({
      keys: [
        { key: "a", created: before(9n * second), updated: before(8n * second) },
        { key: "b", created: before(9n * second) },
      ],
      locks: [{ key: "b", duration: Number(60n * second), client_id: "x", created: before(second) }],
      metrics: { a: { access_count: 3, set_count: 2, first_set: before(9n * second), lock_count: 0 }, removed: { set_count: 1 } },
      history: { a: [{ value: "djE=", version: 1, timestamp: before(9n * second) }], removed: [] },
      clients: [{ client_id: "x" }, { client_id: "y" }, { client_id: "x" }],
    });
    expect(state.metrics).toEqual([
      { key: "a", metrics: { accessCount: 3, setCount: 2, firstSet: now - 9n * second, lockCount: 0 } },
      { key: "removed", metrics: { accessCount: 0, setCount: 1, lockCount: 0 } },
      { key: "b", metrics: { accessCount: 0, setCount: 1, firstSet: now - 9n * second, lastSet: now - 9n * second, lockCount: 1, firstLocked: now - second, lastLocked: now - second } },
    ]);
    expect(state.history).toEqual([
      { key: "a", revisions: [{ value: new TextEncoder().encode("v1"), contentType: "", hash: fnv1a64(new TextEncoder().encode("v1")), version: 1n, timestamp: now - 9n * second }] },
      { key: "removed", revisions: [] },
    ]);
    expect(state.clients).toEqual([
      { clientId: "x", firstSeen: takenAt },
      { clientId: "y", firstSeen: takenAt },
    ]);
  });
});
