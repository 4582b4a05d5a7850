import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { serverClientId } from "../store/store-event.js";
import { roles, type Identity, type Role } from "./identity.js";

/** One identity of the file and the SHA-256 digests of the tokens it may present (several while a token is rotated). */
export interface IdentityEntry {
  readonly identity: Identity;
  readonly tokenHashes: readonly Buffer[];
}

/** The identities file could not be read or is not valid; the message names the file, the line and the identity. */
export class IdentitiesFileError extends Error {
  override readonly name = "IdentitiesFileError";
}

const fields = new Set(["id", "token_sha256", "role", "key_prefixes"]);
const sha256Hex = /^[0-9a-f]{64}$/i;

/** Reads and checks the identities file (auth.file). */
export async function loadIdentitiesFile(file: string): Promise<IdentityEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new IdentitiesFileError(`cannot read the identities file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseIdentities(text, file);
}

/**
 * Checks an identities file's text against its schema: a mapping with
 * `identities`, a list of { id, token_sha256 (hex digest, or a list of them),
 * role, key_prefixes (optional) }. Ids are unique, and so is each digest (a
 * token names one identity). An identity without token_sha256 can only
 * authenticate with a client certificate. Never echoes a digest.
 */
export function parseIdentities(text: string, file: string): IdentityEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const at = (node: Node | null | undefined) => `${file}:${node?.range ? lines.linePos(node.range[0]).line : 1}`;
  const fail = (node: Node | null | undefined, message: string): never => {
    throw new IdentitiesFileError(`${at(node)}: ${message}`);
  };
  if (doc.errors.length > 0) {
    const [error] = doc.errors;
    throw new IdentitiesFileError(`${file}:${error!.linePos?.[0].line ?? 1}: not valid YAML: ${error!.message.split("\n")[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root) || root.items.some((pair) => !isScalar(pair.key) || pair.key.value !== "identities")) {
    return fail(root, "expected a mapping with one key, identities");
  }
  const list = root.get("identities", true);
  if (!isSeq(list)) {
    return fail(list as Node | undefined, "identities must be a list");
  }
  const entries: IdentityEntry[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  list.items.forEach((item, index) => {
    const node = item as Node;
    if (!isMap(node)) {
      return fail(node, `identity #${index + 1} must be a mapping (id, token_sha256, role, key_prefixes)`);
    }
    const id = node.get("id");
    const who = typeof id === "string" ? `identity ${JSON.stringify(id)}` : `identity #${index + 1}`;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!fields.has(key)) {
        fail(pair.key as Node, `${who}: unknown field ${JSON.stringify(key)} (expected id, token_sha256, role, key_prefixes)`);
      }
    }
    if (typeof id !== "string" || id === "") {
      return fail(node, `${who}: id must be a non-empty string`);
    }
    if (id === serverClientId) {
      return fail(node, `${who}: the id ${JSON.stringify(serverClientId)} is reserved for the server`);
    }
    if (ids.has(id)) {
      return fail(node, `${who}: the id is used twice (give one identity several token_sha256 values instead)`);
    }
    ids.add(id);
    const role = node.get("role");
    if (typeof role !== "string" || !roles.includes(role as Role)) {
      return fail(node.get("role", true) as Node | undefined ?? node, `${who}: role must be one of ${roles.join(", ")}`);
    }
    const tokenNode = node.get("token_sha256", true) as Node | undefined;
    const tokens = tokenNode === undefined ? [] : (tokenNode.toJSON() as unknown);
    const tokenList = Array.isArray(tokens) ? tokens : [tokens];
    if (!tokenList.every((token) => typeof token === "string" && sha256Hex.test(token))) {
      return fail(tokenNode, `${who}: token_sha256 must be the hex SHA-256 of a token (64 hex digits), or a list of them`);
    }
    for (const token of tokenList as string[]) {
      const digest = token.toLowerCase();
      if (hashes.has(digest)) {
        return fail(tokenNode, `${who}: a token_sha256 value is used twice (a token must name one identity)`);
      }
      hashes.add(digest);
    }
    const prefixNode = node.get("key_prefixes", true) as Node | undefined;
    const prefixes = prefixNode?.toJSON() as unknown;
    if (
      prefixes !== undefined &&
      (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every((prefix) => typeof prefix === "string"))
    ) {
      return fail(prefixNode, `${who}: key_prefixes must be a non-empty list of strings (leave it out for every key)`);
    }
    entries.push({
      identity: { id, role: role as Role, keyPrefixes: prefixes as string[] | undefined },
      tokenHashes: (tokenList as string[]).map((token) => Buffer.from(token, "hex")),
    });
  });
  return entries;
}
