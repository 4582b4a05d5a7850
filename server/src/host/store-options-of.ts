import type { Config } from "../config/config.js";
import type { StoreOptions } from "../store/store-options.js";

/** The store's settings from the server configuration. */
export function storeOptionsOf(config: Config): StoreOptions {
  return {
    maxKeyLength: config.maxKeyLength,
    maxValueSize: config.maxValueSize,
    maxKeys: config.maxKeys,
    maxPatternLength: config.maxPatternLength,
    maxClients: config.maxClients,
    maxRemovedKeyMetrics: config.maxRemovedKeyMetrics,
    revisionLimit: config.revisionLimit,
    keepDeletedKeyHistory: config.keepDeletedKeyHistory,
    privilegedClientId: config.privilegedClientId,
    readonly: config.readonly,
    privilegedByRole: config.auth.enabled,
    minLockDuration: config.minLockDuration,
    maxLockDuration: config.maxLockDuration,
    minLifespan: config.minLifespan,
    pruneAt: config.pruneAt,
    pruneTo: config.pruneTo,
    eagerPruneAt: config.eagerPruneAt,
    eagerPruneTo: config.eagerPruneTo,
    replicated: config.cluster.natsUrls !== "",
  };
}
