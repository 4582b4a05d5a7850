/**
 * The container image, checked without a Docker engine: the Dockerfile is
 * parsed with dockerfile-ast (the parser of the Docker language server) and
 * .dockerignore is matched with @balena/dockerignore (a port of Docker's own
 * matching), and what the image would hold and run is checked against the
 * repository: the stages, the base image, the user, the entrypoint and health
 * check, the port, the volume, the configuration the image sets, where every
 * copied file comes from, and how the production dependencies are installed.
 */
import { loadConfig } from "@keyquarry/server";
import { Copy, DockerfileParser, Env, From, Healthcheck, JSONInstruction, type Instruction } from "dockerfile-ast";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dockerfile = DockerfileParser.parse(readFileSync(`${root}Dockerfile`, "utf8"));
// A CommonJS module whose typings declare a default export it does not have: required, not imported.
const dockerignore = createRequire(import.meta.url)("@balena/dockerignore") as typeof import("@balena/dockerignore").default;
const ignored = dockerignore().add(readFileSync(`${root}.dockerignore`, "utf8").split("\n"));

/** One build stage: its FROM and the instructions up to the next FROM. */
interface Stage {
  from: From;
  name: string | null;
  /** The base image with `${ARG}`s replaced by the global ARG defaults. */
  image: string;
  instructions: Instruction[];
}

const globalArgs = new Map(dockerfile.getInitialARGs().map((arg) => [arg.getProperty()!.getName(), arg.getProperty()!.getValue() ?? ""]));
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction instanceof From) {
    const image = instruction.getImage()!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string, bare: string) => globalArgs.get(braced ?? bare) ?? "");
    stages.push({ from: instruction, name: instruction.getBuildStage(), image, instructions: [] });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const runtime = stages.at(-1)!;

const ofKind = <T extends Instruction>(stage: Stage, kind: new (...args: never[]) => T): T[] =>
  stage.instructions.filter((instruction): instruction is T => instruction instanceof kind);
const keyword = (stage: Stage, name: string) => stage.instructions.filter((instruction) => instruction.getKeyword() === name);
const words = (instruction: Instruction) => instruction.getArguments().map((argument) => argument.getValue());
/** The JSON array of an exec-form instruction, or undefined in shell form. */
function execForm(instruction: Instruction): string[] | undefined {
  if (!(instruction instanceof JSONInstruction) || instruction.getJSONStrings().length === 0) return undefined;
  return instruction.getJSONStrings().map((string) => string.getJSONValue());
}
/** The runtime stage's environment, as `docker run` starts with it. */
const runtimeEnv = Object.fromEntries(
  ofKind(runtime, Env).flatMap((env) => env.getProperties().map((property) => [property.getName(), property.getValue() ?? ""])),
);
const workdir = (stage: Stage) => words(keyword(stage, "WORKDIR").at(-1)!)[0]!;

/**
 * The repository file a path of the runtime image comes from, through the
 * runtime stage's COPYs from the build context; undefined if none brings it.
 */
function contextSourceOf(imagePath: string): string | undefined {
  for (const copy of ofKind(runtime, Copy).filter((copy) => copy.getFromFlag() === null).reverse()) {
    const [source, destination] = words(copy) as [string, string];
    const target = posix.resolve(workdir(runtime), destination);
    if (destination.endsWith("/") && imagePath === posix.join(target, basename(source))) return source;
    if (imagePath.startsWith(`${target}/`)) return posix.join(source, imagePath.slice(target.length + 1));
  }
  return undefined;
}

