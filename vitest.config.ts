import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./vitest-summary-reporter.js";

export default defineConfig({
  test: {
    include: ["{server,client-node,client-web}/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Starts a throwaway PostgreSQL for the snapshot tests (or uses KEYQUARRY_TEST_POSTGRES_URL).
    globalSetup: ["server/test/postgres/global-setup.ts"],
    reporters: ["default", new SummaryReporter()],
  },
});
