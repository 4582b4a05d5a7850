import type { StoreState } from "../store/store-state.js";
import type { SnapshotStore } from "./snapshot-store.js";

/** What the snapshotter needs of the store: a synchronous export and the latest revision. */
export interface SnapshotSource {
  exportState(): StoreState;
  readonly revision: bigint;
}

/** The logger calls the snapshotter makes (pino's signature). */
export interface SnapshotLog {
  notice(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything {@link createSnapshotter} needs. */
export interface SnapshotterOptions {
  store: SnapshotSource;
  /** Where snapshots are saved (only save() is used). */
  snapshots: Pick<SnapshotStore, "save">;
  /** Server name the snapshots are saved under (`name`). */
  name: string;
  /** Snapshots kept per name (`snapshot.retain`, >= 1). */
  retain: number;
  /** Period between periodic snapshots in ns (`snapshot.interval`); 0 = none, only snapshotNow(). */
  intervalNs: bigint;
  log: SnapshotLog;
}

/** Takes periodic and final snapshots of a store, one save at a time. */
export interface Snapshotter {
  /**
   * Starts the periodic timer (if the interval is > 0). A tick saves only if
   * the store's revision changed since the last successful snapshot (or
   * since start(): call it after restoring and writing the reserved keys);
   * a failure is logged and the next tick tries again.
   */
  start(): void;
  /**
   * Saves a snapshot now, whatever the revision: for the final snapshot at
   * shutdown. Waits for a save in progress first. Resolves with the new id;
   * rejects (without logging) if the save fails.
   */
  snapshotNow(): Promise<bigint>;
  /** Stops the timer; resolves once a save in progress has finished. snapshotNow() still works after. */
  stop(): Promise<void>;
  /** Successful saves so far (Stats.snapshots_created). */
  readonly created: number;
}

// setTimeout takes at most a signed 32-bit number of milliseconds.
const maxDelayMs = 2 ** 31 - 1;

/** A {@link Snapshotter} of `options.store` into `options.snapshots`. */
export function createSnapshotter(options: SnapshotterOptions): Snapshotter {
  const { store, snapshots, name, retain, intervalNs, log } = options;
  // Round up, so that a sub-millisecond interval still waits.
  const intervalMs = intervalNs > 0n ? Number((intervalNs + 999_999n) / 1_000_000n) : 0;

  let created = 0;
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Revision held by the last successful snapshot (or the store's at start()). */
  let savedRevision: bigint | undefined;
  /** The last save queued; every save waits for it, so two never run at once. */
  let tail: Promise<unknown> = Promise.resolve();

  /** Queues a save; `onlyIfChanged` is decided when it runs, after the previous save. */
  const save = (onlyIfChanged: boolean): Promise<bigint | undefined> => {
    const run = tail.then(async () => {
      if (onlyIfChanged && store.revision === savedRevision) {
        return undefined;
      }
      const startedAt = performance.now();
      // Exported synchronously, so it is one consistent instant; its revision, not the store's
      // after the (asynchronous) save, is what the next tick compares with.
      const state = store.exportState();
      const id = await snapshots.save(name, state, retain);
      savedRevision = state.revision;
      created++;
      log.notice(
        // Strings: not every logger serializes bigint.
        { snapshotId: String(id), keys: state.keys.length, revision: String(state.revision), ms: Math.round(performance.now() - startedAt) },
        "snapshot saved",
      );
      return id;
    });
    tail = run.catch(() => {});
    return run;
  };

  /** Arms the timer for `due` (epoch ms), in steps if setTimeout cannot wait that long. */
  const arm = (due: number) => {
    if (stopped) {
      return;
    }
    const delay = Math.max(0, Math.min(due - Date.now(), maxDelayMs));
    // unref: a pending snapshot timer must not keep the process alive after shutdown.
    timer = setTimeout(() => (Date.now() >= due ? tick() : arm(due)), delay).unref();
  };

  const tick = async () => {
    timer = undefined;
    try {
      await save(true);
    } catch (error) {
      log.error({ err: error }, "snapshot failed; retrying at the next interval");
    }
    // Re-armed only now: a slow save never overlaps the next one.
    arm(Date.now() + intervalMs);
  };

  return {
    start() {
      if (started) {
        return;
      }
      started = true;
      savedRevision ??= store.revision;
      if (intervalMs > 0) {
        arm(Date.now() + intervalMs);
      }
    },
    async snapshotNow() {
      const id = await save(false);
      // save(false) never skips.
      return id as bigint;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await tail;
    },
    get created() {
      return created;
    },
  };
}
