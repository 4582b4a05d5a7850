import type { KeyMetrics } from "../store/key-metrics.js";
import { storeStateFormat, type KeyState, type RevisionState, type StoreState } from "../store/store-state.js";
import { RowDecoder, type RawRow } from "./row-decoder.js";
import { SnapshotError } from "./snapshot-error.js";
import type { SnapshotCounts } from "./snapshot-rows.js";
import type { SnapshotSummary } from "./snapshot-store.js";

/**
 * Rows per SELECT when loading: pages are read by primary key
 * (keyset pagination), so no driver materializes a whole large snapshot in
 * one result set on top of the state being built.
 */
export const pageSize = 500;

/** A decoded `snapshots` row. */
export interface SnapshotHeader extends SnapshotCounts {
  id: bigint;
  serverName: string;
  created: bigint;
  format: number;
  takenAt: bigint;
  revision: bigint;
  /** Position of the last journaled command the snapshot holds. */
  commandSeq: bigint;
  fencingToken: bigint;
  readonly: boolean;
}

/**
 * The child rows of one snapshot, page by page in primary-key order, each
 * page starting after the given position (-1 for the first).
 */
export interface StateRowSource {
  keys(after: number, limit: number): Promise<readonly RawRow[]>;
  history(after: number, limit: number): Promise<readonly RawRow[]>;
  /** Revisions ordered by (position, seq), starting after that pair. */
  revisions(after: { position: number; seq: number }, limit: number): Promise<readonly RawRow[]>;
  metrics(after: number, limit: number): Promise<readonly RawRow[]>;
  clients(after: number, limit: number): Promise<readonly RawRow[]>;
}

/**
 * Decodes a `snapshots` row; throws SnapshotError if it does not decode, or,
 * when it is to be restored (`forRestore`), if its format is newer than this
 * server's (listing still shows such snapshots).
 */
export function decodeSnapshotHeader(row: RawRow, forRestore: boolean): SnapshotHeader {
  const idValue = row["id"];
  if (typeof idValue !== "bigint" && typeof idValue !== "number") {
    throw new SnapshotError(-1n, `snapshots: row without an integer id`);
  }
  const id = BigInt(idValue);
  const d = new RowDecoder(id, "snapshots");
  const format = d.count(row, "format");
  if (forRestore && format > storeStateFormat) {
    d.fail(`format ${format} is newer than this server's format ${storeStateFormat}; upgrade keyquarry to restore it`);
  }
  if (format < 1) {
    d.fail(`invalid format ${format}`);
  }
  return {
    id,
    serverName: d.text(row, "serverName"),
    created: d.int64(row, "created"),
    format,
    takenAt: d.int64(row, "takenAt"),
    revision: d.uint64(row, "revision"),
    commandSeq: d.uint64(row, "commandSeq"),
    fencingToken: d.uint64(row, "fencingToken"),
    readonly: d.flag(row, "readonly"),
    keyCount: d.count(row, "keyCount"),
    totalBytes: d.count(row, "totalBytes"),
    historyCount: d.count(row, "historyCount"),
    revisionCount: d.count(row, "revisionCount"),
    metricsCount: d.count(row, "metricsCount"),
    clientCount: d.count(row, "clientCount"),
  };
}

/** The listing of a decoded header. */
export function summarize(header: SnapshotHeader): SnapshotSummary {
  return {
    id: header.id,
    serverName: header.serverName,
    created: header.created,
    format: header.format,
    keys: header.keyCount,
    bytes: header.totalBytes,
    revision: header.revision,
  };
}

/** Reads every page of `read`, decoding each row, until a short page. */
async function readAll<T>(
  read: (after: number, limit: number) => Promise<readonly RawRow[]>,
  decode: (row: RawRow) => T & { position: number },
  each: (value: T) => void,
  yieldBetweenPages: () => Promise<void>,
): Promise<void> {
  let after = -1;
  for (;;) {
    const rows = await read(after, pageSize);
    for (const row of rows) {
      const value = decode(row);
      after = value.position;
      each(value);
    }
    if (rows.length < pageSize) {
      return;
    }
    await yieldBetweenPages();
  }
}

/**
 * Rebuilds the StoreState of snapshot `header` from its rows, checking that
 * the rows are exactly those the header counts (no missing or duplicate key,
 * no revision without its list). Throws SnapshotError otherwise.
 */
