import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { WatchHub } from "../watch/watch-hub.js";
import { acknowledgeDurably, type Durability } from "./acknowledge-durably.js";
import { adminOperations } from "./admin-service.js";
import type { CommandExecutor } from "./command-executor.js";
import { authorizeOperations } from "./authorize-operations.js";
import { adminRules, keyQuarryRules } from "./operation-permissions.js";
import { keyQuarryOperations, type Replication } from "./key-quarry-service.js";
import { readAfterBarrier } from "./read-after-barrier.js";
import type { ListKeysOptions } from "./list-keys.js";
import { connectHandlers, type UnaryOperation, type UnaryOperations } from "./unary-operations.js";
import { setManyHandler } from "./set-many-handler.js";
import { watchHandlers } from "./watch-handlers.js";
import { createWatchMethods, type WatchMethod } from "./watch-session.js";

/** What the RPC handlers work with. */
export interface RouteDependencies {
  store: KeyValueStore;
  hub: WatchHub;
  /** Starts a graceful shutdown (Admin.Shutdown). */
  requestShutdown: () => void;
  /** Snapshots written since start (for Stats). */
  snapshotsCreated: () => bigint;
  /** ListKeys' page and time limits. */
  listKeys: ListKeysOptions;
  /** How changes are made: the store itself by default; a cluster node replicates them first. */
  writes?: CommandExecutor;
  /** What every read waits for first (a cluster node's linearizable reads); none by default. */
  readBarrier?: () => Promise<void>;
  /** A cluster node's progress through the cluster's log, for Stats. */
  replication?: () => Replication;
  /** A journal whose writes must be durable before they are answered (sync journal); none by default. */
  durability?: Durability;
  /** Whether callers are identities whose permissions every call is checked against (auth on). */
  authorize?: boolean;
}

/** A unary RPC and its implementation, by request path (`/keyquarry.KeyQuarry/Get`). */
export type UnaryMethodTable = ReadonlyMap<string, { method: DescMethodUnary; operation: UnaryOperation<DescMethodUnary> }>;

/** A watch RPC, by request path (`/keyquarry.KeyQuarry/WatchStream`). */
export type WatchMethodTable = ReadonlyMap<string, WatchMethod>;

/** Both services' RPCs: as Connect routes, and the unary and watch ones by path for the gRPC fast paths. */
export interface Rpcs {
  routes: (router: ConnectRouter) => void;
  unaryMethods: UnaryMethodTable;
  watchMethods: WatchMethodTable;
}

/** Creates every RPC of both keyquarry services once. */
export function createRpcs(dependencies: RouteDependencies): Rpcs {
  const { store, hub, requestShutdown } = dependencies;
  const { durability } = dependencies;
  const writes = dependencies.writes ?? store;
  const plainKeyQuarry = keyQuarryOperations(store, writes, hub, dependencies.snapshotsCreated, dependencies.listKeys, dependencies.replication);
  const plainAdmin = adminOperations(store, writes, requestShutdown);
  const { readBarrier } = dependencies;
  const consistentKeyQuarry = readBarrier === undefined ? plainKeyQuarry : readAfterBarrier(plainKeyQuarry, keyQuarryRules, readBarrier);
  const durableKeyQuarry = durability === undefined ? consistentKeyQuarry : acknowledgeDurably(consistentKeyQuarry, durability);
  const durableAdmin = durability === undefined ? plainAdmin : acknowledgeDurably(plainAdmin, durability);
  // Outermost: a call that is not allowed does nothing, not even wait for the journal.
  const keyQuarry = dependencies.authorize === true ? authorizeOperations(KeyQuarry, durableKeyQuarry, keyQuarryRules) : durableKeyQuarry;
  const admin = dependencies.authorize === true ? authorizeOperations(Admin, durableAdmin, adminRules) : durableAdmin;
  const watch = createWatchMethods(store, hub);
  return {
    routes: (router) => {
      router.service(KeyQuarry, { ...connectHandlers(keyQuarry), ...watchHandlers(watch), setMany: setManyHandler(keyQuarry.set) });
      router.service(Admin, connectHandlers(admin));
    },
    unaryMethods: new Map([...byPath(KeyQuarry, keyQuarry), ...byPath(Admin, admin)]),
    watchMethods: new Map(
      Object.values(watch).map((entry: WatchMethod) => [`/${KeyQuarry.typeName}/${entry.method.name}`, entry] as const),
    ),
  };
}

function byPath<S extends DescService>(service: S, operations: UnaryOperations<S>): UnaryMethodTable {
  const table = new Map<string, { method: DescMethodUnary; operation: UnaryOperation<DescMethodUnary> }>();
  for (const method of service.methods) {
    const operation = (operations as Record<string, UnaryOperation<DescMethodUnary> | undefined>)[method.localName];
    if (method.methodKind === "unary" && operation !== undefined) {
      table.set(`/${service.typeName}/${method.name}`, { method: method as DescMethodUnary, operation });
    }
  }
  return table;
}
