import type { Interceptor } from "@connectrpc/connect";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import type { Role } from "../../src/auth/identity.js";

/** An identity for a test's identities file: its token is hashed into token_sha256. */
export interface TestIdentity {
  id: string;
  role: Role;
  /** Tokens it authenticates with (none: certificate only). */
  tokens?: string[];
  keyPrefixes?: string[];
}

/** The hex SHA-256 of a token, as token_sha256 holds it. */
export function tokenSha256(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Writes an identities file (auth.file) for `identities`. */
export async function writeIdentitiesFile(path: string, identities: TestIdentity[]): Promise<void> {
  const entries = identities.map(({ id, role, tokens, keyPrefixes }) => ({
    id,
    ...(tokens === undefined ? {} : { token_sha256: tokens.length === 1 ? tokenSha256(tokens[0]!) : tokens.map(tokenSha256) }),
    role,
    ...(keyPrefixes === undefined ? {} : { key_prefixes: keyPrefixes }),
  }));
  await writeFile(path, stringify({ identities: entries }));
}

/** Sends `authorization: Bearer <token>` on every call. */
export function withToken(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}
