import { createHash, randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { Role } from "./identity.js";

/** A fresh token and the identities file entry that accepts it. */
export interface NewToken {
  /** 32 random bytes, base64url: what the client sends as `authorization: Bearer <token>`. */
  token: string;
  /** The YAML list item to paste under `identities:` (it holds the token's SHA-256, not the token). */
  entry: string;
}

/** Makes a random token for identity `id` with `role` and, if any, `keyPrefixes`. */
export function newToken(id: string, role: Role, keyPrefixes: readonly string[]): NewToken {
  const token = randomBytes(32).toString("base64url");
  const identity = {
    id,
    token_sha256: createHash("sha256").update(token).digest("hex"),
    role,
    ...(keyPrefixes.length === 0 ? {} : { key_prefixes: [...keyPrefixes] }),
  };
  return { token, entry: stringify([identity]) };
}
