import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { Config } from "../config/config.js";
import type { Clock } from "./clock.js";
import { fnv1a64 } from "./fnv1a64.js";
import { compileKeyPattern, InvalidKeyPatternError } from "./key-pattern.js";
import { isReservedKey } from "./reserved-keys.js";
import { sniffContentType } from "./sniff-content-type.js";
import { StoreError } from "./store-error.js";
import { serverClientId, type StoreEvent } from "./store-event.js";

/** The settings the store engine reads from the server configuration. */
export type StoreOptions = Pick<
  Config,
  | "maxKeyLength"
  | "maxValueSize"
  | "maxKeys"
  | "revisionLimit"
  | "keepDeletedKeyHistory"
  | "privilegedClientId"
  | "readonly"
>;

/** A stored key. Values are never mutated in place, so history shares them. */
interface KeyEntry {
  readonly key: string;
  value: Uint8Array;
  contentType: string;
  /** Whether contentType was sniffed (then a new value is sniffed again). */
  contentTypeSniffed: boolean;
  hash: bigint;
  readonly created: bigint;
  /** 0n until the value first changes. */
  updated: bigint;
  version: bigint;
  readonly createdBy: string;
}

/** One retained version of a key's value. */
export interface Revision {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly hash: bigint;
  readonly version: bigint;
  /** When this version was written, ns since the epoch. */
  readonly timestamp: bigint;
}

/** What Inspect reports about a key. */
export interface KeyInfo {
  key: string;
  hash: bigint;
  created: bigint;
  /** Absent until the value first changes. */
  updated?: bigint;
  version: bigint;
  size: bigint;
  locked: boolean;
  contentType: string;
  value?: Uint8Array;
}

/** Server-wide counters reported by Stats. */
export interface StoreStats {
  /** Keys in the store, reserved keys included. */
  keys: bigint;
  /** Keys counted against max_keys (reserved keys excluded). */
  userKeys: bigint;
  totalSize: bigint;
  clientIds: bigint;
  maxKeys: bigint;
  /** Events emitted since start, indexed by KeyEvent number. */
  events: readonly bigint[];
  historyKeys: bigint;
  historyRevisions: bigint;
}

/** Request of {@link KeyValueStore.set}. */
export interface SetRequest {
  key: string;
  value: Uint8Array;
  /** Explicit content type; "" means sniff it from the value. */
  contentType: string;
}

/** Request of {@link KeyValueStore.listKeys}. */
export interface ListKeysRequest {
  /** RE2 regular expression searched in key names; "" matches all. */
  pattern: string;
  /** Maximum number of keys; 0n means no limit. */
  limit: bigint;
  includeReserved: boolean;
}

/**
 * The keyquarry store engine: keys, values, history, counters and events.
 * Pure and synchronous (no I/O, no timers), so every operation is atomic and
 * its events are emitted in the order the changes happen. Methods throw
 * {@link StoreError} for refused requests.
 */
export class KeyValueStore {
  private readonly entries = new Map<string, KeyEntry>();
  private readonly history = new Map<string, Revision[]>();
  private readonly clients = new Map<string, bigint>();
  private readonly eventCounts: bigint[] = new Array<bigint>(11).fill(0n);
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private totalSize = 0;
  private userKeys = 0;
  private readonlyMode: boolean;

  constructor(
    private readonly options: StoreOptions,
    private readonly clock: Clock,
  ) {
    this.readonlyMode = options.readonly;
  }

  /** Calls `listener` synchronously for every event from now on; returns an unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes the server's read-only keys (at every start), as the server itself. */
  writeReservedKeys(values: Iterable<readonly [string, string]>): void {
    const encoder = new TextEncoder();
    for (const [key, text] of values) {
      const existing = this.entries.get(key);
      if (existing) {
        this.removeEntry(existing);
      }
      const value = encoder.encode(text);
      const created = this.clock.now();
      this.insertEntry({
        key,
        value,
        contentType: "text/plain; charset=utf-8",
        contentTypeSniffed: false,
        hash: fnv1a64(value),
        created,
        updated: 0n,
        version: 1n,
        createdBy: serverClientId,
      });
      this.emit(key, KeyEvent.CREATED, serverClientId, created);
    }
  }

