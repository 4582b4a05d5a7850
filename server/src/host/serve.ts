import type { Config } from "../config/config.js";
import { customLevelsOf } from "./logger-options.js";
import { build } from "./server.js";

/**
 * Runs the server until SIGINT or SIGTERM, then shuts it down gracefully.
 * Resolves to the process exit code.
 */
export async function serve(config: Config): Promise<number> {
  const server = await build(config);
  const log = server.app.log;
  const url = await server.listen();
  // Handled before "listening" is logged: a supervisor may stop the server as soon as it reads that line.
  const stopRequested = new Promise<string>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      process.once(name, () => resolve(name));
    }
    void server.shutdownRequested.then(() => resolve("Admin.Shutdown"));
  });
  const { notice } = customLevelsOf(log);
  // The monitor's address (when it runs) on the same line: whoever reads the one finds the other.
  const monitor = server.monitorUrl === undefined ? {} : { monitorAddress: server.monitorUrl };
  notice({ address: url, ...monitor, serverName: config.name, readonly: config.readonly }, "keyquarry listening");
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
