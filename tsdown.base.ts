import { fileURLToPath } from "node:url";
import type { UserConfig } from "tsdown";

/**
 * What every package build shares: ES modules with `.js` names, source maps,
 * declarations from tsconfig.build.json, and our own workspace packages
 * bundled in from their sources (each is a devDependency of its users, so
 * no published package needs another of ours from the registry, and each
 * module is bundled once). Third-party dependencies stay external.
 */
export const packageBuild: UserConfig = {
  tsconfig: fileURLToPath(new URL("tsconfig.build.json", import.meta.url)),
  sourcemap: true,
  fixedExtension: false,
  alias: {
    "@keyquarry/client-node": fileURLToPath(new URL("client-node/src/index.ts", import.meta.url)),
    "@keyquarry/client-web": fileURLToPath(new URL("client-web/src/index.ts", import.meta.url)),
  },
  // Only the browser SDK's factory imports connect-web. It is never bundled,
  // and since imports of external packages have no side effects we rely on,
  // the import goes when tree-shaking drops the factory (Node builds).
  deps: { neverBundle: ["@connectrpc/connect-web"] },
  treeshake: { moduleSideEffects: (_id, external) => !external },
  checks: { pluginTimings: false },
};
