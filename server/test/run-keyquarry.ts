/** The `keyquarry` command as tests run it: the built bin, in a child process of its own, no shell. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** `server/bin/keyquarry.js`: runs the BUILT CLI (dist/), so `npm run build` after changing sources. */
export const keyquarryBin = fileURLToPath(new URL("../bin/keyquarry.js", import.meta.url));

/** What a finished `keyquarry` run printed, and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `keyquarry args...` to its end, feeding `input` to its stdin. The
 * environment is this process's without the client settings of whoever runs
 * the tests (KEYQUARRY_CLIENT_*), plus `env`.
 */
export function runKeyquarry(args: string[], input: string | Uint8Array = "", env: Record<string, string> = {}): Promise<CliResult> {
  const { KEYQUARRY_CLIENT_ADDRESS: _address, KEYQUARRY_CLIENT_ID: _clientId, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [keyquarryBin, ...args], { env: { ...inherited, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
