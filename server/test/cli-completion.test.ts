/**
 * `keyquarry completion bash|zsh|fish`: the scripts, loaded into the real
 * shells, complete subcommands (and aliases) at every level, options
 * (inherited client options too) and choices. The built CLI prints them;
 * bash, zsh and fish must be installed (.ci/run installs zsh and fish).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyquarry } from "./kit/cli-process.js";

const run = promisify(execFile);

describe("keyquarry completion", () => {
  let dir: string;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-completion-"));
    for (const shell of ["bash", "zsh", "fish"]) {
      const result = await keyquarry(["completion", shell]);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      scripts[shell] = join(dir, `keyquarry.${shell}`);
      await writeFile(scripts[shell], result.stdout);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What the bash (or zsh, through bashcompinit's conventions) function offers for `words`, the last one being completed. */
  async function shellComplete(shell: "bash" | "zsh", words: string[]): Promise<string[]> {
    const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _keyquarry_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await run(shell, ["-c", program, shell, scripts[shell]!, ...words]);
    return stdout.split("\n").filter((line) => line !== "");
  }

  it.each([
    [["keyquarry", "cl"], ["client"]],
    [["keyquarry", "client", "in"], ["inspect", "info"]],
    [["keyquarry", "client", "bulk-set", "--l"], ["--lock", "--lifespan"]],
    [["keyquarry", "client", "load", "--conc"], ["--concurrency"]],
    [["keyquarry", "client", "--protocol", "grpc-"], ["grpc-web"]],
    [["keyquarry", "client", "set", "--protocol", "c"], ["connect"]],
    [["keyquarry", "completion", ""], ["bash", "zsh", "fish"]],
    [["keyquarry", "-"], ["--version", "-V", "--help", "-h"]],
  ])("bash: %j completes to %j", async (words, expected) => {
    expect(await shellComplete("bash", words)).toEqual(expected);
  });

  it("bash: an option's value is not taken for a subcommand, and the client options come after a subcommand too", async () => {
    expect(await shellComplete("bash", ["keyquarry", "client", "--address", "set", "lo"])).toEqual(["load", "lock"]);
    expect(await shellComplete("bash", ["keyquarry", "client", "info", "--add"])).toEqual(["--address"]);
  });

  it("zsh: the script parses and reaches the same command (zsh itself filters by the prefix)", async () => {
    await run("zsh", ["-n", scripts.zsh!]);
    const offered = await shellComplete("zsh", ["keyquarry", "client", "bulk-set", "--l"]);
    expect(offered).toEqual(expect.arrayContaining(["--lock", "--lifespan", "--concurrency", "--address"]));
    expect(offered).not.toContain("--if-version");
  });

  it("fish: the script parses and completes subcommands, aliases, options and choices with descriptions", async () => {
    await run("fish", ["--no-execute", scripts.fish!]);
    const complete = async (line: string) =>
      (await run("fish", ["-c", 'source $argv[1]; complete -C "$argv[2]"', scripts.fish!, line])).stdout.trimEnd().split("\n");
    expect(await complete("keyquarry cl")).toEqual(["client\trun a command against a keyquarry server"]);
    expect((await complete("keyquarry client --address x in")).map((line) => line.split("\t")[0])).toEqual(["info", "inspect"]);
    expect((await complete("keyquarry client bulk-set --li")).map((line) => line.split("\t")[0])).toEqual(["--lifespan"]);
    expect((await complete("keyquarry client --protocol grpc")).map((line) => line.split("\t")[0])).toEqual(["grpc", "grpc-web"]);
  });

  it("an unknown shell is a usage error", async () => {
    const result = await keyquarry(["completion", "tcsh"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("bash, zsh, fish");
  });
});