describe("Dockerfile", () => {
  it("builds in named stages, each on the same base image: the runtime's Node 24 slim, pinned to a minor version", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage.name, stage.from.toString()).toMatch(/^[a-z][a-z0-9-]*$/);
    }
    // One Node.js everywhere: better-sqlite3's addon is compiled for the Node.js of its stage.
    expect(new Set(stages.map(({ image }) => image))).toEqual(new Set([runtime.image]));
    expect(runtime.image).toMatch(/^node:24\.\d+(\.\d+)?-[a-z]+-slim$/);
  });

  it("runs as a non-root user", () => {
    const users = keyword(runtime, "USER").map((user) => words(user)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it("starts node itself on the CLI's bin (exec form, no npm or shell in between), `serve` by default", () => {
    const [entrypoint, ...others] = keyword(runtime, "ENTRYPOINT");
    expect(others).toEqual([]);
    const command = execForm(entrypoint!);
    expect(command?.[0]).toBe("node");
    expect(contextSourceOf(command![1]!)).toBe("server/bin/keyquarry.js");
    expect(execForm(keyword(runtime, "CMD").at(-1)!)).toEqual(["serve"]);
  });

  it("checks its health with its own client (exec form, with a timeout) on the port it listens on", () => {
    const [healthcheck, ...others] = ofKind(runtime, Healthcheck);
    expect(others).toEqual([]);
    expect(healthcheck!.getSubcommand()?.getValue()).toBe("CMD");
    const command = JSON.parse(words(healthcheck!).slice(1).join(" ")) as string[];
    expect(command[0]).toBe("node");
    expect(contextSourceOf(command[1]!)).toBe("server/bin/keyquarry.js");
    expect(command[2]).toBe("client");
    expect(command).toContain("--timeout");
    expect(command[command.indexOf("--address") + 1]).toBe("127.0.0.1:33969");
    expect(healthcheck!.getFlags().map((flag) => flag.getName())).toContain("timeout");
  });

  it("exposes 33969, listens there on every interface and keeps its snapshots in the /data volume", () => {
    expect(keyword(runtime, "EXPOSE").flatMap(words)).toEqual(["33969"]);
    expect(keyword(runtime, "VOLUME").flatMap(words)).toEqual(["/data"]);
    // The image's KEYQUARRY_* settings through the server's own configuration loader.
    const config = loadConfig({ env: runtimeEnv });
    expect(config).toMatchObject({ listenAddress: "0.0.0.0:33969", dataDir: "/data", name: "keyquarry" });
    expect(config.snapshot).toMatchObject({ enabled: true, database: "" });
    // Shut down (and snapshot) within `docker stop`'s default 10 s before its SIGKILL.
    expect(config.gracefulShutdownTimeout).toBeLessThan(10_000_000_000n);
    // The volume must be writable by the user: created and handed over before USER.
    const chown = keyword(runtime, "RUN").find((run) => /chown\s+node(:node)?\s+\/data/.test(run.getArgumentsContent() ?? ""));
    expect(chown).toBeDefined();
  });

  it("copies from the build context only files that exist and that .dockerignore lets through", () => {
    const sources = stages.flatMap((stage) =>
      ofKind(stage, Copy)
        .filter((copy) => copy.getFromFlag() === null)
        .flatMap((copy) => words(copy).slice(0, -1)),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(`${root}${source}`), source).toBe(true);
      const files = statSync(`${root}${source}`).isDirectory()
        ? execFileSync("git", ["ls-files", "--", source], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean)
        : [source];
      expect(files.length, source).toBeGreaterThan(0);
      expect(files.filter((file) => ignored.ignores(file)), source).toEqual([]);
    }
    // Local installs, builds and databases stay out of the context.
    for (const path of ["node_modules/x/index.js", "server/node_modules/x", "server/dist/cli/cli.js", ".git/HEAD", "data/keyquarry.db", "bench/results/latest-node20.json"]) {
      expect(ignored.ignores(path), path).toBe(true);
    }
  });

  it("installs every dependency from the lockfile (npm ci), and the runtime gets the server's production dependencies only", () => {
    const runs = stages.flatMap((stage) => keyword(stage, "RUN").map((run) => run.getArgumentsContent() ?? ""));
    expect(runs.filter((run) => /\bnpm (install|i)\b/.test(run))).toEqual([]);

    const copies = ofKind(runtime, Copy).filter((copy) => copy.getFromFlag() !== null);
    const nodeModules = copies.filter((copy) => words(copy).some((word) => /node_modules/.test(word)));
    expect(nodeModules).toHaveLength(1);
    const [source, destination] = words(nodeModules[0]!);
    expect([source, destination]).toEqual(["/app/node_modules", "node_modules"]);
    // It comes from a stage that installs only that, without dev dependencies; not from the build stage.
    const provider = stages.find(({ name }) => name === nodeModules[0]!.getFromFlag()!.getValue())!;
    const install = keyword(provider, "RUN").map((run) => run.getArgumentsContent() ?? "").find((run) => /\bnpm ci\b/.test(run));
    expect(install).toMatch(/--omit=dev/);
    expect(install).toMatch(/--workspace @keyquarry\/server/);
    expect(install).toMatch(/--include-workspace-root=false/);
    const builder = stages.find((stage) => keyword(stage, "RUN").some((run) => /npm run build/.test(run.getArgumentsContent() ?? "")))!;
    expect(provider).not.toBe(builder);
    // From the build stage: the built server, nothing installed.
    expect(copies.filter((copy) => copy.getFromFlag()!.getValue() === builder.name).map((copy) => words(copy)[0])).toEqual(["/app/server/dist"]);
    // Nor does the runtime stage install anything itself.
    expect(keyword(runtime, "RUN").filter((run) => /\bnpm\b/.test(run.getArgumentsContent() ?? ""))).toEqual([]);
  });
});
