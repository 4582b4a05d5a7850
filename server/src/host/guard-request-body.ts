import type { ConnectError } from "@connectrpc/connect";
import { RequestSizeMeter, type RequestSizeLimit } from "./read-max-bytes.js";
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
  /**
   * The body is a stream of messages (SetMany): it has no size of its own,
   * each message is capped by the protocol handler (readMaxBytes); only the deadline applies.
   */
  readonly messageStream?: boolean;
  /** Called once when the body is refused, before the reader gets the error. */
  onRefuse(): void;
}

/**
 * Passes a request body through, but fails it with DEADLINE_EXCEEDED when the
 * call's deadline passes before all of it arrived, and with
 * RESOURCE_EXHAUSTED (its size and the limit, in the options' terms) as soon
 * as it is known to be too large: from content-length, from an envelope's
 * length prefix, or from what arrived. The protocol handler reading it then
 * answers in its protocol's format. A stream of messages is capped per
 * message by the handler instead.
 */
export async function* guardRequestBody(body: AsyncIterable<Uint8Array>, guard: BodyGuard): AsyncGenerator<Uint8Array> {
  const { limit } = guard;
  const refuse = (error: ConnectError) => {
    guard.onRefuse();
    return error;
  };
  // The envelope overhead: the 5-byte prefix of the one request message.
  const meter = guard.messageStream === true ? undefined : new RequestSizeMeter(limit, guard.enveloped);
  const declared = meter?.declared(guard.declaredBytes);
  if (declared !== undefined) {
    throw refuse(declared);
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
      const tooLarge = meter?.add(chunk);
      if (tooLarge !== undefined) {
        throw refuse(tooLarge);
      }
      yield chunk;
    }
  } finally {
    clearTimeout(timer);
  }
}
