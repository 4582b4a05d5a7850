import type { ConnectRouter } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { WatchHub } from "../watch/watch-hub.js";
import { createAdminService } from "./admin-service.js";
import { createKeyQuarryService } from "./key-quarry-service.js";
import { createWatchHandlers } from "./watch-handlers.js";

/** What the RPC handlers work with. */
export interface RouteDependencies {
  store: KeyValueStore;
  hub: WatchHub;
  /** Starts a graceful shutdown (Admin.Shutdown). */
  requestShutdown: () => void;
  /** Snapshots written since start (for Stats). */
  snapshotsCreated: () => bigint;
}

/** Registers both keyquarry services on a Connect router. */
export function routes(dependencies: RouteDependencies): (router: ConnectRouter) => void {
  const { store, hub, requestShutdown } = dependencies;
  return (router) => {
    router.service(KeyQuarry, {
      ...createKeyQuarryService(store, hub, dependencies.snapshotsCreated),
      ...createWatchHandlers(store, hub),
    });
    router.service(Admin, createAdminService(store, requestShutdown));
  };
}
