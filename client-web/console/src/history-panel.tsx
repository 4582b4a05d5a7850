import type { KeyquarryWebClient } from "@keyquarry/client-web";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { diffLines } from "diff";
import { useEffect, useState } from "react";
import { describeError } from "./describe-error.js";
import { decodeText, hexDump, prettyJson } from "./value-format.js";

/** Versions listed at most (the server keeps revision_limit of them, 5 by default). */
const versionsShown = 10n;

interface Revision {
  version: bigint;
  value: Uint8Array;
  written: string;
}

interface Props {
  client: KeyquarryWebClient;
  keyName: string;
  /** The key's current version and value. */
  version: bigint;
  value: Uint8Array | undefined;
  /** Sets the key back to an old value (a new version), with if_version. */
  onRestore(value: Uint8Array): Promise<void>;
  onError(message: string): void;
}

/** Revision history: the versions the server still holds, a line diff of one against the current value, and "restore". */
export function HistoryPanel({ client, keyName, version, value, onRestore, onError }: Props) {
  const [revisions, setRevisions] = useState<Revision[]>([]);
  const [note, setNote] = useState<string>();
  const [chosen, setChosen] = useState<bigint>();

  useEffect(() => {
    let current = true;
    const from = version > versionsShown ? version - versionsShown + 1n : 1n;
    const versions = Array.from({ length: Number(version - from + 1n) }, (_, i) => from + BigInt(i)).reverse();
    void Promise.allSettled(versions.map((v) => client.getRevision({ key: keyName, version: v }))).then((results) => {
      if (!current) {
        return;
      }
      const found: Revision[] = [];
      let refusal: unknown;
      results.forEach((result, i) => {
        if (result.status === "fulfilled") {
          const written = result.value.timestamp === undefined ? "" : timestampDate(result.value.timestamp).toLocaleString();
          found.push({ version: versions[i]!, value: result.value.value, written });
        } else {
          refusal ??= result.reason;
        }
      });
      setRevisions(found);
      setNote(found.length === 0 && refusal !== undefined ? describeError("Reading the history", refusal) : undefined);
    });
    return () => {
      current = false;
    };
  }, [client, keyName, version]);

  const selected = revisions.find((r) => r.version === chosen);
  return (
    <section className="panel" aria-labelledby="history-heading">
      <h3 id="history-heading">History</h3>
      {note !== undefined && <p className="muted">{note}</p>}
      <ol className="history" aria-label="Versions">
        {revisions.map((revision) => (
          <li key={String(revision.version)}>
            <button
              type="button"
              aria-pressed={revision.version === chosen}
              onClick={() => setChosen(revision.version === chosen ? undefined : revision.version)}
            >
              v{String(revision.version)}
            </button>{" "}
            <span className="muted">{revision.written}</span>
            {revision.version === version && <span className="badge">current</span>}
          </li>
        ))}
      </ol>
      {selected !== undefined && value !== undefined && (
        <div data-testid="history-diff">
          <p>
            Changes from v{String(selected.version)} to the current v{String(version)}:
          </p>
          <Diff before={selected.value} after={value} />
          {selected.version !== version && (
            <button
              type="button"
              onClick={() => void onRestore(selected.value).catch((error) => onError(describeError("Restore", error)))}
            >
              Restore v{String(selected.version)}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

/** A line diff of two values: pretty-printed when both are JSON, as text when both are UTF-8, else of their hex dumps. */
function Diff({ before, after }: { before: Uint8Array; after: Uint8Array }) {
  const a = decodeText(before);
  const b = decodeText(after);
  const parts =
    a === undefined || b === undefined ? diffLines(hexDump(before), hexDump(after)) : diffLines(...bothPretty(a, b));
  return (
    <pre className="diff" tabIndex={0}>
      {parts.map((part, i) => (
        <span key={i} className={part.added ? "added" : part.removed ? "removed" : undefined}>
          {part.value
            .replace(/\n$/, "")
            .split("\n")
            .map((line) => `${part.added ? "+ " : part.removed ? "- " : "  "}${line}`)
            .join("\n") + "\n"}
        </span>
      ))}
    </pre>
  );
}

/** Both texts pretty-printed when both are JSON (one-line documents then differ line by line), else as they are. */
function bothPretty(a: string, b: string): [string, string] {
  const prettyA = prettyJson(a);
  const prettyB = prettyJson(b);
  return prettyA === undefined || prettyB === undefined ? [a, b] : [`${prettyA}\n`, `${prettyB}\n`];
}
