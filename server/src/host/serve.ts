import type { Config } from "../config/config.js";
import { build } from "./server.js";

/**
 * Runs the server until SIGINT or SIGTERM, then shuts it down gracefully.
 * Resolves to the process exit code.
 */
export async function serve(config: Config): Promise<number> {
  const server = await build(config);
  const log = server.app.log;
  const url = await server.listen();
  // Before the "listening" line: a supervisor may signal as soon as it reads it.
  const stopRequested = new Promise<string>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      process.once(name, () => resolve(name));
    }
    void server.shutdownRequested.then(() => resolve("Admin.Shutdown"));
  });
  const notice = (log as typeof log & { notice: typeof log.info }).notice.bind(log);
  const { restored } = server;
  if (restored !== undefined) {
    const { replay } = restored;
    // Strings: not every logger serializes bigint.
    notice(
      {
        database: restored.database,
        journal: restored.journal,
        snapshotId: restored.snapshotId === undefined ? null : String(restored.snapshotId),
        keys: restored.keys,
        journalEntriesReplayed: replay?.entries ?? 0,
        ms: Math.round(restored.ms),
      },
      restored.snapshotId === undefined && (replay?.entries ?? 0) === 0 ? "nothing to restore" : "restored",
    );
    if (replay !== undefined && replay.droppedTail > 0) {
      log.warn({ entries: replay.droppedTail }, "the journal's last batch was incomplete (a crash while it was written); it was dropped");
    }
    if (replay !== undefined && replay.diverged > 0) {
      log.error({ entries: replay.diverged }, "journal replay diverged from the run it repeats (revisions ahead); please report this");
    }
  }
  notice({ address: url, serverName: config.name, readonly: config.readonly }, "keyquarry listening");
  if (config.sslCertfile === "") {
    log.warn("TLS is off: traffic is not encrypted (set ssl_certfile and ssl_keyfile to enable it)");
  }
  const reason = await stopRequested;
  notice({ reason }, "shutting down");
  try {
    await server.close();
  } catch (error) {
    log.error({ err: error }, "the final snapshot could not be written");
    return 1;
  }
  notice("stopped");
  return 0;
}
