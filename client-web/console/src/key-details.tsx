import { Code, ConnectError } from "@connectrpc/connect";
import { KeyEvent, type InspectResponse, type KeyquarryWebClient } from "@keyquarry/client-web";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, versionConflict } from "./describe-error.js";
import { HistoryPanel } from "./history-panel.js";
import { lifespanDeadline } from "./lifespan-deadline.js";
import { changesKey, removesKey, type EventFeed } from "./use-event-feed.js";
import { useNow } from "./use-now.js";
import { decodeText, formatBytes, secondsLeft, valueKind } from "./value-format.js";
import { ValueView } from "./value-view.js";

/** A lock this page took: when it ends and its fencing token. */
export interface OwnLock {
  deadlineMs: number;
  fencingToken: bigint;
}

interface Props {
  client: KeyquarryWebClient;
  feed: EventFeed;
  keyName: string;
  ownLock: OwnLock | undefined;
  setOwnLock(key: string, lock: OwnLock | undefined): void;
  onError(message: string): void;
}

/** What the panel shows: the key as inspected (value left out while another client holds its lock). */
interface Loaded {
  info: InspectResponse;
  valueHidden: boolean;
}

/**
 * One key: its value by content type, an editor that writes with if_version
 * (a conflict says so), delete, lock and unlock with a live countdown and the
 * fencing token, the lifespan's countdown, key metrics and revision history.
 * Every event on the key reloads it.
 */
