/**
 * A snapshot that exists but cannot be restored: written by a newer server
 * (format too new) or with rows that do not decode (bad uint64 text, a
 * missing column, counts that do not match the rows). The message names the
 * snapshot id and what is wrong, so an operator can inspect or delete that
 * row; restoring never falls back to a silently empty state.
 */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";

  /** Id of the offending snapshot. */
  readonly snapshotId: bigint;

  /** `snapshot <id>: <problem>`. */
  constructor(snapshotId: bigint, problem: string, options?: ErrorOptions) {
    super(`snapshot ${snapshotId}: ${problem}`, options);
    this.snapshotId = snapshotId;
  }
}
