import type { StartWork } from "../host/background-work.js";
import type { Authenticator } from "./authenticator.js";
import { loadIdentitiesFile } from "./identities-file.js";

/** Where a reload reports (a pino logger's levels). */
export interface ReloadLog {
  notice(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Background work: on SIGHUP, reads `file` again and gives its identities
 * to `authenticator`; a file that cannot be read or is not valid leaves the
 * identities as they were, and the error (which never holds a token or a
 * digest) is logged. Reloads run one at a time, in signal order.
 */
export function reloadOnHangup(file: string, authenticator: Authenticator, log: ReloadLog): StartWork {
  return () => {
    let queue = Promise.resolve();
    const reload = () => {
      queue = queue.then(async () => {
        try {
          authenticator.replace(await loadIdentitiesFile(file));
          log.notice({ file, identities: authenticator.size }, "identities reloaded");
        } catch (error) {
          log.error({ file }, `identities not reloaded, the previous ones stay in force: ${(error as Error).message}`);
        }
      });
    };
    process.on("SIGHUP", reload);
    return async () => {
      process.off("SIGHUP", reload);
      await queue;
    };
  };
}
