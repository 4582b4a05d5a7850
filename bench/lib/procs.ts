// Child processes of the benchmark: every one is tracked so that it is
// stopped on exit, on Ctrl-C and on errors; plus free loopback ports and
// bounded waits.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import net from "node:net";

const children = new Set<ChildProcess>();

/** Spawns a tracked child process (it is forgotten once it exits). */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}

/** Starts tracking a child spawned elsewhere (e.g. with fork). */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still running. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
  const result = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (result && alive(child)) {
    child.kill("SIGKILL");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

let stoppingAll = false;

/** Whether {@link stopAll} has been called (children exiting now are expected to). */
export function isStoppingAll(): boolean {
  return stoppingAll;
}

/** Stops every tracked child. */
export async function stopAll(): Promise<void> {
  stoppingAll = true;
  await Promise.all([...children].map((child) => stopChild(child)));
}

let cleanupInstalled = false;

/** Stops every child on exit, SIGINT, SIGTERM and uncaught errors. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", () => {
    for (const child of children) {
      if (alive(child)) child.kill("SIGKILL");
    }
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} child process(es)\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  const fatal = (err: unknown) => {
    process.stderr.write(`bench: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopAll().finally(() => process.exit(1));
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until 127.0.0.1:port accepts connections; false after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && !alive(child)) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (tracked), killing it after `timeoutMs`. */
export function run(command: string, args: readonly string[], timeoutMs: number, options: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawnTracked(command, args, options);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err), timedOut });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Whether an executable is on PATH. */
export async function which(name: string): Promise<string | undefined> {
  const result = await run("sh", ["-c", `command -v ${name}`], 5000);
  const path = result.stdout.trim();
  return result.code === 0 && path !== "" ? path : undefined;
}

const stderrTails = new WeakMap<ChildProcess, string>();

/** Keeps the last lines a child writes to stderr, for {@link startedListening}'s error. */
export function keepStderr(child: ChildProcess): ChildProcess {
  child.stderr?.on("data", (chunk: Buffer) => stderrTails.set(child, ((stderrTails.get(child) ?? "") + chunk.toString()).slice(-1000)));
  return child;
}

/** The last lines a child kept by {@link keepStderr} wrote to stderr, on one line. */
export function stderrTail(child: ChildProcess): string {
  return (stderrTails.get(child) ?? "").trim().split("\n").slice(-2).join(" | ");
}

/** Waits until `child` listens on `port`; throws with what it wrote to stderr if it does not. */
export async function startedListening(child: ChildProcess, port: number, what: string): Promise<void> {
  if (!(await waitForPort(port, 60_000, child))) {
    // Exited: its last words may still be in the pipe.
    if (!alive(child) && child.stderr !== null && !child.stderr.readableEnded) await new Promise((resolve) => child.stderr?.once("close", resolve));
    throw new Error(`${what} did not start listening: ${stderrTail(child)}`);
  }
}
