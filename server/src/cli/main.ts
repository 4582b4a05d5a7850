// Entry point of the `keyquarry` command (see bin/keyquarry.js).
import { Command } from "commander";
import { createClientCommand } from "./create-client-command.js";
import { createServeCommand } from "./create-serve-command.js";
import { createSnapshotCommand } from "./create-snapshot-command.js";
import { describeError } from "./describe-error.js";

const program = new Command("keyquarry")
  .description("An in-memory key-value store served over gRPC, gRPC-Web and Connect.")
  .configureHelp({ showGlobalOptions: true })
  .addCommand(createServeCommand())
  .addCommand(createClientCommand())
  .addCommand(createSnapshotCommand());

try {
  await program.parseAsync();
} catch (err) {
  // Commander reports usage errors itself; this catches failed commands.
  process.stderr.write(`keyquarry: ${describeError(err)}\n`);
  process.exitCode = 1;
}
