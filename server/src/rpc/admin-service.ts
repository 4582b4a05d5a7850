import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { clientIdKey } from "./client-id.js";

/**
 * The Admin service, for the privileged client id only (PERMISSION_DENIED
 * for everyone else): Prune on demand, and Shutdown, which answers first and
 * then starts the same graceful shutdown as SIGTERM.
 */
export function createAdminService(store: KeyValueStore, requestShutdown: () => void): ServiceImpl<typeof Admin> {
  const authorize = (context: HandlerContext) => store.authorizeAdmin(context.values.get(clientIdKey));
  return {
    prune(request, context) {
      authorize(context);
      const target = request.pruneTo > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(request.pruneTo);
      return { pruned: BigInt(store.prune(target, new Set(request.ignoreKeys))) };
    },
    shutdown(_request, context) {
      authorize(context);
      // After the response is on its way.
      setImmediate(requestShutdown);
      return {};
    },
  };
}
