import { execFile } from "node:child_process";
import { outsideEnv } from "./outside-env.js";

/**
 * Runs `file ...args` in `cwd` with {@link outsideEnv} and returns its
 * standard output. When it exits with an error, fails with everything it
 * wrote, so a failing test shows the tool's own report. A run that takes
 * longer than `timeoutMs` is killed (so no hung child outlives its test).
 */
export function runCommand(file: string, args: string[], cwd: string, timeoutMs = 150_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { cwd, env: outsideEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 };
    execFile(file, args, options, (error, stdout, stderr) => {
      if (error) {
        const how = error.killed ? `killed after ${timeoutMs} ms` : `exit ${error.code}`;
        reject(new Error(`${file} ${args.join(" ")} failed (${how}) in ${cwd}:\n${stdout}${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}
