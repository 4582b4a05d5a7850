import { Argument, Command } from "commander";
import { completionScript, completionShells, type CompletionShell } from "./completion-script.js";

/** Creates `keyquarry completion <shell>`, which prints the completion script of the whole `keyquarry` tree. */
export function createCompletionCommand(): Command {
  const command: Command = new Command("completion")
    .description("print a shell completion script (bash: source <(keyquarry completion bash) in ~/.bashrc)")
    .addArgument(new Argument("<shell>", "the shell").choices(completionShells))
    .action((shell: CompletionShell) => {
      let root = command;
      while (root.parent !== null) {
        root = root.parent;
      }
      process.stdout.write(completionScript(root, shell));
    });
  return command;
}
