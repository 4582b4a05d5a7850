import { fromByteString } from "./byte-string.js";
import { joinHashHalves } from "./fnv1a64.js";
import type { KeyEntry, LifespanState, LockState, StoredRevision } from "./key-entry.js";
import type { KeyState, RevisionState } from "./store-state.js";

/**
 * A {@link KeyState} captured by reference: the byte string (immutable) is
 * held, and its bytes are made each time `value` is read, so that exporting
 * a large store costs one small object per key and a snapshot writer
 * converts values batch by batch. Lock and lifespan are the entry's own
 * (immutable: a renewal replaces them); the mutable fields are copied.
 */
export class DeferredKeyState implements KeyState {
  readonly key: string;
  readonly contentType: string;
  readonly contentTypeSniffed: boolean;
  readonly created: bigint;
  readonly updated: bigint;
  readonly version: bigint;
  readonly createdBy: string;
  readonly lock: LockState | undefined;
  readonly lifespan: LifespanState | undefined;
  private readonly stored: string;
  private readonly hashHi: number;
  private readonly hashLo: number;

  constructor(entry: KeyEntry) {
    this.key = entry.key;
    this.stored = entry.value;
    this.contentType = entry.contentType;
    this.contentTypeSniffed = entry.contentTypeSniffed;
    this.hashHi = entry.hashHi;
    this.hashLo = entry.hashLo;
    this.created = entry.created;
    this.updated = entry.updated;
    this.version = entry.version;
    this.createdBy = entry.createdBy;
    this.lock = entry.lock;
    this.lifespan = entry.lifespan;
  }

  /** The value's bytes, a new copy at every read (read it once per use). */
  get value(): Uint8Array {
    return fromByteString(this.stored);
  }

  get hash(): bigint {
    return joinHashHalves(this.hashHi, this.hashLo);
  }
}

/** A {@link RevisionState} of an (immutable) stored revision, its bytes made at every read of `value`. */
export class DeferredRevisionState implements RevisionState {
  constructor(private readonly revision: StoredRevision) {}

  get value(): Uint8Array {
    return fromByteString(this.revision.value);
  }

  get contentType(): string {
    return this.revision.contentType;
  }

  get hash(): bigint {
    return joinHashHalves(this.revision.hashHi, this.revision.hashLo);
  }

  get version(): bigint {
    return this.revision.version;
  }

  get timestamp(): bigint {
    return this.revision.timestamp;
  }
}
