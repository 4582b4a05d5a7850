import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { diskUsage } from "./disk-usage.js";
import { installedPackages, type InstalledPackage } from "./installed-packages.js";
import { runCommand } from "./run-command.js";

/** A fresh npm project outside the repository with one of our tarballs installed. */
export interface OutsideProject {
  /** Absolute path of the project. */
  dir: string;
  /** Every package npm installed. */
  packages: InstalledPackage[];
  /** Size of node_modules in bytes. */
  installedBytes: number;
}

/**
 * Creates an ES-module npm project at `dir` (which must be outside the
 * repository, so that nothing resolves to the workspace), copies `files`
 * into it and installs `tarball` with npm, which fetches the tarball's
 * dependencies from the registry (or npm's cache) as for any user.
 */
export async function createOutsideProject(dir: string, tarball: string, files: string[]): Promise<OutsideProject> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: basename(dir), private: true, type: "module" }));
  await Promise.all(files.map((file) => copyFile(file, join(dir, basename(file)))));
  await runCommand("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  return {
    dir,
    packages: await installedPackages(dir),
    installedBytes: await diskUsage(join(dir, "node_modules")),
  };
}
