import { SnapshotError } from "./snapshot-error.js";
import { decodeUint64 } from "./uint64-text.js";

/** A row as the driver returned it; nothing about its values is trusted. */
export type RawRow = Readonly<Record<string, unknown>>;

/**
 * Reads typed values out of the rows of one snapshot, refusing anything that
 * is not what the schema promises (SQLite stores any value in any column;
 * a row may have been edited by hand) with a {@link SnapshotError} naming
 * the snapshot, the table, the row and the column.
 */
export class RowDecoder {
  constructor(
    readonly snapshotId: bigint,
    private readonly table: string,
  ) {}

  /** Throws the SnapshotError for `problem` in this decoder's table. */
  fail(problem: string): never {
    throw new SnapshotError(this.snapshotId, `${this.table}: ${problem}`);
  }

  /** A non-null string. */
  text(row: RawRow, column: string): string {
    const value = this.present(row, column);
    return typeof value === "string" ? value : this.bad(row, column, "text");
  }

  /** A uint64 stored as decimal text. */
  uint64(row: RawRow, column: string): bigint {
    const value = this.present(row, column);
    const decoded = typeof value === "string" ? decodeUint64(value) : undefined;
    return decoded ?? this.bad(row, column, "a uint64 as decimal text");
  }

  /** A signed 64-bit integer. */
  int64(row: RawRow, column: string): bigint {
    const value = this.present(row, column);
    if (typeof value === "bigint") {
      return value;
    }
    // Only SQLite without safe integers would give a number; accept it when exact.
    return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : this.bad(row, column, "an integer");
  }

  /** A non-negative count that fits a JS number exactly. */
  count(row: RawRow, column: string): number {
    const value = this.present(row, column);
    const n = typeof value === "bigint" ? Number(value) : value;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : this.bad(row, column, "a count");
  }

  /** A boolean (the schemas map 0/1 and SQL booleans; anything else was left raw). */
  flag(row: RawRow, column: string): boolean {
    const value = this.present(row, column);
    return typeof value === "boolean" ? value : this.bad(row, column, "a boolean");
  }

  /** A byte string. */
  bytes(row: RawRow, column: string): Uint8Array {
    const value = this.present(row, column);
    return value instanceof Uint8Array ? value : this.bad(row, column, "bytes");
  }

  /** Whether `column` is NULL. */
  isNull(row: RawRow, column: string): boolean {
    if (!(column in row)) {
      this.fail(`column ${column} is missing`);
    }
    return row[column] === null || row[column] === undefined;
  }

  /** An optional signed 64-bit integer (NULL = undefined). */
  optionalInt64(row: RawRow, column: string): bigint | undefined {
    return this.isNull(row, column) ? undefined : this.int64(row, column);
  }

  private present(row: RawRow, column: string): unknown {
    if (this.isNull(row, column)) {
      this.fail(`${this.where(row)}column ${column} is NULL`);
    }
    return row[column];
  }

  private bad(row: RawRow, column: string, expected: string): never {
    const value = row[column];
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : typeof value;
    return this.fail(`${this.where(row)}column ${column} is not ${expected} (got ${shown})`);
  }

  private where(row: RawRow): string {
    const position = row["position"];
    return typeof position === "number" || typeof position === "bigint" ? `row ${position}: ` : "";
  }
}
