import { Argument, Command, Option } from "commander";
import { roles, type Role } from "../auth/identity.js";

/**
 * Creates `keyquarry auth new-token <id>`: prints a fresh random token, then
 * the entry to paste into the identities file (auth.file) under
 * `identities:`; the file holds only the token's SHA-256. Give the token to
 * the client, then reload the server (SIGHUP).
 */
export function createAuthCommand(): Command {
  const command = new Command("auth").description("manage the identities of servers with auth on");
  command
    .command("new-token")
    .description("print a new random token and the identities file entry that accepts it")
    .addArgument(new Argument("<id>", "identity id: the client id its calls run as"))
    .addOption(new Option("--role <role>", "what the identity may do").choices(roles).default("readonly"))
    .addOption(
      new Option("--prefix <prefix>", "limit the identity to keys with this prefix (repeatable)").argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      ),
    )
    .action(async (id: string, options: { role: Role; prefix?: string[] }) => {
      const { newToken } = await import("../auth/new-token.js");
      const { token, entry } = newToken(id, options.role, options.prefix ?? []);
      process.stdout.write(
        `# the token (give it to the client; it is shown only once):\n${token}\n` +
          `# the entry for the identities file, under "identities:" (then send the server SIGHUP):\n${entry}`,
      );
    });
  return command;
}
