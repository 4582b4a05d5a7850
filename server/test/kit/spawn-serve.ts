/**
 * `keyquarry serve` as a child process, started as in production (node
 * running the built bin, no wrapper) on port 0: the address comes from its
 * "keyquarry listening" log line, so no other process can take the port
 * between choosing it and binding it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { bin, cleanEnv } from "./cli-process.js";

/** How a `keyquarry serve` child process ended. */
export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `keyquarry serve` child process that is listening. */
export interface ServeProcess {
  child: ChildProcess;
  /** The bound address from the log, `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything written to stdout (the log) so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once the process has exited and its output is complete. */
  exited: Promise<ServeExit>;
}

/** What {@link spawnServe} starts the server with. */
export interface ServeOptions {
  /** Arguments after `serve --listen 127.0.0.1:0`, e.g. `["--privileged-client-id", "boss"]`. */
  args?: string[];
  /** Added to this process's environment, whose own KEYQUARRY_* variables are left out. */
  env?: Record<string, string>;
}

/** {@link spawnServe}'s rejection when the server exited before listening: how, and what it wrote. */
export class ServeExitedError extends Error {
  constructor(
    readonly exit: ServeExit,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`keyquarry serve exited (${JSON.stringify(exit)}) before listening:\n${stdout}${stderr}`);
    this.name = "ServeExitedError";
  }
}

/** The text log line `serve` writes once it accepts connections (NOTICE level). */
const listeningLine = /\bNOTICE: keyquarry listening (\{.*\})\n/;

/** How long the server may take to start (the tests' hook timeout is 30 s). */
const startTimeoutMs = 20_000;

/** Child processes started by {@link spawnServe} and not yet known to have exited. */
const running = new Set<{ child: ChildProcess; exited: Promise<ServeExit> }>();

/**
 * Starts `keyquarry serve --listen 127.0.0.1:0 ...` and resolves once it
 * logs that it is listening. Rejects with a {@link ServeExitedError} if it
 * exits first, or after 20 s (e.g. a log level above NOTICE hides the line).
 * Stop leftovers with {@link killServeProcesses} in the test's cleanup.
 */
export function spawnServe({ args = [], env = {} }: ServeOptions = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, "serve", "--listen", "127.0.0.1:0", ...args], {
    env: { ...cleanEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // "close", not "exit": the output is complete by then.
  const exited = new Promise<ServeExit>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  const tracked = { child, exited };
  running.add(tracked);
  void exited.then(() => running.delete(tracked));

  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`keyquarry serve logged no "keyquarry listening" line within ${startTimeoutMs} ms:\n${stdout}${stderr}`));
    }, startTimeoutMs);
    let listening = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const found = listening ? null : stdout.match(listeningLine);
      if (found !== null) {
        listening = true;
        clearTimeout(timer);
        const { address } = JSON.parse(found[1]!) as { address: string };
        resolve({ child, url: address, stdout: () => stdout, stderr: () => stderr, exited });
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new ServeExitedError(exit, stdout, stderr));
    });
  });
}

/** Kills (SIGKILL) every {@link spawnServe} process still running and waits for them to exit. */
export async function killServeProcesses(): Promise<void> {
  const all = [...running];
  for (const { child } of all) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  }
  await Promise.all(all.map(({ exited }) => exited));
}
