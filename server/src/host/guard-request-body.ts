import type { ConnectError } from "@connectrpc/connect";
import { requestTooLarge, type RequestSizeLimit } from "./read-max-bytes.js";
import { deadlineExceeded } from "./request-deadline.js";

/** What {@link guardRequestBody} enforces. */
export interface BodyGuard {
  /** Milliseconds left until the call's deadline; undefined for none. */
  readonly deadlineMs: number | undefined;
  readonly limit: RequestSizeLimit;
  /** Whether the body holds 5-byte-enveloped messages (gRPC, gRPC-Web, Connect streaming) rather than one bare message. */
  readonly enveloped: boolean;
  /** The declared length of the body (content-length), if any. */
  readonly declaredBytes: number | undefined;
  /** Called once when the body is refused, before the reader gets the error. */
  onRefuse(): void;
}

/**
 * Passes a request body through, but fails it with DEADLINE_EXCEEDED when the
 * call's deadline passes before all of it arrived, and with
 * RESOURCE_EXHAUSTED (its size and the limit, in the options' terms) as soon
 * as it is known to be too large: from content-length, from an envelope's
 * length prefix, or from what arrived. The protocol handler reading it then
 * answers in its protocol's format.
 */
export async function* guardRequestBody(body: AsyncIterable<Uint8Array>, guard: BodyGuard): AsyncGenerator<Uint8Array> {
  const { limit } = guard;
  const refuse = (error: ConnectError) => {
    guard.onRefuse();
    return error;
  };
  // The envelope overhead: the 5-byte prefix of the one request message.
  const overhead = guard.enveloped ? 5 : 0;
  if (guard.declaredBytes !== undefined && guard.declaredBytes - overhead > limit.bytes) {
    throw refuse(requestTooLarge(limit, guard.declaredBytes - overhead, true));
  }
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline =
    guard.deadlineMs === undefined
      ? undefined
      : new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            expired = true;
            reject(deadlineExceeded());
          }, guard.deadlineMs);
        });
  // Raced below; this only keeps an expiry between two reads from counting as unhandled.
  deadline?.catch(() => {});
  const source = body[Symbol.asyncIterator]();
  let head = new Uint8Array(0);
  let received = 0;
  try {
    for (;;) {
      let next;
      try {
        next = await (deadline === undefined ? source.next() : Promise.race([source.next(), deadline]));
      } catch (error) {
        throw expired ? refuse(error as ConnectError) : error;
      }
      if (next.done === true) {
        return;
      }
      const chunk = next.value;
      received += chunk.byteLength;
      if (guard.enveloped && head.byteLength < 5) {
        head = Buffer.concat([head, chunk.subarray(0, 5 - head.byteLength)]);
        const size = head.byteLength === 5 ? Buffer.from(head).readUInt32BE(1) : 0;
        if (size > limit.bytes) {
          throw refuse(requestTooLarge(limit, size, true));
        }
      }
      if (received - overhead > limit.bytes) {
        throw refuse(requestTooLarge(limit, received - overhead, false));
      }
      yield chunk;
    }
  } finally {
    clearTimeout(timer);
  }
}
