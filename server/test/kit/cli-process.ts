/**
 * The built `keyquarry` CLI as a child process, for the CLI's end-to-end
 * tests (run `npm run build` after changing its sources).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

/** bin/keyquarry.js. */
export const bin = fileURLToPath(new URL("../../bin/keyquarry.js", import.meta.url));

/** How a CLI run ended: exit status and everything it wrote. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without the KEYQUARRY_* settings of whoever runs the tests. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_")));
}

/** Runs the CLI (no shell), feeding `input` to its stdin, with `env` added to {@link cleanEnv}. */
export async function keyquarry(args: string[], input: string | Uint8Array = "", env: Record<string, string> = {}): Promise<CliResult> {
  const { stdout, ...rest } = await keyquarryBytes(args, input, env);
  return { ...rest, stdout: stdout.toString("utf8") };
}

/** {@link keyquarry} with stdout as bytes, for exact values. */
export function keyquarryBytes(
  args: string[],
  input: string | Uint8Array = "",
  env: Record<string, string> = {},
): Promise<Omit<CliResult, "stdout"> & { stdout: Buffer }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { env: { ...cleanEnv(), ...env }, encoding: "buffer" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr: stderr.toString("utf8") });
    });
    child.stdin?.end(input);
  });
}

/** A long-running CLI (e.g. `watch`) with what it has written so far. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status once the process has exited and its output is complete. */
  exited: Promise<number | null>;
}

/** Starts the CLI and keeps its output; kill it in the test's cleanup. */
export function spawnKeyquarry(args: string[]): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv() });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: new Promise((resolve) => child.once("close", (code) => resolve(code))),
  };
}
