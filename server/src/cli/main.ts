// Entry point of the `keyquarry` command (see bin/keyquarry.js).
import { Command, CommanderError } from "commander";
import { version } from "../version.js";
import { createAuthCommand } from "./create-auth-command.js";
import { createClientCommand } from "./create-client-command.js";
import { createCompletionCommand } from "./create-completion-command.js";
import { createServeCommand } from "./create-serve-command.js";
import { createSnapshotCommand } from "./create-snapshot-command.js";
import { createVersionCommand } from "./create-version-command.js";
import { describeError } from "./describe-error.js";
import { ExitCode, exitCodeFor } from "./exit-code.js";

// `keyquarry ... | head -1`: once the reader is gone nobody is left to tell, so stop quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") {
    throw error;
  }
  process.exit(ExitCode.ok);
});

const program = new Command("keyquarry")
  .description("An in-memory key-value store served over gRPC, gRPC-Web and Connect.")
  .version(version, "-V, --version", "print the version of this CLI")
  .configureHelp({ showGlobalOptions: true })
  .addCommand(createServeCommand())
  .addCommand(createClientCommand())
  .addCommand(createSnapshotCommand())
  .addCommand(createVersionCommand())
  .addCommand(createAuthCommand())
  .addCommand(createCompletionCommand());

/** Makes commander throw instead of exiting, on `command` and every subcommand, so the exit status is ours. */
function throwInsteadOfExit(command: Command): void {
  command.exitOverride();
  command.commands.forEach(throwInsteadOfExit);
}
throwInsteadOfExit(program);

try {
  await program.parseAsync();
} catch (err) {
  // Commander has printed its usage errors (and help, version) itself.
  if (!(err instanceof CommanderError)) {
    process.stderr.write(`keyquarry: ${describeError(err)}\n`);
  }
  process.exitCode = exitCodeFor(err);
}
