import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { KeyQuarry, KeyValue, SetManyResponseSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { callerKey } from "./client-id.js";
import { toConnectError } from "./to-connect-error.js";
import type { UnaryOperation } from "./unary-operations.js";

type SetManyResponse = MessageInitShape<typeof SetManyResponseSchema>;

/**
 * Sets answered before the earliest unanswered one may be waiting (its
 * durability or its replication): the stream stops reading until it is.
 */
const maxUnanswered = 1024;

/**
 * The SetMany RPC: each KeyValue of the stream goes through `set` (the Set
 * operation, with its authorization, durability and replication), in order,
 * so a key's items apply in the order they came; the answers leave in the
 * same order, each as soon as it and those before it are ready. An item's
 * error is its answer's code and message, and the stream goes on.
 */
export function setManyHandler(set: UnaryOperation<typeof KeyQuarry.method.set>) {
  return async function* (requests: AsyncIterable<KeyValue>, context: HandlerContext): AsyncGenerator<SetManyResponse> {
    const caller = context.values.get(callerKey);
    const answers: Array<Promise<SetManyResponse>> = [];
    let reading = true;
    let readError: unknown;
    // Wakes the writer when an answer is queued or the input ends, and the reader when there is room.
    let wakeWriter: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    const answer = async (request: KeyValue): Promise<SetManyResponse> => {
      try {
        return { key: request.key, response: await set(request, caller, context) };
      } catch (error) {
        const failure = toConnectError(error);
        return { key: request.key, code: failure.code, message: failure.rawMessage };
      }
    };
    const reader = (async () => {
      try {
        for await (const request of requests) {
          answers.push(answer(request));
          wakeWriter?.();
          while (answers.length >= maxUnanswered) {
            await new Promise<void>((resolve) => (wakeReader = resolve));
          }
        }
      } catch (error) {
        readError = error;
      } finally {
        reading = false;
        wakeWriter?.();
      }
    })();
    while (reading || answers.length > 0) {
      const next = answers.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (wakeWriter = resolve));
        continue;
      }
      wakeReader?.();
      yield await next;
    }
    await reader;
    if (readError !== undefined) {
      throw toConnectError(readError);
    }
  };
}
