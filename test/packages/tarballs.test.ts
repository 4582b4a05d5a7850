/**
 * The published form of each package: `npm pack` of the built workspace,
 * checked by publint (package.json fields against the files) and by
 * "Are the Types Wrong?" (the types resolve for ESM consumers), and its file
 * list, which must hold the build and nothing of the sources or tests.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packWorkspaces, repoRoot, type PackedPackage } from "../kit/pack-workspace.js";
import { runCommand } from "../kit/run-command.js";

/** Each publishable package, with the files its tarball must hold besides package.json. */
const packages = [
  // The web console is built into client-web/dist/console but ships with the server only.
  { workspace: "client-web", required: ["dist/index.js", "dist/index.d.ts"], absent: ["dist/console/"] },
  { workspace: "client-node", required: ["dist/index.js", "dist/index.d.ts"] },
  {
    workspace: "server",
    required: [
      "bin/keyquarry.js",
      "dist/lib/index.js",
      "dist/lib/index.d.ts",
      "dist/cli/cli.js",
      "drizzle/sqlite/0000_init.sql",
      "drizzle/sqlite/meta/_journal.json",
      "drizzle/postgres/0000_init.sql",
      "drizzle/postgres/meta/_journal.json",
      "dist/console/index.html",
    ],
  },
] as const;

const bin = (tool: string) => join(repoRoot, "node_modules", ".bin", tool);

let destination: string;
let packed: Map<string, PackedPackage>;

beforeAll(async () => {
  destination = await mkdtemp(join(tmpdir(), "keyquarry-tarballs-"));
  packed = await packWorkspaces(packages.map(({ workspace }) => workspace), destination);
});

afterAll(async () => {
  await rm(destination, { recursive: true, force: true });
});

describe.each(packages)("the $workspace tarball", (tarballPackage) => {
  const { workspace, required } = tarballPackage;
  const absent: readonly string[] = "absent" in tarballPackage ? tarballPackage.absent : [];
  const tarball = () => {
    const found = packed.get(`@keyquarry/${workspace}`);
    if (found === undefined) {
      throw new Error(`npm pack made no @keyquarry/${workspace} (made: ${[...packed.keys()].join(", ")})`);
    }
    return found;
  };

  it("passes publint", async () => {
    // --strict: warnings fail too; runCommand fails with publint's report.
    await runCommand(bin("publint"), ["run", "--strict", tarball().tarball], destination);
  });

  it("passes Are the Types Wrong? for ESM consumers", async () => {
    // esm-only: the packages are ES modules only, so CommonJS `require` is not a goal.
    // No DefinitelyTyped lookup: it would ask the registry, and our types ship in the package.
    const args = [tarball().tarball, "--profile", "esm-only", "--no-definitely-typed", "--format", "ascii", "--no-color"];
    await runCommand(bin("attw"), args, destination);
  });

  it("holds the build and neither sources nor tests", () => {
    const { files } = tarball();
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", ...required]));
    const strays = files.filter(
      (file) => /\.test\.[cm]?[jt]s$/.test(file) || /^(src|test)\//.test(file) || (file.endsWith(".ts") && !file.endsWith(".d.ts")),
    );
    expect(strays).toEqual([]);
    expect(files.filter((file) => absent.some((prefix) => file.startsWith(prefix)))).toEqual([]);
  });
});
