export * from "./config/index.js";
export { build, type BuildOptions, type KeyquarryServer } from "./host/server.js";
export { serve } from "./host/serve.js";
export { KeyValueStore } from "./store/key-value-store.js";
export { ManualClock, createSystemClock, type Clock } from "./store/clock.js";
export {
  openSnapshotStore,
  parseConnectionString,
  SnapshotError,
  type OpenSnapshotStoreOptions,
  type SnapshotStore,
  type SnapshotSummary,
} from "./snapshot/index.js";
