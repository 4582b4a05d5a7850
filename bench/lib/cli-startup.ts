// The bench's "CLI start-up" stage (issue 11): the wall time of one
// `keyquarry client get <key>` run from a shell, against a real keyquarry
// (the real CLI, default configuration), next to `node -e 0` on the same
// Node.js (the floor: starting and stopping Node.js) and, when Redis is
// installed, `redis-cli GET` against a redis-server. The commands alternate
// run by run, after warm-up runs (which also fill Node's compile cache, as a
// user's first command would); every run must exit 0 and print the value.
import path from "node:path";
import { spawnKeyquarry } from "./keyquarry-process.js";
import { freePort } from "../../server/test/kit/free-port.js";
import { run, spawnTracked, stopChild, waitForPort, which } from "./procs.js";
import { percentileSorted, ratio } from "./stats.js";

/** Sizes of the stage. */
export interface CliStartupSettings {
  warmups: number;
  runs: number;
}

/** Full and quick sizes. */
export const cliStartupSettings = (quick: boolean): CliStartupSettings => (quick ? { warmups: 2, runs: 10 } : { warmups: 2, runs: 20 });

const key = "cli-bench";
const value = "a value of the CLI start-up bench";

/** Wall times of one command, in ms. */
export interface CommandTimes {
  argv: string[];
  p50Ms?: number;
  p90Ms?: number;
  samplesMs: number[];
  error?: string;
}

/** What the stage measured. */
export interface CliStartupResult {
  settings: CliStartupSettings;
  nodeFloor: CommandTimes;
  keyquarryGet: CommandTimes;
  redisCliGet?: CommandTimes;
  redisSkipped?: string;
  /** keyquarry get ÷ node -e 0, on the medians and on the p90s. */
  ratioP50?: number;
  ratioP90?: number;
  error?: string;
}

/** One command of the stage: what to run and what it must print. */
interface Timed {
  command: string;
  args: string[];
  stdout?: string;
  times: CommandTimes;
}

/** Runs the stage: starts keyquarry (and redis-server if there), stops them before returning. */
export async function runCliStartup(node: string, rootDir: string, tmp: string, s: CliStartupSettings, log: (line: string) => void): Promise<CliStartupResult> {
  log(`cli start-up: ${s.warmups} warm-up + ${s.runs} runs of each command ...`);
  const bin = path.join(rootDir, "server/bin/keyquarry.js");
  // The client must not pick up the caller's KEYQUARRY_CLIENT_* settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_")));
  const timed = (command: string, args: string[], stdout?: string): Timed => ({ command, args, stdout, times: { argv: [command === node ? "node" : command, ...args], samplesMs: [] } });

  const port = await freePort();
  const server = spawnKeyquarry(node, rootDir, port, path.join(tmp, "cli-startup-data"));
  const redisCli = await which("redis-cli");
  const redisServer = await which("redis-server");
  const redisPort = await freePort();
  const redis = redisCli && redisServer ? spawnTracked(redisServer, ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]) : undefined;
  try {
    if (!(await waitForPort(port, 20_000, server))) throw new Error("keyquarry did not start");
    const address = `127.0.0.1:${port}`;
    const set = await run(node, [bin, "client", "--address", address, "set", key, value], 20_000, { env });
    if (set.code !== 0) throw new Error(`keyquarry client set exited ${set.code}: ${set.stderr.trim()}`);
    // `get` writes the value's bytes exactly (no newline added when stdout is not a terminal).
    const commands = [timed(node, ["-e", "0"], ""), timed(node, [bin, "client", "--address", address, "get", key], value)];
    let redisSkipped: string | undefined = redis === undefined ? "redis-cli or redis-server not installed" : undefined;
    if (redis !== undefined) {
      const redisSet = (await waitForPort(redisPort, 10_000, redis)) ? await run(redisCli!, ["-p", String(redisPort), "SET", key, value], 10_000) : undefined;
      if (redisSet?.code === 0) commands.push(timed(redisCli!, ["-p", String(redisPort), "GET", key], `${value}\n`));
      else redisSkipped = `redis-server did not answer: ${redisSet?.stderr.trim() ?? "not listening"}`;
    }

    for (let round = 0; round < s.warmups + s.runs; round++) {
      for (const c of commands) {
        if (c.times.error !== undefined) continue;
        const started = process.hrtime.bigint();
        const result = await run(c.command, c.args, 20_000, { env });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (result.code !== 0 || (c.stdout !== undefined && result.stdout !== c.stdout)) {
          c.times.error = `exit ${result.code}${result.timedOut ? " (timed out)" : ""}, stdout ${JSON.stringify(result.stdout.slice(0, 100))}, stderr ${JSON.stringify(result.stderr.trim().slice(-200))}`;
        } else if (round >= s.warmups) {
          c.times.samplesMs.push(ms);
        }
      }
    }
    for (const { times } of commands) {
      const sorted = Float64Array.from(times.samplesMs).sort();
      times.p50Ms = percentileSorted(sorted, 50);
      times.p90Ms = percentileSorted(sorted, 90);
    }
    const [nodeFloor, keyquarryGet, redisCliGet] = commands.map(({ times }) => times) as [CommandTimes, CommandTimes, CommandTimes | undefined];
    return {
      settings: s,
      nodeFloor,
      keyquarryGet,
      ...(redisCliGet === undefined ? {} : { redisCliGet }),
      ...(redisSkipped === undefined ? {} : { redisSkipped }),
      ratioP50: ratio(keyquarryGet.p50Ms, nodeFloor.p50Ms),
      ratioP90: ratio(keyquarryGet.p90Ms, nodeFloor.p90Ms),
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`  cli start-up: failed: ${message}`);
    return { settings: s, nodeFloor: { argv: [], samplesMs: [] }, keyquarryGet: { argv: [], samplesMs: [] }, error: message };
  } finally {
    await stopChild(server);
    if (redis !== undefined) await stopChild(redis);
  }
}

/** One pass/fail check of the stage (null when not measured). */
export interface CliStartupTarget {
  check: string;
  measured: number | null;
  target: string;
  pass: boolean | null;
}

/** The stage's lines for the bench's table and its target. */
export function cliStartupReport(r: CliStartupResult): { lines: string[]; targets: CliStartupTarget[] } {
  const ms = (x: number | undefined) => (x === undefined ? "–" : `${x.toFixed(0)} ms`);
  const row = (name: string, t: CommandTimes | undefined) =>
    t === undefined ? [] : [`  ${name.padEnd(34)}${t.error === undefined ? `p50 ${ms(t.p50Ms).padEnd(8)} p90 ${ms(t.p90Ms)}` : `failed: ${t.error}`}`];
  const lines = [
    `CLI start-up — wall time of one command from a shell, ${r.settings.runs} runs each after ${r.settings.warmups} warm-ups, alternating`,
    ...(r.error === undefined
      ? [
          ...row("node -e 0", r.nodeFloor),
          ...row("keyquarry client get <key>", r.keyquarryGet),
          ...(r.redisCliGet === undefined ? [`  redis-cli GET: not measured (${r.redisSkipped})`] : row("redis-cli GET <key>", r.redisCliGet)),
          `  keyquarry get ÷ node -e 0: ${r.ratioP50?.toFixed(2) ?? "–"}x at p50, ${r.ratioP90?.toFixed(2) ?? "–"}x at p90`,
        ]
      : [`  failed: ${r.error}`]),
  ];
  const measured = r.ratioP50 ?? null;
  return { lines, targets: [{ check: "CLI get ÷ node -e 0 (p50 wall time)", measured, target: "≤ 3.0x", pass: measured === null ? null : measured <= 3 }] };
}
