import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyquarry } from "./kit/cli-process.js";
import { tokenSha256, writeIdentitiesFile } from "./kit/identities.js";
import { killServeProcesses, ServeExitedError, spawnServe, type ServeProcess } from "./kit/spawn-serve.js";

/** Waits until the server's log holds `text` (failing after 10 s with the log). */
async function logged(serve: ServeProcess, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!serve.stdout().includes(text)) {
    if (Date.now() > deadline) {
      throw new Error(`the server did not log ${JSON.stringify(text)}:\n${serve.stdout()}${serve.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The token and the identities file entry `keyquarry auth new-token` printed. */
function parseNewToken(stdout: string): { token: string; entry: string } {
  const [, token, , ...entry] = stdout.split("\n");
  return { token: token!, entry: entry.join("\n") };
}

describe("keyquarry serve with auth, and the CLI's credentials", () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-auth-cli-"));
    file = join(dir, "identities.yaml");
  });
  afterEach(async () => {
    await killServeProcesses();
    await rm(dir, { recursive: true, force: true });
  });

  const serveWithAuth = () => spawnServe({ env: { KEYQUARRY_AUTH_ENABLED: "true", KEYQUARRY_AUTH_FILE: file } });
  const client = (serve: ServeProcess, ...args: string[]) => keyquarry(["client", "--address", new URL(serve.url).host, ...args]);

  it("warns at start-up, with auth off, that client ids are self-declared and privileged_client_id no secret", async () => {
    const serve = await spawnServe({ args: ["--privileged-client-id", "boss"] });
    expect(serve.stdout()).toMatch(/WARN: auth is off: client ids are self-declared .* privileged_client_id is no secret \(WatchStream shows every event's client id to every watcher\)/);
  });

  it("prints with `auth new-token` a token and an entry that, pasted into the file, let the CLI in with --token or KEYQUARRY_TOKEN", async () => {
    const printed = await keyquarry(["auth", "new-token", "billing-worker", "--role", "readwrite", "--prefix", "billing/", "--prefix", "invoices/"]);
    expect(printed).toMatchObject({ code: 0, stderr: "" });
    const { token, entry } = parseNewToken(printed.stdout);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(entry).toBe(
      `- id: billing-worker\n  token_sha256: ${tokenSha256(token)}\n  role: readwrite\n  key_prefixes:\n    - billing/\n    - invoices/\n`,
    );
    const other = parseNewToken((await keyquarry(["auth", "new-token", "reader"])).stdout);
    expect(other.entry).toContain("role: readonly");
    expect(other.token).not.toBe(token);

    await writeFile(file, `identities:\n${entry}${other.entry}`);
    const serve = await serveWithAuth();
    expect(serve.stdout()).toContain('NOTICE: auth is on {"file":');
    expect(serve.stdout()).not.toContain("auth is off");
    expect(await client(serve, "--token", token, "set", "billing/1", "v")).toMatchObject({ code: 0, stdout: '{"success":true,"isNew":true}\n' });
    const fromEnv = await keyquarry(["client", "--address", new URL(serve.url).host, "get", "billing/1"], "", { KEYQUARRY_TOKEN: token });
    expect(fromEnv).toEqual({ code: 0, stdout: "v", stderr: "" });
    const outside = await client(serve, "--token", token, "set", "payroll", "v");
    expect(outside.stderr).toBe(
      'keyquarry: permission_denied: Set needs the write permission on key "payroll", which identity "billing-worker" lacks (key_prefixes ["billing/","invoices/"])\n',
    );
    expect((await client(serve, "--token", other.token, "set", "billing/2", "v")).stderr).toContain("needs the write permission");
    const anonymous = await client(serve, "get", "billing/1");
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toContain("keyquarry: unauthenticated: credentials required");
  });

  it("does not start with an identities file that is not valid, saying where", async () => {
    await writeFile(file, "identities:\n  - id: worker\n    role: writer\n");
    const failed = await serveWithAuth().catch((error: unknown) => error as ServeExitedError);
    expect(failed).toBeInstanceOf(ServeExitedError);
    expect((failed as ServeExitedError).exit.code).toBe(1);
    expect((failed as ServeExitedError).stderr).toContain('identities.yaml:3: identity "worker": role must be one of admin, readwrite, readonly');
  });

  it("reloads the identities file on SIGHUP, and keeps the old identities when the new file is bad", async () => {
    await writeIdentitiesFile(file, [{ id: "worker", role: "readwrite", tokens: ["old-token"] }]);
    const serve = await spawnServe({ args: ["--auth", "--auth-file", file] });
    expect((await client(serve, "--token", "old-token", "set", "a", "1")).code).toBe(0);
    expect((await client(serve, "--token", "new-token", "get", "a")).stderr).toContain("unauthenticated: unknown token");

    // Rotation: the identity accepts both tokens for a while.
    await writeIdentitiesFile(file, [{ id: "worker", role: "readwrite", tokens: ["old-token", "new-token"] }]);
    serve.child.kill("SIGHUP");
    await logged(serve, 'identities reloaded {"file":');
    expect(await client(serve, "--token", "new-token", "get", "a")).toMatchObject({ code: 0, stdout: "1" });
    expect(await client(serve, "--token", "old-token", "get", "a")).toMatchObject({ code: 0, stdout: "1" });

    await writeFile(file, `identities:\n  - id: worker\n    token_sha256: ${tokenSha256("newer-token")}\n    role: superuser\n`);
    serve.child.kill("SIGHUP");
    await logged(serve, "identities not reloaded");
    expect(serve.stdout()).toContain('identities.yaml:4: identity "worker": role must be one of admin, readwrite, readonly');
    expect(await client(serve, "--token", "new-token", "get", "a")).toMatchObject({ code: 0, stdout: "1" });
    expect((await client(serve, "--token", "newer-token", "get", "a")).stderr).toContain("unknown token");
    // Neither a token nor a digest reaches the log.
    for (const secret of ["old-token", "new-token", "newer-token"]) {
      expect(serve.stdout() + serve.stderr()).not.toContain(secret);
      expect(serve.stdout() + serve.stderr()).not.toContain(tokenSha256(secret));
    }
    expect(serve.child.exitCode).toBeNull();
  });
});
