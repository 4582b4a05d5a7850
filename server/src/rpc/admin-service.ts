import type { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { whenDone, type CommandExecutor } from "./command-executor.js";
import type { UnaryOperations } from "./unary-operations.js";

/**
 * The Admin service, for the privileged client id only, or with auth on for
 * admin identities (PERMISSION_DENIED for everyone else): Prune on demand, and Shutdown, which answers first and
 * then starts the same graceful shutdown as SIGTERM (in a cluster: of the node it reached only).
 */
export function adminOperations(store: KeyValueStore, writes: CommandExecutor, requestShutdown: () => void): UnaryOperations<typeof Admin> {
  return {
    prune(request, { id: clientId }, call) {
      store.authorizeAdmin(clientId);
      const target = request.pruneTo > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(request.pruneTo);
      return whenDone(writes.execute({ op: "prune", target, ignore: [...new Set(request.ignoreKeys)] }, call), (pruned) => ({
        pruned: BigInt(pruned),
      }));
    },
    shutdown(_request, { id: clientId }) {
      store.authorizeAdmin(clientId);
      // After the response is on its way.
      setImmediate(requestShutdown);
      return {};
    },
  };
}