  /** Creates a key or changes its value; returns whether the key is new. */
  set(clientId: string, request: SetRequest): { isNew: boolean } {
    const { key, value } = request;
    this.checkWritableKey(key);
    this.checkWritable();
    if (this.options.maxKeyLength > 0 && Buffer.byteLength(key, "utf8") > this.options.maxKeyLength) {
      throw new StoreError("KEY_TOO_LONG");
    }
    if (this.options.maxValueSize > 0 && value.length > this.options.maxValueSize) {
      throw new StoreError("VALUE_TOO_LARGE");
    }
    const existing = this.entries.get(key);
    if (existing) {
      this.updateValue(clientId, existing, request);
      return { isNew: false };
    }
    this.createKey(clientId, request);
    return { isNew: true };
  }

  /** Returns a key's value. */
  get(clientId: string, key: string): Uint8Array {
    const entry = this.entryOf(key);
    this.emit(key, KeyEvent.ACCESSED, clientId, this.clock.now());
    return entry.value;
  }

  /** Describes a key, with its value when `includeValue`. */
  inspect(clientId: string, key: string, includeValue: boolean): KeyInfo {
    const entry = this.entryOf(key);
    const info: KeyInfo = {
      key,
      hash: entry.hash,
      created: entry.created,
      version: entry.version,
      size: BigInt(entry.value.length),
      locked: false,
      contentType: entry.contentType,
    };
    if (entry.updated !== 0n) {
      info.updated = entry.updated;
    }
    if (includeValue) {
      info.value = entry.value;
      this.emit(key, KeyEvent.ACCESSED, clientId, this.clock.now());
    }
    return info;
  }

  /** Removes a key. */
  delete(clientId: string, key: string): void {
    this.checkNotReserved(key);
    this.checkWritable();
    const entry = this.entryOf(key);
    this.removeEntry(entry);
    this.dropHistoryAfterDelete(key);
    this.emit(key, KeyEvent.DELETED, clientId, this.clock.now());
  }

  /** Whether a key exists. */
  exists(key: string): boolean {
    return this.entries.has(key);
  }

  /** Removes a key and returns the value it had. */
  pop(clientId: string, key: string): Uint8Array {
    this.checkNotReserved(key);
    this.checkWritable();
    const entry = this.entryOf(key);
    const now = this.clock.now();
    this.removeEntry(entry);
    this.dropHistoryAfterDelete(key);
    this.emit(key, KeyEvent.ACCESSED, clientId, now);
    this.emit(key, KeyEvent.DELETED, clientId, now);
    return entry.value;
  }

  /** Removes every user key and its history; returns how many keys were removed. */
  clear(clientId: string): bigint {
    this.checkWritable();
    const now = this.clock.now();
    let removed = 0n;
    for (const entry of this.entries.values()) {
      if (isReservedKey(entry.key)) {
        continue;
      }
      this.removeEntry(entry);
      this.history.delete(entry.key);
      this.emit(entry.key, KeyEvent.DELETED, clientId, now);
      removed++;
    }
    return removed;
  }

  /** Lists key names in creation order; throws BAD_PATTERN for an invalid pattern. */
  listKeys(request: ListKeysRequest): string[] {
    let test: (key: string) => boolean = () => true;
    if (request.pattern !== "") {
      try {
        const pattern = compileKeyPattern(request.pattern);
        test = (key) => pattern.test(key);
      } catch (error) {
        if (error instanceof InvalidKeyPatternError) {
          throw new StoreError("BAD_PATTERN", error.reason);
        }
        throw error;
      }
    }
    // A limit larger than the store simply returns everything (the original crashed, §15.11).
    const limit = request.limit === 0n ? Infinity : Number(request.limit);
    const keys: string[] = [];
    for (const key of this.entries.keys()) {
      if (keys.length >= limit) {
        break;
      }
      if ((request.includeReserved || !isReservedKey(key)) && test(key)) {
        keys.push(key);
      }
    }
    return keys;
  }

  /** Current counters. */
  stats(): StoreStats {
    let revisions = 0;
    for (const list of this.history.values()) {
      revisions += list.length;
    }
    return {
      keys: BigInt(this.entries.size),
      userKeys: BigInt(this.userKeys),
      totalSize: BigInt(this.totalSize),
      clientIds: BigInt(this.clients.size),
      maxKeys: BigInt(this.options.maxKeys),
      events: [...this.eventCounts],
      historyKeys: BigInt(this.history.size),
      historyRevisions: BigInt(revisions),
    };
  }

  /** Records a client id; throws ALREADY_REGISTERED for a known one. */
  register(clientId: string): void {
    if (this.clients.has(clientId)) {
      throw new StoreError("ALREADY_REGISTERED");
    }
    this.clients.set(clientId, this.clock.now());
  }

