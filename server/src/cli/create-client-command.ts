import { Command } from "commander";
import { clientCommands, type ClientCommand } from "./client-commands.js";
import { addClientOptions, clientFor, type ClientOptions } from "./client-options.js";
import { indentOption } from "./option-parsers.js";

/**
 * Creates the `keyquarry client` command with one subcommand per entry of
 * {@link clientCommands}.
 *
 * The global options live on `client` only. Commander lets a command pick its
 * own options out of the arguments after a subcommand name too (as long as
 * positional options are not enabled), which is what makes both
 * `client --indent 2 inspect foo` and `client inspect foo --indent 2` work.
 */
export function createClientCommand(): Command {
  const command = addClientOptions(new Command("client").description("run a command against a keyquarry server")).addOption(
    indentOption(),
  );
  for (const spec of clientCommands) {
    command.addCommand(createSubcommand(spec));
  }
  return command;
}

function createSubcommand(spec: ClientCommand): Command {
  const subcommand = new Command(spec.name).description(spec.description).aliases(spec.aliases ?? []);
  for (const argument of spec.arguments ?? []) {
    subcommand.addArgument(argument);
  }
  for (const option of spec.options ?? []) {
    subcommand.addOption(option);
  }
  return subcommand.action(async () => {
    const global = subcommand.optsWithGlobals<ClientOptions & { indent: number }>();
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    if (spec.streaming) {
      process.once("SIGINT", interrupt);
    }
    try {
      const result = spec.run({
        client: clientFor(global),
        connection: global,
        args: subcommand.processedArgs,
        options: subcommand.opts(),
        signal: controller.signal,
      });
      for await (const output of Symbol.asyncIterator in result ? result : [await result]) {
        process.stdout.write(output.render(global.indent));
        if (output.exitCode !== undefined) {
          process.exitCode = output.exitCode;
        }
      }
    } catch (error) {
      // Ctrl-C is how a streaming command is meant to end.
      if (!controller.signal.aborted) {
        throw error;
      }
    } finally {
      process.off("SIGINT", interrupt);
    }
  });
}
