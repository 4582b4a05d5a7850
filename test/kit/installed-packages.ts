import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** A package npm installed: a folder with a package.json under some node_modules. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** Absolute path of the package folder. */
  dir: string;
  /** Its package.json scripts (install scripts among them would run on install). */
  scripts: Record<string, string>;
}

/**
 * Every package installed in the project at `projectDir`: each folder with a
 * package.json in its node_modules, scoped ones included, and in the
 * node_modules nested inside those.
 */
export async function installedPackages(projectDir: string): Promise<InstalledPackage[]> {
  const found: InstalledPackage[] = [];
  const visit = async (nodeModules: string): Promise<void> => {
    for (const entry of await readdir(nodeModules, { withFileTypes: true })) {
      // .bin and npm's .package-lock.json are npm's own.
      if (!entry.isDirectory() || entry.name.startsWith(".")) {
        continue;
      }
      const dirs = entry.name.startsWith("@")
        ? (await readdir(join(nodeModules, entry.name))).map((name) => join(nodeModules, entry.name, name))
        : [join(nodeModules, entry.name)];
      for (const dir of dirs) {
        const manifest = join(dir, "package.json");
        if (existsSync(manifest)) {
          const { name, version, scripts = {} } = JSON.parse(await readFile(manifest, "utf8")) as Omit<InstalledPackage, "dir">;
          found.push({ name, version, dir, scripts });
        }
        if (existsSync(join(dir, "node_modules"))) {
          await visit(join(dir, "node_modules"));
        }
      }
    }
  };
  await visit(join(projectDir, "node_modules"));
  return found;
}
