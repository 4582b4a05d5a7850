import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./run-command.js";

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A workspace package packed by npm as it would be published. */
export interface PackedPackage {
  /** Package name, e.g. "@keyquarry/client-node". */
  name: string;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths of the files in the tarball, relative to the package root. */
  files: string[];
}

/**
 * Packs the workspace packages (folder names such as "client-node") into
 * `destination` with `npm pack`, and returns them by package name. Packing
 * never builds: it fails if a package's dist/ is missing (`npm test` builds
 * before running the tests).
 */
export async function packWorkspaces(workspaces: string[], destination: string): Promise<Map<string, PackedPackage>> {
  for (const workspace of workspaces) {
    if (!existsSync(join(repoRoot, workspace, "dist"))) {
      throw new Error(`${workspace}/dist is missing: run 'npm run build' before these tests`);
    }
  }
  const args = ["pack", "--json", "--ignore-scripts", "--pack-destination", destination];
  const stdout = await runCommand("npm", [...args, ...workspaces.flatMap((name) => ["-w", name])], repoRoot);
  const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[];
  return new Map(
    packed.map(({ name, filename, files }) => [
      name,
      { name, tarball: join(destination, filename), files: files.map(({ path }) => path) },
    ]),
  );
}
