import type { CallOptions, Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { KeyQuarry, KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";

/** Turns typed values into a key's bytes and back, with the content type to store them under. */
export interface ValueCodec<T> {
  /** Sent as `content_type` when a key is created. */
  readonly contentType: string;
  encode(value: T): Uint8Array;
  /** Throws when the bytes are not a value of this type (invalid UTF-8, invalid JSON). */
  decode(bytes: Uint8Array): T;
}

/** UTF-8 text, stored as `text/plain; charset=utf-8`; decoding refuses invalid UTF-8. */
export const textValue: ValueCodec<string> = {
  contentType: "text/plain; charset=utf-8",
  encode: (value) => new TextEncoder().encode(value),
  decode: (bytes) => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
};

/** Any JSON value, stored as `application/json` (UTF-8). `T` is what the caller expects, not checked. */
export function jsonValue<T = unknown>(): ValueCodec<T> {
  return {
    contentType: "application/json",
    encode: (value) => textValue.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(textValue.decode(bytes)) as T,
  };
}

/** The current value of `key`, decoded with `codec`. */
export async function getValueAs<T>(
  client: Pick<Client<typeof KeyQuarry>, "get">,
  key: string,
  codec: ValueCodec<T>,
  options?: CallOptions,
): Promise<T> {
  const { value } = await client.get({ key }, options);
  return codec.decode(value);
}

/**
 * Sets `request.key` to `value` encoded with `codec` (the codec's content
 * type applies when the key is created); every other Set field, such as
 * `ifVersion`, `lifespan` or `lockDuration`, passes through.
 */
export function setValueAs<T>(
  client: Pick<Client<typeof KeyQuarry>, "set">,
  request: Omit<MessageInitShape<typeof KeyValueSchema>, "value" | "contentType" | "$typeName"> & { key: string },
  value: T,
  codec: ValueCodec<T>,
  options?: CallOptions,
): ReturnType<Client<typeof KeyQuarry>["set"]> {
  return client.set({ ...request, value: codec.encode(value), contentType: codec.contentType }, options);
}
