import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./vitest-summary-reporter.js";

/** Our packages resolve to their sources in tests, as in tsconfig.json's paths. */
const sources = Object.fromEntries(
  ["client-node", "client-web", "server"].map((name) => [
    `@keyquarry/${name}`,
    fileURLToPath(new URL(`${name}/src/index.ts`, import.meta.url)),
  ]),
);

export default defineConfig({
  resolve: { alias: sources },
  test: {
    include: ["{server,client-node,client-web,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Starts a throwaway PostgreSQL for the snapshot tests (or uses KEYQUARRY_TEST_POSTGRES_URL).
    globalSetup: ["server/test/kit/postgres-global-setup.ts"],
    reporters: ["default", new SummaryReporter()],
  },
});
