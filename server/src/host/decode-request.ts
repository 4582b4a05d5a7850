import { fromBinary, fromJsonString, ScalarType, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { checkBase64Fields } from "./check-json-body.js";

/**
 * The request message of a fast-path call in binary protobuf; a failure is
 * connect-es's own (INTERNAL, "parse binary: ..."), so that both paths
 * answer malformed input alike.
 */
export function decodeBinaryRequest<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
}

// As connect-es decodes (a TextDecoder drops a leading byte order mark, Buffer#toString does not).
const utf8 = new TextDecoder();
const jsonOptions = { ignoreUnknownFields: true };

/**
 * The request message of a fast-path call in protobuf JSON, read as the
 * general path reads it: a `bytes` field that is not base64 is refused first
 * (see checkJsonBody), then connect-es's reader decides (malformed JSON, an
 * empty body, duplicate names, wrong types: INVALID_ARGUMENT in its words).
 */
export function decodeJsonRequest<D extends DescMessage>(schema: D, body: Uint8Array): MessageShape<D> {
  const text = utf8.decode(body);
  // Parsed twice only for messages with bytes fields (Set's KeyValue): the check needs the JSON values.
  if (hasBytesField(schema)) {
    checkBase64Fields(schema, text);
  }
  try {
    return fromJsonString(schema, text, jsonOptions);
  } catch (error) {
    throw ConnectError.from(error, Code.InvalidArgument);
  }
}

const withBytes = new WeakMap<DescMessage, boolean>();

/** Whether a message has a `bytes` field, at any depth (computed once per message type). */
function hasBytesField(schema: DescMessage): boolean {
  let known = withBytes.get(schema);
  if (known === undefined) {
    // Recursive types are not searched twice.
    withBytes.set(schema, false);
    known = schema.fields.some((field) => {
      const { message, scalar } = field as { message?: DescMessage; scalar?: ScalarType };
      return scalar === ScalarType.BYTES || (message !== undefined && hasBytesField(message));
    });
    withBytes.set(schema, known);
  }
  return known;
}
