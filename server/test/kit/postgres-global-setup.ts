/**
 * vitest globalSetup: provides `postgresUrl`, a PostgreSQL database for the
 * snapshot tests (`inject("postgresUrl")`). KEYQUARRY_TEST_POSTGRES_URL is
 * used if set (its role needs CREATEDB: suites create their own databases);
 * otherwise a throwaway cluster is started in a temp dir with the machine's
 * PostgreSQL binaries (Debian package `postgresql`) and removed at the end.
 * If PostgreSQL cannot be started this THROWS: the tests must fail, never skip.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { clusterPrefix, createPostgresCluster, findPostgresBinaries, runPostgresProgram } from "./postgres-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a PostgreSQL database the tests may use and create databases from. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env["KEYQUARRY_TEST_POSTGRES_URL"];
  if (external !== undefined && external !== "") {
    project.provide("postgresUrl", external);
    return undefined;
  }
  await stopAbandonedClusters(findPostgresBinaries().pgCtl);
  const cluster = await createPostgresCluster();
  project.provide("postgresUrl", cluster.url);
  return cluster.destroy;
}

/**
 * Stops and removes the clusters of test runs that died without their
 * teardown (killed by a timeout, say): postgres daemonizes, so it would
 * otherwise run on forever. Dirs without owner.pid are left alone.
 */
async function stopAbandonedClusters(pgCtl: string): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(clusterPrefix)) {
      continue;
    }
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) {
      continue;
    }
    await runPostgresProgram(pgCtl, ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
