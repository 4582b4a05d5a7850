import { gunzipSync } from "node:zlib";
import { parse as parseJson } from "lossless-json";
import { z } from "zod";
import type { KeyMetrics } from "../../store/key-metrics.js";
import { isReservedKey } from "../../store/reserved-keys.js";
import { OriginalSnapshotError } from "./original-snapshot-error.js";
import { parseGoTime } from "./parse-go-time.js";

// The `data` column of the Go keyquarry's `snapshots` table (BEHAVIOR.md §11.3),
// read as strictly as its Go types: times RFC 3339, durations integer ns,
// bytes padded standard base64, uint64 plain integers (beyond 2^53: parsed
// losslessly). Fields Go would ignore are ignored; absent ones take Go's zero
// value, as the original's reader does; a Go nil slice is written as null.

const maxUint64 = (1n << 64n) - 1n;
const maxInt64 = (1n << 63n) - 1n;

/** A type error's message: "is missing" for an absent field, else `must be …`. */
const expected = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is missing" : `must be ${what}`);

const uint64 = z.bigint({ error: expected("an integer") }).min(0n, { error: "must not be negative" }).max(maxUint64, { error: "must fit in 64 bits" });
const count = uint64.max(BigInt(Number.MAX_SAFE_INTEGER), { error: "is too large" }).transform(Number);
const duration = z.bigint({ error: expected("an integer number of nanoseconds") }).min(1n, { error: "must be positive" }).max(maxInt64, { error: "must fit in 64 bits" });
const text = z.string({ error: expected("a string") });

const time = text.transform((value, context) => {
  try {
    return parseGoTime(value);
  } catch (error) {
    context.issues.push({ code: "custom", message: (error as Error).message, input: value });
    return z.NEVER;
  }
});

const paddedBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Go's []byte: padded standard base64, or null for nil (an empty value). */
const bytes = text
  .regex(paddedBase64, { error: "must be padded standard base64" })
  .nullish()
  .transform((value) => new Uint8Array(Buffer.from(value ?? "", "base64")));

/** A Go slice: an array, or null (nil) or absent for an empty one. */
const list = <Item extends z.ZodType>(item: Item) =>
  z
    .array(item, { error: "must be an array or null" })
    .nullish()
    .transform((items) => items ?? []);

const keyRecord = z.object({
  key: text.min(1, { error: "must not be empty" }),
  value: bytes,
  content_type: text.default(""),
  hash: uint64.default(0n),
  created: time.default(0n),
  updated: time.default(0n),
  version: uint64.default(0n),
  created_by: text.default(""),
});

const revision = z.object({
  value: bytes,
  content_type: text.default(""),
  hash: uint64.default(0n),
  version: uint64,
  timestamp: time,
});

const lock = z.object({
  key: text,
  duration,
  client_id: text,
  created: time,
});

const reaper = z.object({
  key: text,
  lifespan: duration,
  lifespan_set: time,
});

const optionalTime = time.optional().transform((ns) => (ns === 0n ? undefined : ns));
/** A key's metrics as ours hold them. */
const keyMetric = z
  .object({
    access_count: count.default(0),
    first_accessed: optionalTime,
    last_accessed: optionalTime,
    set_count: count.default(0),
    first_set: optionalTime,
    last_set: optionalTime,
    lock_count: count.default(0),
    first_locked: optionalTime,
    last_locked: optionalTime,
  })
  .transform(
    (m): KeyMetrics => ({
      accessCount: m.access_count,
      firstAccessed: m.first_accessed,
      lastAccessed: m.last_accessed,
      setCount: m.set_count,
      firstSet: m.first_set,
      lastSet: m.last_set,
      lockCount: m.lock_count,
      firstLocked: m.first_locked,
      lastLocked: m.last_locked,
    }),
  );

const documentObject = z.object(
  {
    keys: list(keyRecord),
    clients: list(z.object({ client_id: text })),
    locks: list(lock),
    reapers: list(reaper),
    version: text.default("unknown"),
    metrics: z.record(text, keyMetric, { error: "must be an object or null" }).nullish(),
    history: z.record(text, list(revision), { error: "must be an object or null" }).nullish(),
  },
  { error: "must be a JSON object" },
);

/** The schema of an original snapshot document, with the cross-record rules of {@link checkReferences}. */
const originalDocumentSchema = documentObject.superRefine(checkReferences);

/** A parsed original snapshot document: times ns since the epoch (0n for Go's zero time), durations ns, values bytes. */
export type OriginalDocument = z.output<typeof originalDocumentSchema>;

/** One key of an {@link OriginalDocument}. */
export type OriginalKey = OriginalDocument["keys"][number];

/**
 * The original wrote each key, lock and lifespan once and never a reserved
 * key; a document that breaks this did not come from it intact (the
 * original itself stopped loading keys at a duplicate).
 */
function checkReferences(document: z.output<typeof documentObject>, context: z.RefinementCtx): void {
  for (const field of ["keys", "locks", "reapers"] as const) {
    const seen = new Set<string>();
    document[field].forEach(({ key }, index) => {
      if (seen.has(key)) {
        context.addIssue({ code: "custom", path: [field, index, "key"], message: `duplicate key ${JSON.stringify(key)}` });
      }
      if (isReservedKey(key)) {
        context.addIssue({ code: "custom", path: [field, index, "key"], message: `reserved key ${JSON.stringify(key)} (the original never saved one)` });
      }
      seen.add(key);
    });
  }
}

/** Issues reported at most, so that a document wrong everywhere gives a readable message. */
const maxIssues = 5;

/**
 * Parses a snapshot document of the original: JSON bytes, gzip-compressed
 * or not (told apart by gzip's magic bytes), or JSON text (a PostgreSQL
 * JSONB column). Throws an {@link OriginalSnapshotError} naming the problem
 * and its place (e.g. `keys[2].created: invalid time "yesterday"`).
 */
export function parseOriginalDocument(data: Uint8Array | string): OriginalDocument {
  const json = typeof data === "string" ? data : decodeText(data);
  let value: unknown;
  try {
    // Integers as bigint (uint64 hashes exceed 2^53), anything else as number (refused where integers belong).
    value = parseJson(json, null, (number) => (/^-?\d+$/.test(number) ? BigInt(number) : Number(number)));
  } catch (error) {
    throw new OriginalSnapshotError(`malformed snapshot document: not JSON (${(error as Error).message})`);
  }
  const result = originalDocumentSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues;
    const shown = issues.slice(0, maxIssues).map((issue) => `${pathText(issue.path)}: ${issue.message}`);
    const more = issues.length > maxIssues ? `; and ${issues.length - maxIssues} more` : "";
    throw new OriginalSnapshotError(`malformed snapshot document: ${shown.join("; ")}${more}`);
  }
  return result.data;
}

/** The document's bytes as text, gunzipped first if they start with gzip's magic bytes. */
function decodeText(data: Uint8Array): string {
  let bytes = data;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      bytes = gunzipSync(data);
    } catch (error) {
      throw new OriginalSnapshotError(`malformed snapshot document: damaged gzip data (${(error as Error).message})`);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new OriginalSnapshotError("malformed snapshot document: neither JSON text (not UTF-8) nor gzip-compressed JSON");
  }
}

/** `keys[2].created`, or `(document)` for the whole. */
function pathText(path: readonly PropertyKey[]): string {
  let result = "";
  for (const part of path) {
    result += typeof part === "number" ? `[${part}]` : `${result === "" ? "" : "."}${String(part)}`;
  }
  return result === "" ? "(document)" : result;
}
