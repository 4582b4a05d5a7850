import { once } from "node:events";
import type http2 from "node:http2";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { KeyQuarry, KeyValueSchema, SetManyResponseSchema, type SetManyResponse } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { grpcFrame, statusError, type GrpcUnarySession } from "./grpc-unary-session.js";

/** Items sent and not answered yet, at most: the rest of the input waits (memory stays bounded). */
const maxUnanswered = 4096;

/**
 * Whether the server has SetMany (a keyquarry extension; the original and
 * older servers answer UNIMPLEMENTED): an empty stream, one round trip.
 */
export async function hasSetMany(session: GrpcUnarySession): Promise<boolean> {
  const stream = session.stream(KeyQuarry.method.setMany);
  stream.end();
  const error = await streamEnd(stream);
  if (error?.code === Code.Unimplemented) {
    return false;
  }
  if (error !== undefined) {
    throw error;
  }
  return true;
}

/**
 * Sends `items` (batches of KeyValues) over one SetMany stream and yields the
 * answers, a batch at a time, in input order. Hand-written framing over the
 * session's HTTP/2 stream: through the connect client each message costs
 * several times more (see GrpcUnarySession).
 */
export async function* setMany(
  session: GrpcUnarySession,
  items: AsyncIterable<Array<MessageInitShape<typeof KeyValueSchema>>> | Iterable<Array<MessageInitShape<typeof KeyValueSchema>>>,
): AsyncGenerator<SetManyResponse[]> {
  const stream = session.stream(KeyQuarry.method.setMany);
  const ended = streamEnd(stream);
  const closed = once(stream, "close");
  let unanswered = 0;
  let answers: SetManyResponse[] = [];
  // The output loop and the sender each wait for answers.
  let wakeOutput: (() => void) | undefined;
  let wakeSender: (() => void) | undefined;
  const wake = () => {
    wakeOutput?.();
    wakeSender?.();
  };
  let received: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    let offset = 0;
    while (received.length - offset >= 5 && received.length - offset >= 5 + received.readUInt32BE(offset + 1)) {
      const length = received.readUInt32BE(offset + 1);
      answers.push(fromBinary(SetManyResponseSchema, received.subarray(offset + 5, offset + 5 + length)));
      unanswered--;
      offset += 5 + length;
    }
    received = received.subarray(offset);
    wake();
  });
  void ended.then(wake);
  let sending = true;
  let sendError: unknown;
  const sender = (async () => {
    try {
      for await (const batch of items) {
        const frames = batch.map((item) => grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, item))));
        unanswered += batch.length;
        if (!stream.write(Buffer.concat(frames))) {
          await Promise.race([once(stream, "drain"), closed]);
        }
        while (unanswered > maxUnanswered && !stream.closed) {
          await new Promise<void>((resolve) => (wakeSender = resolve));
        }
      }
      stream.end();
    } catch (error) {
      sendError = error;
      stream.close();
    } finally {
      sending = false;
      wakeOutput?.();
    }
  })();
  for (;;) {
    if (answers.length > 0) {
      const batch = answers;
      answers = [];
      yield batch;
      continue;
    }
    if (stream.closed && !sending) {
      break;
    }
    await new Promise<void>((resolve) => (wakeOutput = resolve));
  }
  await sender;
  if (sendError !== undefined) {
    throw sendError;
  }
  const error = await ended;
  if (error !== undefined) {
    throw error;
  }
  if (unanswered !== 0) {
    throw new ConnectError(`the server answered ${-unanswered} items too many or too few`, Code.Internal);
  }
}

/** Resolves when `stream` closes: undefined for grpc-status 0, else the call's error. */
function streamEnd(stream: http2.ClientHttp2Stream): Promise<ConnectError | undefined> {
  let headers: http2.IncomingHttpHeaders = {};
  let trailers: http2.IncomingHttpHeaders | undefined;
  let failure: ConnectError | undefined;
  stream.on("response", (received) => (headers = received));
  stream.on("trailers", (received) => (trailers = received));
  stream.on("error", (error) => (failure = new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
  return new Promise((resolve) => {
    stream.on("close", () => resolve(failure ?? statusError(headers, trailers ?? headers)));
  });
}
