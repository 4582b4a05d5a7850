import type { SnapshotStore } from "../snapshot/snapshot-store.js";
import type { SpanRunner } from "./span-runner.js";

/** What the snapshot saves did, for the metrics and /debug/vars (read when scraped). */
export class SnapshotRecord {
  /** Saves that succeeded. */
  saved = 0;
  /** Saves that failed. */
  failed = 0;
  /** The last successful save: how long it took, what it held, when it ended (ms since the epoch). */
  last: { seconds: number; keys: number; bytes: number; at: number } | undefined;
}

/** The saving part of a snapshot store (what the snapshotter uses). */
type SnapshotSaver = Pick<SnapshotStore, "save">;

/** `snapshots`' save, with each save recorded in `record` and run in a `keyquarry.snapshot.save` span. */
export function observedSnapshotStore(snapshots: SnapshotSaver, record: SnapshotRecord, span: SpanRunner): SnapshotSaver {
  return {
    save: async (name, state, retain) => {
      const startedAt = performance.now();
      let bytes = 0;
      for (const key of state.keys) {
        bytes += key.value.length;
      }
      const attributes = { "keyquarry.snapshot.keys": state.keys.length, "keyquarry.snapshot.bytes": bytes, "keyquarry.snapshot.revision": String(state.revision) };
      try {
        const id = await span("keyquarry.snapshot.save", () => snapshots.save(name, state, retain), attributes);
        record.saved++;
        record.last = { seconds: (performance.now() - startedAt) / 1000, keys: state.keys.length, bytes, at: Date.now() };
        return id;
      } catch (error) {
        record.failed++;
        throw error;
      }
    },
  };
}
