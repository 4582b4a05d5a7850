import { Code, ConnectError } from "@connectrpc/connect";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { CliError, ExitCode, exitCodeFor } from "./exit-code.js";

/** A Node system error as connect-node wraps it (the cause of a ConnectError). */
function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe("exitCodeFor", () => {
  it("gives 1 for NOT_FOUND", () => {
    expect(exitCodeFor(new ConnectError("Key not found", Code.NotFound))).toBe(ExitCode.notFound);
  });

  it("gives 2 for commander's usage errors, 0 after help and version", () => {
    expect(exitCodeFor(new CommanderError(1, "commander.unknownCommand", "error: unknown command"))).toBe(ExitCode.usage);
    expect(exitCodeFor(new CommanderError(1, "commander.invalidArgument", "error: invalid"))).toBe(ExitCode.usage);
    expect(exitCodeFor(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"))).toBe(ExitCode.ok);
    expect(exitCodeFor(new CommanderError(0, "commander.version", "0.1.0"))).toBe(ExitCode.ok);
  });

  it("gives 3 when there is no server to talk to", () => {
    expect(exitCodeFor(new ConnectError("connect ECONNREFUSED", Code.Unavailable))).toBe(ExitCode.unreachable);
    expect(exitCodeFor(new ConnectError("the operation timed out", Code.DeadlineExceeded))).toBe(ExitCode.unreachable);
    // A failed TLS handshake reaches us as ABORTED caused by a reset socket; a bad certificate by its TLS code.
    const handshake = new ConnectError("socket disconnected", Code.Aborted, undefined, undefined, systemError("ECONNRESET"));
    expect(exitCodeFor(handshake)).toBe(ExitCode.unreachable);
    const certificate = new ConnectError("self-signed", Code.Unknown, undefined, undefined, systemError("DEPTH_ZERO_SELF_SIGNED_CERT"));
    expect(exitCodeFor(certificate)).toBe(ExitCode.unreachable);
  });

  it("gives 4 for the server's other refusals and anything else", () => {
    expect(exitCodeFor(new ConnectError("Key is locked", Code.PermissionDenied))).toBe(ExitCode.failed);
    expect(exitCodeFor(new ConnectError("aborted", Code.Aborted))).toBe(ExitCode.failed);
    expect(exitCodeFor(new Error("unable to read CA certificate file"))).toBe(ExitCode.failed);
  });

  it("gives a CliError's own code", () => {
    expect(exitCodeFor(new CliError("no snapshot database at x", ExitCode.notFound))).toBe(1);
  });
});
