import { describe, expect, it } from "vitest";
import { toByteString } from "./byte-string.js";
import { History } from "./history.js";
import { KeyEntry } from "./key-entry.js";
import { KeyTable } from "./key-table.js";

const entry = (key = "k", value = "v1") => new KeyEntry(key, toByteString(new TextEncoder().encode(value)), "", false, 0, 0, 1n, 1n, "alice");
const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

/** Makes `key` go through `values`, one version each, as the store does. */
function write(history: History, key: KeyEntry, values: string[]): void {
  history.retain(key, undefined);
  for (const value of values) {
    const previous = key.versioned ? key.currentRevision() : undefined;
    key.value = toByteString(new TextEncoder().encode(value));
    key.version++;
    history.retain(key, previous);
  }
}

describe("History", () => {
  it("refuses history requests when versioning is off", () => {
    expect(codeOf(() => new History({ revisionLimit: 0, keepDeletedKeyHistory: false }).checkEnabled())).toBe("NO_VERSIONING");
    expect(codeOf(() => new History({ revisionLimit: -1, keepDeletedKeyHistory: false }).checkEnabled())).toBeUndefined();
  });

  it("retains versions within revision_limit, the current one included", () => {
    const history = new History({ revisionLimit: 3, keepDeletedKeyHistory: false });
    const key = entry();
    write(history, key, ["v2", "v3", "v4"]);
    expect(key.retainedRevisions().map((revision) => revision.version)).toEqual([2n, 3n, 4n]);
    expect(new TextDecoder().decode(history.revisionOf(key, -1n).value)).toBe("v3");
    expect(codeOf(() => history.revisionOf(key, 1n))).toBe("REVISION_NOT_FOUND");
  });

  it("keeps a removed key's history, its last version included, only under keep_deleted_key_history", () => {
    for (const keep of [true, false]) {
      const history = new History({ revisionLimit: -1, keepDeletedKeyHistory: keep });
      const key = entry();
      write(history, key, ["v2"]);
      history.retire(key);
      expect(key.history?.map((revision) => revision.version)).toEqual(keep ? [1n, 2n] : undefined);
    }
  });

  it("clears all but the current version of existing keys (not those another client locked) and counts what it cleared", () => {
    const history = new History({ revisionLimit: -1, keepDeletedKeyHistory: false });
    const table = new KeyTable();
    const key = entry("a");
    table.insert(key);
    write(history, key, ["v2", "v3"]);
    expect(history.count(table)).toEqual({ keys: 1, revisions: 3 });
    expect(history.clear(table, "alice")).toEqual({ keys: 1n, cleared: 2n });
    expect(history.count(table)).toEqual({ keys: 1, revisions: 1 });
  });

  it("restores saved revisions, retaining the current version when it is the last", () => {
    const history = new History({ revisionLimit: -1, keepDeletedKeyHistory: false });
    const key = entry();
    write(history, key, []);
    const saved = key.retainedRevisions().map((revision) => revision.toState());
    const restored = entry();
    history.restore(restored, saved);
    expect([restored.versioned, restored.history, restored.retainedCount]).toEqual([true, undefined, 1]);
  });
});
