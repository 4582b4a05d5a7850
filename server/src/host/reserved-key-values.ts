import type { Config } from "../config/config.js";

/**
 * The 16 read-only keys written at every start, describing the server's
 * settings (durations as integer nanoseconds, like the original).
 */
export function reservedKeyValues(config: Config, startedAt: Date): Array<[string, string]> {
  return [
    ["keyquarry/Started", startedAt.toISOString()],
    ["keyquarry/MaxLockDuration", String(config.maxLockDuration)],
    ["keyquarry/MinLockDuration", String(config.minLockDuration)],
    ["keyquarry/MinLifespan", String(config.minLifespan)],
    ["keyquarry/MaxKeys", String(config.maxKeys)],
    ["keyquarry/PruneInterval", String(config.pruneInterval)],
    ["keyquarry/PruneAt", String(config.pruneAt)],
    ["keyquarry/PruneTo", String(config.pruneTo)],
    ["keyquarry/EagerPruneAt", String(config.eagerPruneAt)],
    ["keyquarry/EagerPruneTo", String(config.eagerPruneTo)],
    ["keyquarry/MaxValueSize", String(config.maxValueSize)],
    ["keyquarry/MaxKeyLength", String(config.maxKeyLength)],
    ["keyquarry/RevisionLimit", String(config.revisionLimit)],
    ["keyquarry/snapshot/Enabled", String(config.snapshot.enabled)],
    ["keyquarry/snapshot/Interval", String(config.snapshot.interval)],
    ["keyquarry/EventStreamSubscriberLimit", String(config.eventStreamSubscriberLimit)],
  ];
}
