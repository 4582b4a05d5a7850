import type { UniversalPlugin } from "fast-check";

/**
 * Run parameters of the store's fast-check property tests. On failure
 * fast-check prints the seed and path of the failing case: replay it with
 * KEYQUARRY_FC_SEED (and KEYQUARRY_FC_PATH); run more cases with
 * KEYQUARRY_FC_RUNS.
 */
const envInteger = (name: string): number | undefined => {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : Number(value);
};

/** The parameters for fc.assert: `defaultRuns` cases unless KEYQUARRY_FC_RUNS says otherwise, seed and path from the environment. */
export function fastCheckParameters(defaultRuns: number): { numRuns: number; seed: number | undefined; path: string | undefined } {
  return {
    numRuns: envInteger("KEYQUARRY_FC_RUNS") ?? defaultRuns,
    seed: envInteger("KEYQUARRY_FC_SEED"),
    path: process.env["KEYQUARRY_FC_PATH"] || undefined,
  };
}

/**
 * A plugin that reports a failure by its seed, path and error message only,
 * for properties over long lists: fast-check's own report prints the whole
 * counterexample, megabytes for a list of 100 000 deadlines.
 */
export const briefFailureReport: UniversalPlugin = () => ({
  onAllRunsComplete: (details) => {
    if (details.failed) {
      const replay = `replay with KEYQUARRY_FC_SEED=${details.seed} KEYQUARRY_FC_PATH=${details.counterexamplePath}`;
      // The message only: as a cause, the error's diff of two long lists would be printed in full.
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`Property failed after ${details.numRuns} run(s); ${replay}: ${error}`);
    }
  },
});
