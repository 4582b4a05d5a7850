import { Command } from "commander";
import { version } from "../version.js";
import { addClientOptions, clientFor, type ClientOptions } from "./client-options.js";
import { describeError } from "./describe-error.js";
import { CliError, ExitCode, exitCodeFor } from "./exit-code.js";

/** How long `version` waits for the server unless `--timeout` says otherwise. */
const serverTimeoutMs = 5_000;

/**
 * Creates `keyquarry version`: this CLI's version, then the version of the
 * server the client options name (as `keyquarry client` reaches it, over
 * Stats). An unreachable server is reported on stderr with exit status 3,
 * after the CLI's version.
 */
export function createVersionCommand(): Command {
  const command = addClientOptions(new Command("version").description("print the versions of this CLI and of the server"));
  return command.action(async () => {
    const options = command.opts<ClientOptions>();
    process.stdout.write(`keyquarry version: ${version}\n`);
    let serverVersion: string;
    try {
      serverVersion = (await clientFor(options, serverTimeoutMs).stats({})).serverVersion;
    } catch (error) {
      const code = exitCodeFor(error);
      const problem = code === ExitCode.unreachable ? "unreachable" : "did not tell its version";
      throw new CliError(`server at ${options.address} ${problem}: ${describeError(error)}`, code);
    }
    // Servers before 0.1 (and the original) do not send it.
    process.stdout.write(`server version: ${serverVersion === "" ? "unknown" : serverVersion}\n`);
  });
}