  /** Turns read-only mode on or off; only the privileged client may. */
  setReadOnly(clientId: string, enable: boolean): void {
    if (this.options.privilegedClientId === "") {
      throw new StoreError("NO_PRIVILEGED");
    }
    if (clientId !== this.options.privilegedClientId) {
      throw new StoreError("NOT_AUTHORIZED");
    }
    this.readonlyMode = enable;
  }

  /** Whether the store refuses writes. */
  get readonly(): boolean {
    return this.readonlyMode;
  }

  private createKey(clientId: string, request: SetRequest): void {
    const { key } = request;
    if (this.options.maxKeys > 0 && this.userKeys >= this.options.maxKeys) {
      throw new StoreError("MAX_KEYS");
    }
    // Copy: the decoded value may be a view into a larger, pooled request buffer.
    const value = new Uint8Array(request.value);
    const sniff = request.contentType === "";
    const retained = this.history.get(key);
    const last = retained?.[retained.length - 1];
    const entry: KeyEntry = {
      key,
      value,
      contentType: sniff ? contentTypeOf(value) : request.contentType,
      contentTypeSniffed: sniff,
      hash: fnv1a64(value),
      created: this.clock.now(),
      updated: 0n,
      // A re-created key continues the numbering of its retained history.
      version: last ? last.version + 1n : 1n,
      createdBy: clientId,
    };
    this.insertEntry(entry);
    this.appendRevision(entry, entry.created);
    this.emit(key, KeyEvent.CREATED, clientId, entry.created);
  }

  private updateValue(clientId: string, entry: KeyEntry, request: SetRequest): void {
    const hash = fnv1a64(request.value);
    if (hash === entry.hash) {
      return;
    }
    const value = new Uint8Array(request.value);
    const now = this.clock.now();
    this.totalSize += value.length - entry.value.length;
    entry.value = value;
    entry.hash = hash;
    entry.updated = now;
    entry.version++;
    // An explicit type wins; a sniffed one follows the value (the original never changed it, §15.9).
    if (request.contentType !== "") {
      entry.contentType = request.contentType;
      entry.contentTypeSniffed = false;
    } else if (entry.contentTypeSniffed) {
      entry.contentType = contentTypeOf(value);
    }
    this.appendRevision(entry, now);
    this.emit(entry.key, KeyEvent.UPDATED, clientId, now);
  }

  private insertEntry(entry: KeyEntry): void {
    this.entries.set(entry.key, entry);
    this.totalSize += entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys++;
    }
  }

  private removeEntry(entry: KeyEntry): void {
    this.entries.delete(entry.key);
    this.totalSize -= entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys--;
    }
  }

  private appendRevision(entry: KeyEntry, timestamp: bigint): void {
    const limit = this.options.revisionLimit;
    if (limit === 0) {
      return;
    }
    let list = this.history.get(entry.key);
    if (!list) {
      list = [];
      this.history.set(entry.key, list);
    }
    if (limit > 0 && list.length >= limit) {
      list.splice(0, list.length - limit + 1);
    }
    list.push({
      value: entry.value,
      contentType: entry.contentType,
      hash: entry.hash,
      version: entry.version,
      timestamp,
    });
  }

  private dropHistoryAfterDelete(key: string): void {
    if (!this.options.keepDeletedKeyHistory) {
      this.history.delete(key);
    }
  }

  private entryOf(key: string): KeyEntry {
    const entry = this.entries.get(key);
    if (!entry) {
      throw new StoreError("NOT_FOUND");
    }
    return entry;
  }

  private checkWritableKey(key: string): void {
    if (key === "") {
      throw new StoreError("EMPTY_KEY");
    }
    this.checkNotReserved(key);
  }

  private checkNotReserved(key: string): void {
    if (isReservedKey(key)) {
      throw new StoreError("RESERVED");
    }
  }

  private checkWritable(): void {
    if (this.readonlyMode) {
      throw new StoreError("READONLY");
    }
  }

  private emit(key: string, event: KeyEvent, clientId: string, time: bigint): void {
    this.eventCounts[event]! += 1n;
    if (this.listeners.size === 0) {
      return;
    }
    const record: StoreEvent = { key, event, time, clientId };
    for (const listener of this.listeners) {
      listener(record);
    }
  }
}

/** Sniffed content type; an empty value has none. */
function contentTypeOf(value: Uint8Array): string {
  return value.length === 0 ? "" : sniffContentType(value);
}
