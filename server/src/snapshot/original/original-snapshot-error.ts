/**
 * A snapshot of the original Go keyquarry that cannot be imported: not
 * there (`notFound`), or malformed (the message names the problem and where).
 */
export class OriginalSnapshotError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
    this.name = "OriginalSnapshotError";
  }
}