export async function readStateRows(
  header: SnapshotHeader,
  source: StateRowSource,
  yieldBetweenPages: () => Promise<void> = async () => {},
): Promise<StoreState> {
  const { id } = header;

  const keys: KeyState[] = [];
  const seen = new Set<string>();
  const keyDecoder = new RowDecoder(id, "snapshot_keys");
  await readAll((after, limit) => source.keys(after, limit), (row) => decodeKey(keyDecoder, row), (k) => {
    if (seen.has(k.key)) {
      keyDecoder.fail(`duplicate key ${JSON.stringify(k.key)}`);
    }
    seen.add(k.key);
    keys.push(k.state);
  }, yieldBetweenPages);
  expectCount(id, "snapshot_keys", keys.length, header.keyCount);

  const history: StoreState["history"] = [];
  const lists = new Map<number, { revisions: RevisionState[]; expected: number }>();
  const historyDecoder = new RowDecoder(id, "snapshot_history");
  await readAll((after, limit) => source.history(after, limit), (row) => ({
    position: historyDecoder.count(row, "position"),
    key: historyDecoder.text(row, "key"),
    expected: historyDecoder.count(row, "revisionCount"),
  }), ({ position, key, expected }) => {
    const revisions: RevisionState[] = [];
    history.push({ key, revisions });
    lists.set(position, { revisions, expected });
  }, yieldBetweenPages);
  expectCount(id, "snapshot_history", history.length, header.historyCount);

  const revisionDecoder = new RowDecoder(id, "snapshot_revisions");
  let revisionCount = 0;
  let after = { position: -1, seq: -1 };
  for (;;) {
    const rows = await source.revisions(after, pageSize);
    for (const row of rows) {
      const position = revisionDecoder.count(row, "position");
      const seq = revisionDecoder.count(row, "seq");
      const list = lists.get(position) ?? revisionDecoder.fail(`revision of a missing history list ${position}`);
      list.revisions.push({
        value: revisionDecoder.bytes(row, "value"),
        contentType: revisionDecoder.text(row, "contentType"),
        hash: revisionDecoder.uint64(row, "hash"),
        version: revisionDecoder.uint64(row, "version"),
        timestamp: revisionDecoder.int64(row, "timestamp"),
      });
      revisionCount++;
      after = { position, seq };
    }
    if (rows.length < pageSize) {
      break;
    }
    await yieldBetweenPages();
  }
  expectCount(id, "snapshot_revisions", revisionCount, header.revisionCount);
  for (const [position, { revisions, expected }] of lists) {
    if (revisions.length !== expected) {
      historyDecoder.fail(`history list ${position} has ${revisions.length} revisions, ${expected} expected`);
    }
  }

  const metrics: StoreState["metrics"] = [];
  const metricsDecoder = new RowDecoder(id, "snapshot_metrics");
  await readAll((after, limit) => source.metrics(after, limit), (row) => decodeMetrics(metricsDecoder, row), ({ key, metrics: m }) => {
    metrics.push({ key, metrics: m });
  }, yieldBetweenPages);
  expectCount(id, "snapshot_metrics", metrics.length, header.metricsCount);

  const clients: StoreState["clients"] = [];
  const clientDecoder = new RowDecoder(id, "snapshot_clients");
  await readAll((after, limit) => source.clients(after, limit), (row) => ({
    position: clientDecoder.count(row, "position"),
    clientId: clientDecoder.text(row, "clientId"),
    firstSeen: clientDecoder.int64(row, "firstSeen"),
  }), ({ clientId, firstSeen }) => {
    clients.push({ clientId, firstSeen });
  }, yieldBetweenPages);
  expectCount(id, "snapshot_clients", clients.length, header.clientCount);

  return {
    format: header.format,
    takenAt: header.takenAt,
    revision: header.revision,
    commandSeq: header.commandSeq,
    fencingToken: header.fencingToken,
    readonly: header.readonly,
    keys,
    history,
    metrics,
    clients,
  };
}

function expectCount(id: bigint, table: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new SnapshotError(id, `${table} has ${actual} rows, the snapshot row counts ${expected}`);
  }
}

function decodeKey(d: RowDecoder, row: RawRow): { position: number; key: string; state: KeyState } {
  const key = d.text(row, "key");
  const state: KeyState = {
    key,
    value: d.bytes(row, "value"),
    contentType: d.text(row, "contentType"),
    contentTypeSniffed: d.flag(row, "contentTypeSniffed"),
    hash: d.uint64(row, "hash"),
    created: d.int64(row, "created"),
    updated: d.int64(row, "updated"),
    version: d.uint64(row, "version"),
    createdBy: d.text(row, "createdBy"),
  };
  const lockColumns = ["lockOwner", "lockDuration", "lockCreated", "lockDeadline", "lockFencingToken"];
  if (allOrNone(d, row, lockColumns, "lock")) {
    state.lock = {
      owner: d.text(row, "lockOwner"),
      duration: d.int64(row, "lockDuration"),
      created: d.int64(row, "lockCreated"),
      deadline: d.int64(row, "lockDeadline"),
      fencingToken: d.uint64(row, "lockFencingToken"),
    };
  }
  if (allOrNone(d, row, ["lifespanDuration", "lifespanSet", "lifespanDeadline"], "lifespan")) {
    state.lifespan = {
      duration: d.int64(row, "lifespanDuration"),
      set: d.int64(row, "lifespanSet"),
      deadline: d.int64(row, "lifespanDeadline"),
    };
  }
  return { position: d.count(row, "position"), key, state };
}

/** Whether the group of columns is present: all set (true) or all NULL (false); anything between is corrupt. */
function allOrNone(d: RowDecoder, row: RawRow, columns: string[], what: string): boolean {
  const present = columns.filter((c) => !d.isNull(row, c)).length;
  if (present !== 0 && present !== columns.length) {
    d.fail(`key ${JSON.stringify(row["key"])}: ${what} columns are partly NULL`);
  }
  return present === columns.length;
}

function decodeMetrics(d: RowDecoder, row: RawRow): { position: number; key: string; metrics: KeyMetrics } {
  const metrics: KeyMetrics = {
    accessCount: d.count(row, "accessCount"),
    setCount: d.count(row, "setCount"),
    lockCount: d.count(row, "lockCount"),
  };
  // Absent times stay absent (not undefined-valued properties), as the store writes them.
  const times = ["firstAccessed", "lastAccessed", "firstSet", "lastSet", "firstLocked", "lastLocked"] as const;
  for (const name of times) {
    const time = d.optionalInt64(row, name);
    if (time !== undefined) {
      metrics[name] = time;
    }
  }
  return { position: d.count(row, "position"), key: d.text(row, "key"), metrics };
}
