import type { ConnectRouter } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { createKeyQuarryService } from "./key-quarry-service.js";

/** Registers both keyquarry services on a Connect router. */
export function routes(store: KeyValueStore): (router: ConnectRouter) => void {
  return (router) => {
    router.service(KeyQuarry, createKeyQuarryService(store));
    // Admin RPCs answer UNIMPLEMENTED until they are built.
    router.service(Admin, {});
  };
}
