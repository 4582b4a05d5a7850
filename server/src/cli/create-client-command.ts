import { Command, Option } from "commander";
import {
  createKeyquarryClient,
  type KeyquarryClientOptions,
  type KeyquarryProtocol,
} from "@keyquarry/client-node";
import { clientCommands, type ClientCommand } from "./client-commands.js";
import { parseIndent, parseTimeout } from "./option-parsers.js";

/** Options of `keyquarry client`, valid before or after the subcommand. */
interface GlobalOptions {
  address: string;
  clientId?: string;
  tls?: boolean;
  caCertfile?: string;
  insecure?: boolean;
  protocol: KeyquarryProtocol;
  indent: number;
  timeout?: number;
}

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
  const command = new Command("client")
    .description("run a command against a keyquarry server")
    .addOption(
      new Option("-a, --address <addr>", "server: host:port, :port, host, http(s)://host:port or unix:///path")
        .env("KEYQUARRY_CLIENT_ADDRESS")
        .default("localhost:33969"),
    )
    .addOption(
      new Option("--client-id <id>", "client id sent with every call (default: <user>@<hostname>)").env(
        "KEYQUARRY_CLIENT_ID",
      ),
    )
    .addOption(new Option("--tls", "use TLS, trusting the system's CA certificates"))
    .addOption(
      new Option("--no-tls", "use plaintext (the default, unless the address is https://...)").conflicts([
        "caCertfile",
        "insecure",
      ]),
    )
    .addOption(new Option("--ca-certfile <file>", "use TLS, trusting this CA certificate (PEM)"))
    .addOption(new Option("--insecure", "use TLS without verifying the server certificate"))
    .addOption(
      new Option("--protocol <protocol>", "wire protocol")
        .choices(["grpc", "grpc-web", "connect"])
        .default("grpc"),
    )
    .addOption(new Option("--indent <n>", "indent JSON output by n spaces").argParser(parseIndent).default(0))
    .addOption(new Option("--timeout <duration>", "timeout per call, e.g. 500ms, 10s").argParser(parseTimeout));
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
    const global = subcommand.optsWithGlobals<GlobalOptions>();
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    if (spec.streaming) {
      process.once("SIGINT", interrupt);
    }
    try {
      const result = spec.run({
        client: createKeyquarryClient(global.address, clientOptions(global)),
        args: subcommand.processedArgs,
        options: subcommand.opts(),
        signal: controller.signal,
      });
      if (Symbol.asyncIterator in result) {
        for await (const output of result) {
          process.stdout.write(output(global.indent));
        }
      } else {
        process.stdout.write((await result)(global.indent));
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

function clientOptions(global: GlobalOptions): KeyquarryClientOptions {
  const { tls, caCertfile, insecure } = global;
  const wantsTls = tls === true || caCertfile !== undefined || insecure === true;
  return {
    clientId: global.clientId,
    protocol: global.protocol,
    tls: tls === false ? false : wantsTls ? { caFile: caCertfile, insecure } : undefined,
    timeoutMs: global.timeout,
  };
}
