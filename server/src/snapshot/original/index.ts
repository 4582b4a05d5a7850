/** Import of the original Go keyquarry's snapshots (its `snapshots` table, BEHAVIOR.md §11). */
export { parseOriginalDocument, type OriginalDocument, type OriginalKey } from "./original-document.js";
export { OriginalSnapshotError } from "./original-snapshot-error.js";
export { storeStateOfOriginal, type ConvertedState, type SkippedItem } from "./original-to-store-state.js";
export { readOriginalSnapshot, type OriginalSnapshotRow, type OriginalSnapshotSelector } from "./read-original-snapshot.js";
export { saveImportedState } from "./save-imported-state.js";
