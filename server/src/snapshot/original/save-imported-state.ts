import type { SnapshotStore } from "../snapshot-store.js";
import type { StoreState } from "../../store/store-state.js";
import { OriginalSnapshotError } from "./original-snapshot-error.js";

/**
 * Saves an imported `state` into our snapshot database as the first
 * snapshot of `name`, where `keyquarry serve --name <name>` restores it.
 * Refuses a name that already has snapshots or journal entries: a restart
 * would replay that journal over the import, and the import would hide a
 * live server's history. Resolves with the new snapshot's id.
 */
export async function saveImportedState(store: SnapshotStore, name: string, state: StoreState): Promise<bigint> {
  await store.migrate();
  const [snapshots, journal] = await Promise.all([store.list(name), store.journalLength(name)]);
  if (snapshots.length > 0 || journal.entries > 0) {
    throw new OriginalSnapshotError(
      `the target database already holds ${snapshots.length} snapshot(s) and ${journal.entries} journal entries of server name ${JSON.stringify(name)}: import under another name (--as)`,
    );
  }
  return store.save(name, state, 1);
}
