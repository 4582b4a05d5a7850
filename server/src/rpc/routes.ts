import type { ConnectRouter } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { WatchHub } from "../watch/watch-hub.js";
import { createKeyQuarryService } from "./key-quarry-service.js";
import { createWatchHandlers } from "./watch-handlers.js";

/** Registers both keyquarry services on a Connect router. */
export function routes(store: KeyValueStore, hub: WatchHub): (router: ConnectRouter) => void {
  return (router) => {
    router.service(KeyQuarry, { ...createKeyQuarryService(store, hub), ...createWatchHandlers(store, hub) });
    // Admin RPCs answer UNIMPLEMENTED until they are built.
    router.service(Admin, {});
  };
}
