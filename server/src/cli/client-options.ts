import { Option, type Command } from "commander";
import {
  createKeyquarryClient,
  type KeyquarryClient,
  type KeyquarryClientOptions,
  type KeyquarryProtocol,
} from "@keyquarry/client-node";
import { CliError, ExitCode } from "./exit-code.js";
import { parseTimeout } from "./option-parsers.js";

/** The options that say how to reach the server (`keyquarry client`, `keyquarry version`). */
export interface ClientOptions {
  address: string;
  clientId?: string;
  tls?: boolean;
  caCertfile?: string;
  insecure?: boolean;
  token?: string;
  cert?: string;
  key?: string;
  protocol: KeyquarryProtocol;
  timeout?: number;
}

/** Adds the {@link ClientOptions} to `command`. */
export function addClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option("-a, --address <addr>", "server: host:port, :port, host, http(s)://host:port or unix:///path")
        .env("KEYQUARRY_CLIENT_ADDRESS")
        .default("localhost:33969"),
    )
    .addOption(
      new Option("--client-id <id>", "client id sent with every call (default: <user>@<hostname>; none with --token or --cert)").env(
        "KEYQUARRY_CLIENT_ID",
      ),
    )
    .addOption(new Option("--token <token>", "authenticate with this token (servers with auth on)").env("KEYQUARRY_TOKEN"))
    .addOption(new Option("--cert <file>", "use TLS and authenticate with this client certificate (PEM; needs --key)"))
    .addOption(new Option("--key <file>", "the client certificate's private key (PEM)"))
    .addOption(new Option("--tls", "use TLS, trusting the system's CA certificates"))
    .addOption(
      new Option("--no-tls", "use plaintext (the default, unless the address is https://...)").conflicts([
        "caCertfile",
        "insecure",
        "cert",
      ]),
    )
    .addOption(new Option("--ca-certfile <file>", "use TLS, trusting this CA certificate (PEM)"))
    .addOption(new Option("--insecure", "use TLS without verifying the server certificate"))
    .addOption(
      new Option("--protocol <protocol>", "wire protocol")
        .choices(["grpc", "grpc-web", "connect"])
        .default("grpc"),
    )
    .addOption(new Option("--timeout <duration>", "timeout per call, e.g. 500ms, 10s").argParser(parseTimeout));
}

/** A client for the server the options name; `timeoutMs` applies when `--timeout` is not given. */
export function clientFor(options: ClientOptions, timeoutMs?: number): KeyquarryClient {
  return createKeyquarryClient(options.address, { ...sdkOptionsFor(options), timeoutMs: options.timeout ?? timeoutMs });
}

/** The SDK's options for the {@link ClientOptions} (all but the timeout). */
export function sdkOptionsFor(options: ClientOptions): KeyquarryClientOptions {
  const { tls, caCertfile, insecure, cert, key } = options;
  if ((cert === undefined) !== (key === undefined)) {
    throw new CliError(cert === undefined ? "--key needs --cert" : "--cert needs --key", ExitCode.usage);
  }
  const wantsTls = tls === true || caCertfile !== undefined || insecure === true || cert !== undefined;
  return {
    clientId: options.clientId,
    token: options.token,
    protocol: options.protocol,
    tls: tls === false ? false : wantsTls ? { caFile: caCertfile, insecure, certFile: cert, keyFile: key } : undefined,
  };
}
