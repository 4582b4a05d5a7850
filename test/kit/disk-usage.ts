import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/** The total size in bytes of everything under `dir` (apparent sizes, as `du -sb`). */
export async function diskUsage(dir: string): Promise<number> {
  const paths = await readdir(dir, { recursive: true });
  const sizes = await Promise.all(paths.map(async (path) => (await lstat(join(dir, path))).size));
  return sizes.reduce((total, size) => total + size, 0);
}
