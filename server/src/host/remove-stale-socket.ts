import { existsSync, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";

/**
 * Makes a unix socket path free to listen on: a socket file left behind by a
 * crashed server (nobody accepts on it) is removed; one a live server still
 * accepts on is an error.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) {
    return;
  }
  if (!statSync(path).isSocket()) {
    throw new Error(`'${path}' exists and is not a socket`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) {
    throw new Error(`socket file '${path}' is in use by another server`);
  }
  unlinkSync(path);
}
