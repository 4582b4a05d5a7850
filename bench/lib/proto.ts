// Hand-rolled protobuf and gRPC framing for the handful of two-field
// messages the benchmark sends: no dependency on generated code, so the
// same bytes go to keyquarry and etcd.

/** Protobuf base-128 varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2): string, bytes or sub-message. */
export function lenField(field: number, data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** A varint field (wire type 0). */
export function varintField(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}

/** gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length, message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** Splits a gRPC response body into its messages. */
export function grpcUnframe(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    messages.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return messages;
}

export interface ProtoField {
  field: number;
  wireType: number;
  /** Varint value (wire type 0). */
  num?: number;
  /** Payload (wire type 2). */
  bytes?: Buffer;
}

/** Decodes the top level of a protobuf message (varint and length-delimited fields only). */
export function decodeFields(message: Buffer): ProtoField[] {
  const fields: ProtoField[] = [];
  let offset = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      const byte = message[offset++];
      if (byte === undefined) throw new Error("truncated varint");
      result += (byte & 0x7f) * shift;
      if ((byte & 0x80) === 0) return result;
      shift *= 128;
    }
    throw new Error("varint too long");
  };
  while (offset < message.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0) {
      fields.push({ field, wireType, num: readVarint() });
    } else if (wireType === 2) {
      const length = readVarint();
      fields.push({ field, wireType, bytes: message.subarray(offset, offset + length) });
      offset += length;
    } else if (wireType === 1) {
      offset += 8;
      fields.push({ field, wireType });
    } else if (wireType === 5) {
      offset += 4;
      fields.push({ field, wireType });
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

/** The 100-byte benchmark value (printable, so the JSON/base64 sizes are stable). */
export const benchValue = Buffer.from("v".repeat(100));

/** GetResponse.value (field 1). */
export const getResponseValue = (message: Buffer): Buffer | undefined => decodeFields(message).find((f) => f.field === 1)?.bytes;

/** RangeResponse.kvs[0].value (kvs = 2, mvccpb.KeyValue.value = 5). */
export const rangeResponseValue = (message: Buffer): Buffer | undefined => {
  const kv = decodeFields(message).find((f) => f.field === 2)?.bytes;
  return kv === undefined ? undefined : decodeFields(kv).find((f) => f.field === 5)?.bytes;
};
