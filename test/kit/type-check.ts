import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./pack-workspace.js";
import { runCommand } from "./run-command.js";

/**
 * Type-checks `file` in the project at `projectDir` with the repository's
 * TypeScript, as a strict NodeNext project of its own: packages resolve from
 * the project's node_modules. `types` names the @types packages to use, taken
 * from the repository (the project installs only what it tests). Fails with
 * tsc's report.
 */
export async function typeCheck(projectDir: string, file: string, types: string[]): Promise<void> {
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      // @connectrpc/connect's declarations name DOM types (HeadersInit), so
      // its users need DOM in lib; with the library check on, our
      // declarations are checked too.
      lib: ["ES2023", "DOM"],
      skipLibCheck: false,
      types,
      typeRoots: [join(repoRoot, "node_modules", "@types")],
    },
    files: [file],
  };
  await writeFile(join(projectDir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  await runCommand(join(repoRoot, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], projectDir);
}
