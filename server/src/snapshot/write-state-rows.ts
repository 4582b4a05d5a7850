import type { StoreState } from "../store/store-state.js";
import type { ClientRow, HistoryRow, KeyRow, MetricsRow, RevisionRow, SnapshotCounts, SnapshotRow } from "./snapshot-rows.js";
import { encodeUint64 } from "./uint64-text.js";

/**
 * Rows per INSERT statement, and value bytes after which a batch is flushed
 * early. 500 rows × 19 columns stays far below both drivers' bind-parameter
 * limits (SQLite 32 766, PostgreSQL 65 535); 4 MiB bounds the memory of one
 * statement however large the values are.
 */
export const batchLimits = { rows: 500, bytes: 4 * 1024 * 1024 } as const;

/**
 * Where {@link writeStateRows} sends each batch: PostgreSQL's into the
 * save's transaction, SQLite's to its worker as a slice of its own. Each
 * call is awaited, so the server runs between two batches and a large save
 * never blocks it for long.
 */
export interface StateRowSink {
  keys(rows: KeyRow[]): Promise<void>;
  history(rows: HistoryRow[]): Promise<void>;
  revisions(rows: RevisionRow[]): Promise<void>;
  metrics(rows: MetricsRow[]): Promise<void>;
  clients(rows: ClientRow[]): Promise<void>;
}

// Rough per-row overhead (columns, text) added to the value size when sizing a batch.
const rowOverhead = 128;

/** Collects rows and hands them to `flush` by {@link batchLimits}. */
class Batch<T> {
  private rows: T[] = [];
  private bytes = 0;

  constructor(private readonly flush: (rows: T[]) => Promise<void>) {}

  async add(row: T, bytes: number): Promise<void> {
    this.rows.push(row);
    this.bytes += bytes + rowOverhead;
    if (this.rows.length >= batchLimits.rows || this.bytes >= batchLimits.bytes) {
      await this.drain();
    }
  }

  async drain(): Promise<void> {
    if (this.rows.length === 0) {
      return;
    }
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    await this.flush(rows);
  }
}

/**
 * The `snapshots` row of `state` for `serverName`, written now. Its counts
 * are zero: they are set from {@link writeStateRows}'s result in the same
 * transaction, once the rows are written.
 */
export function snapshotRow(serverName: string, state: StoreState): SnapshotRow {
  return {
    serverName,
    created: BigInt(Date.now()) * 1_000_000n,
    format: state.format,
    takenAt: state.takenAt,
    revision: encodeUint64(state.revision),
    commandSeq: encodeUint64(state.commandSeq),
    fencingToken: encodeUint64(state.fencingToken),
    readonly: state.readonly,
    ...noRows(),
  };
}

/** The counts of a snapshot before any row is written. */
function noRows(): SnapshotCounts {
  return {
    keyCount: 0,
    totalBytes: 0,
    historyCount: 0,
    revisionCount: 0,
    metricsCount: 0,
    clientCount: 0,
  };
}

/**
 * Streams `state` into rows of snapshot `snapshotId`, batch by batch, so
 * that a large state is never encoded as a whole; returns the counts to
 * write into the snapshot row (they describe exactly the rows written).
 * Empty history lists are kept (a history row with no revisions).
 */
export async function writeStateRows(snapshotId: bigint, state: StoreState, sink: StateRowSink): Promise<SnapshotCounts> {
  const counts = noRows();

  const keys = new Batch<KeyRow>((rows) => sink.keys(rows));
  for (const k of state.keys) {
    // Read once: a deferred export makes the bytes at every read.
    const { lock, lifespan, value } = k;
    await keys.add(
      {
        snapshotId,
        position: counts.keyCount++,
        key: k.key,
        value,
        contentType: k.contentType,
        contentTypeSniffed: k.contentTypeSniffed,
        hash: encodeUint64(k.hash),
        created: k.created,
        updated: k.updated,
        version: encodeUint64(k.version),
        createdBy: k.createdBy,
        lockOwner: lock?.owner ?? null,
        lockDuration: lock?.duration ?? null,
        lockCreated: lock?.created ?? null,
        lockDeadline: lock?.deadline ?? null,
        lockFencingToken: lock ? encodeUint64(lock.fencingToken) : null,
        lifespanDuration: lifespan?.duration ?? null,
        lifespanSet: lifespan?.set ?? null,
        lifespanDeadline: lifespan?.deadline ?? null,
      },
      value.byteLength + k.key.length,
    );
    counts.totalBytes += value.byteLength;
  }
  await keys.drain();

  // The history lists go first, complete, then their revisions (a different table, hence batch).
  const history = new Batch<HistoryRow>((rows) => sink.history(rows));
  const revisions = new Batch<RevisionRow>((rows) => sink.revisions(rows));
  for (const { key, revisions: list } of state.history) {
    const position = counts.historyCount++;
    await history.add({ snapshotId, position, key, revisionCount: list.length }, key.length);
  }
  await history.drain();
  let position = 0;
  for (const { revisions: list } of state.history) {
    let seq = 0;
    for (const r of list) {
      const { value } = r;
      await revisions.add(
        {
          snapshotId,
          position,
          seq: seq++,
          value,
          contentType: r.contentType,
          hash: encodeUint64(r.hash),
          version: encodeUint64(r.version),
          timestamp: r.timestamp,
        },
        value.byteLength,
      );
      counts.revisionCount++;
    }
    position++;
  }
  await revisions.drain();

  const metrics = new Batch<MetricsRow>((rows) => sink.metrics(rows));
  for (const { key, metrics: m } of state.metrics) {
    await metrics.add(
      {
        snapshotId,
        position: counts.metricsCount++,
        key,
        accessCount: m.accessCount,
        firstAccessed: m.firstAccessed ?? null,
        lastAccessed: m.lastAccessed ?? null,
        setCount: m.setCount,
        firstSet: m.firstSet ?? null,
        lastSet: m.lastSet ?? null,
        lockCount: m.lockCount,
        firstLocked: m.firstLocked ?? null,
        lastLocked: m.lastLocked ?? null,
      },
      key.length,
    );
  }
  await metrics.drain();

  const clients = new Batch<ClientRow>((rows) => sink.clients(rows));
  for (const { clientId, firstSeen } of state.clients) {
    await clients.add({ snapshotId, position: counts.clientCount++, clientId, firstSeen }, clientId.length);
  }
  await clients.drain();

  return counts;
}
