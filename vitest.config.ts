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
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", new SummaryReporter()],
    // `vitest run` runs all three; `npm run test:unit` only the first (no PostgreSQL, no Chromium, no build needed).
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["{server,client-node,client-web}/src/**/*.test.ts", "client-web/console/src/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "end-to-end",
          include: ["{server,client-node,client-web}/test/**/*.test.ts"],
          // Starts a throwaway PostgreSQL for the snapshot tests (or uses KEYQUARRY_TEST_POSTGRES_URL).
          globalSetup: ["server/test/kit/postgres-global-setup.ts"],
        },
      },
      {
        extends: true,
        test: { name: "packages", include: ["test/**/*.test.ts"] },
      },
    ],
  },
});
