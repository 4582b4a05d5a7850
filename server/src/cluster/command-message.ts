import { decodeRecord, encodeRecord } from "../journal/journal-entry-codec.js";
import type { CommandRecord, StoreCommand } from "../store/store-command.js";

// [format u8][has value u8][time i64 BE][command length u32 BE][command JSON][value]:
// the journal's encoding of a record (one codec for both logs), framed for a stream message.
const headerBytes = 14;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A command and the time it is to run at, as one stream message's payload. */
export function encodeCommandMessage(command: StoreCommand, time: bigint): Uint8Array {
  const encoded = encodeRecord({ seq: 0n, time, revision: 0n, command });
  const json = encoder.encode(encoded.command);
  const value = encoded.value;
  const bytes = new Uint8Array(headerBytes + json.length + (value?.length ?? 0));
  const view = new DataView(bytes.buffer);
  view.setUint8(0, encoded.format);
  view.setUint8(1, value === null ? 0 : 1);
  view.setBigInt64(2, time);
  view.setUint32(10, json.length);
  bytes.set(json, headerBytes);
  if (value !== null) {
    bytes.set(value, headerBytes + json.length);
  }
  return bytes;
}

/**
 * The record a stream message holds, at position `seq`. Throws a
 * JournalError (DAMAGED, NEWER_FORMAT) as the journal's decoder does.
 */
export function decodeCommandMessage(seq: bigint, bytes: Uint8Array): CommandRecord {
  if (bytes.length < headerBytes) {
    // The journal's decoder names the damage.
    return decodeRecord({ seq, format: 1, time: 0n, revision: 0n, command: "", value: null });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(10);
  const end = Math.min(bytes.length, headerBytes + length);
  return decodeRecord({
    seq,
    format: view.getUint8(0),
    time: view.getBigInt64(2),
    revision: 0n,
    command: decoder.decode(bytes.subarray(headerBytes, end)),
    value: view.getUint8(1) === 1 ? bytes.slice(end) : null,
  });
}
