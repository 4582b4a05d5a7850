import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdentitiesFileError, loadIdentitiesFile, parseIdentities } from "./identities-file.js";

const digest = (token: string) => createHash("sha256").update(token).digest("hex");
const a = digest("a");
const b = digest("b");

/** The message parseIdentities throws for `text`. */
function refusal(text: string): string {
  try {
    parseIdentities(text, "ids.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(IdentitiesFileError);
    return (error as Error).message;
  }
  throw new Error("expected the file to be refused");
}

describe("parseIdentities", () => {
  it("reads identities, their token digests (one or several) and key prefixes", () => {
    const entries = parseIdentities(
      `identities:\n  - id: w\n    token_sha256: ${a}\n    role: readwrite\n    key_prefixes: ["x/"]\n` +
        `  - id: r\n    token_sha256: [${b.toUpperCase()}, ${digest("c")}]\n    role: readonly\n  - id: cert-only\n    role: admin\n`,
      "ids.yaml",
    );
    expect(entries.map((entry) => entry.identity)).toEqual([
      { id: "w", role: "readwrite", keyPrefixes: ["x/"] },
      { id: "r", role: "readonly", keyPrefixes: undefined },
      { id: "cert-only", role: "admin", keyPrefixes: undefined },
    ]);
    expect(entries.map((entry) => entry.tokenHashes.map((hash) => hash.toString("hex")))).toEqual([[a], [b, digest("c")], []]);
  });

  it("names the file, the line and the identity of what is wrong, never echoing a digest", () => {
    expect(refusal("identities: [")).toMatch(/^ids\.yaml:1: not valid YAML: /);
    expect(refusal("users: []\n")).toBe("ids.yaml:1: expected a mapping with one key, identities");
    expect(refusal("identities: {}\n")).toBe("ids.yaml:1: identities must be a list");
    expect(refusal("identities:\n  - just-a-name\n")).toBe("ids.yaml:2: identity #1 must be a mapping (id, token_sha256, role, key_prefixes)");
    expect(refusal(`identities:\n  - id: w\n    role: readwrite\n    tokens: ${a}\n`)).toBe(
      'ids.yaml:4: identity "w": unknown field "tokens" (expected id, token_sha256, role, key_prefixes)',
    );
    expect(refusal("identities:\n  - role: admin\n")).toBe("ids.yaml:2: identity #1: id must be a non-empty string");
    expect(refusal("identities:\n  - id: keyquarry\n    role: admin\n")).toBe('ids.yaml:2: identity "keyquarry": the id "keyquarry" is reserved for the server');
    expect(refusal("identities:\n  - id: w\n    role: root\n")).toBe('ids.yaml:3: identity "w": role must be one of admin, readwrite, readonly');
    expect(refusal("identities:\n  - id: w\n    role: admin\n    token_sha256: abc123\n")).toBe(
      'ids.yaml:4: identity "w": token_sha256 must be the hex SHA-256 of a token (64 hex digits), or a list of them',
    );
    expect(refusal("identities:\n  - id: w\n    role: admin\n    key_prefixes: []\n")).toBe(
      'ids.yaml:4: identity "w": key_prefixes must be a non-empty list of strings (leave it out for every key)',
    );
    expect(refusal("identities:\n  - id: w\n    role: admin\n  - id: w\n    role: readonly\n")).toBe(
      'ids.yaml:4: identity "w": the id is used twice (give one identity several token_sha256 values instead)',
    );
    const twice = refusal(`identities:\n  - id: w\n    role: admin\n    token_sha256: ${a}\n  - id: v\n    role: readonly\n    token_sha256: ${a}\n`);
    expect(twice).toBe('ids.yaml:7: identity "v": a token_sha256 value is used twice (a token must name one identity)');
  });

  it("reports a file it cannot read, by name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyquarry-ids-"));
    try {
      await expect(loadIdentitiesFile(join(dir, "missing.yaml"))).rejects.toThrow(/^cannot read the identities file .*missing\.yaml: ENOENT/);
      await writeFile(join(dir, "ok.yaml"), `identities:\n  - id: w\n    role: readwrite\n    token_sha256: ${a}\n`);
      expect(await loadIdentitiesFile(join(dir, "ok.yaml"))).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