export function KeyDetails({ client, feed, keyName, ownLock, setOwnLock, onError }: Props) {
  const [loaded, setLoaded] = useState<Loaded>();
  const [gone, setGone] = useState<string>();
  const [lastEvent, setLastEvent] = useState<string>();
  const [draft, setDraft] = useState("");
  // The version the edit started from, while the draft has unsaved changes: a save writes only if
  // the key is still at that version, so a change made meanwhile by someone else is a conflict.
  const [editBase, setEditBase] = useState<bigint>();
  const editing = useRef(false);
  editing.current = editBase !== undefined;
  const [conflict, setConflict] = useState<string>();
  const [lockSeconds, setLockSeconds] = useState("10");
  const [lifespanSeconds, setLifespanSeconds] = useState("");

  const load = useCallback(async () => {
    try {
      let valueHidden = false;
      let info: InspectResponse;
      try {
        info = await client.inspect({ key: keyName, includeValue: true, includeMetrics: true });
      } catch (error) {
        if (ConnectError.from(error).code !== Code.PermissionDenied) {
          throw error;
        }
        // Locked by another client: everything but the value.
        info = await client.inspect({ key: keyName, includeMetrics: true });
        valueHidden = true;
      }
      setLoaded({ info, valueHidden });
      setGone(undefined);
      if (info.value !== undefined && !valueHidden && !editing.current) {
        const text = decodeText(info.value);
        setDraft((previous) => (text === undefined ? previous : text));
      }
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) {
        setGone("This key does not exist (any more).");
        setLoaded(undefined);
      } else {
        onError(describeError(`Inspect ${keyName}`, error));
      }
    }
  }, [client, keyName, onError]);

  useEffect(() => {
    setLoaded(undefined);
    setEditBase(undefined);
    setConflict(undefined);
    setLastEvent(undefined);
    void load();
  }, [load]);

  useEffect(
    () =>
      feed.subscribe((event) => {
        if (event.key !== keyName || !changesKey(event)) {
          return;
        }
        setLastEvent(`${KeyEvent[event.event]} by ${event.clientId} (revision ${event.revision})`);
        if (event.event === KeyEvent.UNLOCKED || removesKey(event)) {
          setOwnLock(keyName, undefined);
        }
        if (removesKey(event)) {
          setGone(`This key was ${KeyEvent[event.event]!.toLowerCase()} by ${event.clientId}.`);
          setLoaded(undefined);
        } else {
          void load();
        }
      }),
    [feed, keyName, load, setOwnLock],
  );

  const info = loaded?.info;
  const lifespanEnd = info === undefined ? undefined : lifespanDeadline(info);
  const now = useNow(ownLock !== undefined || lifespanEnd !== undefined);

  const run = async (action: string, call: () => Promise<unknown>) => {
    try {
      await call();
      return true;
    } catch (error) {
      onError(describeError(action, error));
      return false;
    }
  };

  const save = async (value: Uint8Array) => {
    if (info === undefined) {
      return;
    }
    setConflict(undefined);
    const seconds = Number(lifespanSeconds);
    const ifVersion = editBase ?? info.version;
    try {
      await client.set({
        key: keyName,
        value,
        ifVersion,
        lifespan: lifespanSeconds !== "" && seconds > 0 ? { seconds: BigInt(Math.round(seconds)) } : undefined,
      });
      setEditBase(undefined);
    } catch (error) {
      const mismatch = versionConflict(error);
      if (mismatch === undefined) {
        throw error;
      }
      setConflict(`Conflict: someone else changed this key since version ${ifVersion} (${mismatch}). Reload to see their value.`);
    }
  };

  if (gone !== undefined) {
    return (
      <section className="panel" aria-labelledby="details-heading">
        <h2 id="details-heading">{keyName}</h2>
        <p role="status">{gone}</p>
        {lastEvent !== undefined && <p className="muted">Last event: {lastEvent}</p>}
      </section>
    );
  }
  if (info === undefined) {
    return (
      <section className="panel" aria-labelledby="details-heading">
        <h2 id="details-heading">{keyName}</h2>
        <p className="muted">Loading…</p>
      </section>
    );
  }
  const editable = info.value === undefined || valueKind(info.contentType, info.value) !== "binary";
  return (
    <section className="panel key-details" aria-labelledby="details-heading">
      <h2 id="details-heading">{keyName}</h2>
      <dl className="facts">
        <dt>Version</dt>
        <dd data-testid="version">{String(info.version)}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(info.size)}</dd>
        <dt>Content type</dt>
        <dd>{info.contentType}</dd>
        <dt>Created</dt>
        <dd>{formatTime(info.created)}</dd>
        <dt>Lock</dt>
        <dd data-testid="lock-state">
          {ownLock !== undefined
            ? `Locked by you · fencing token ${ownLock.fencingToken} · ${secondsLeft(ownLock.deadlineMs, now)} left`
            : info.locked
              ? `Locked${info.fencingToken === undefined ? "" : ` · fencing token ${info.fencingToken}`}`
              : "Unlocked"}
        </dd>
        <dt>Lifespan</dt>
        <dd data-testid="lifespan">{lifespanEnd === undefined ? "none" : `expires in ${secondsLeft(lifespanEnd, now)}`}</dd>
      </dl>
      {lastEvent !== undefined && (
        <p className="muted" data-testid="last-event">
          Last event: {lastEvent}
        </p>
      )}

      {loaded?.valueHidden ? (
        <p className="muted">The value is hidden while another client holds the lock.</p>
      ) : (
        info.value !== undefined && <ValueView value={info.value} contentType={info.contentType} />
      )}

      {editable && !loaded?.valueHidden && (
        <form
          className="editor"
          onSubmit={(event) => {
            event.preventDefault();
            void run("Save", () => save(new TextEncoder().encode(draft)));
          }}
        >
          <label>
            Edit value (saved only if the version is still {String(editBase ?? info.version)})
            <textarea
              value={draft}
              rows={6}
              spellCheck={false}
              onChange={(event) => {
                setDraft(event.target.value);
                setEditBase((base) => base ?? info.version);
              }}
            />
          </label>
          <div className="row">
            <label>
              Lifespan (s, optional)
              <input inputMode="numeric" value={lifespanSeconds} onChange={(event) => setLifespanSeconds(event.target.value)} />
            </label>
            <button type="submit">Save</button>
            <button
              type="button"
              onClick={() => {
                setEditBase(undefined);
                editing.current = false;
                setConflict(undefined);
                void load();
              }}
            >
              Reload
            </button>
            {editBase !== undefined && <span className="muted">unsaved changes</span>}
          </div>
          {conflict !== undefined && (
            <p role="alert" className="conflict" data-testid="conflict">
              {conflict}
            </p>
          )}
        </form>
      )}

      <div className="row">
        <label>
          Lock for (s)
          <input inputMode="decimal" value={lockSeconds} onChange={(event) => setLockSeconds(event.target.value)} />
        </label>
        <button
          type="button"
          onClick={() =>
            void run("Lock", async () => {
              const seconds = Number(lockSeconds);
              const nanos = BigInt(Math.round(seconds * 1e9));
              const { fencingToken } = await client.lock({
                key: keyName,
                duration: { seconds: nanos / 1_000_000_000n, nanos: Number(nanos % 1_000_000_000n) },
              });
              setOwnLock(keyName, { deadlineMs: Date.now() + seconds * 1000, fencingToken });
            })
          }
        >
          Lock
        </button>
        <button
          type="button"
          onClick={() => void run("Unlock", () => client.unlock({ key: keyName }))}
        >
          Unlock
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => void run("Delete", () => client.delete({ key: keyName, ifVersion: info.version }))}
        >
          Delete
        </button>
      </div>

      {info.metrics !== undefined && (
        <section aria-labelledby="metrics-heading">
          <h3 id="metrics-heading">Key metrics</h3>
          <dl className="facts">
            <dt>Reads</dt>
            <dd>
              {String(info.metrics.accessCount)} (last {formatTime(info.metrics.lastAccessed)})
            </dd>
            <dt>Sets</dt>
            <dd>
              {String(info.metrics.setCount)} (last {formatTime(info.metrics.lastSet)})
            </dd>
            <dt>Locks</dt>
            <dd>
              {String(info.metrics.lockCount)} (last {formatTime(info.metrics.lastLocked)})
            </dd>
          </dl>
        </section>
      )}

      <HistoryPanel
        client={client}
        keyName={keyName}
        version={info.version}
        value={info.value}
        onError={onError}
        onRestore={(value) => save(value)}
      />
    </section>
  );
}

function formatTime(timestamp: Timestamp | undefined): string {
  return timestamp === undefined ? "never" : timestampDate(timestamp).toLocaleString();
}
