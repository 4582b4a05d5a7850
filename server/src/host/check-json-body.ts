import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { invalidBase64Field } from "../rpc/invalid-base64-field.js";

/** Whether a content type carries protobuf JSON (Connect, gRPC, gRPC-Web). */
export function isJsonContentType(contentType: string): boolean {
  return /[/+]json(?:;|$)/.test(contentType);
}

/**
 * Refuses with INVALID_ARGUMENT, naming the field, a JSON message of
 * `schema` with a `bytes` field that is not base64 (see
 * invalidBase64Field). Text that is not JSON is left to the decoder.
 */
export function checkBase64Fields(schema: DescMessage, text: string): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return;
  }
  const field = invalidBase64Field(schema, json);
  if (field !== undefined) {
    throw new ConnectError(
      `cannot decode message ${schema.typeName} from JSON: field ${field} is not base64 (standard or URL-safe, padding optional)`,
      Code.InvalidArgument,
    );
  }
}

/**
 * Passes a JSON request body through whole once every `bytes` field of its
 * messages holds base64 (see invalidBase64Field), else fails with
 * INVALID_ARGUMENT. Messages it cannot read (malformed JSON, compressed
 * envelopes) are left to the protocol handler, which reads the body next.
 */
export async function* checkJsonBody(body: AsyncIterable<Uint8Array>, schema: DescMessage, enveloped: boolean): AsyncGenerator<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) {
    chunks.push(chunk);
  }
  const whole = Buffer.concat(chunks);
  for (const message of enveloped ? uncompressedMessages(whole) : [whole]) {
    checkBase64Fields(schema, message.toString("utf8"));
  }
  yield whole;
}

/** The uncompressed data messages of 5-byte-enveloped bytes (no end-of-stream or trailer frames). */
function* uncompressedMessages(data: Buffer): Generator<Buffer> {
  for (let offset = 0; offset + 5 <= data.length; ) {
    const flags = data[offset]!;
    const end = offset + 5 + data.readUInt32BE(offset + 1);
    if (flags === 0) {
      yield data.subarray(offset + 5, end);
    }
    offset = end;
  }
}
