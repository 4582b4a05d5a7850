import type { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";

/** Client id the store uses for changes it makes itself (startup keys, expiry, pruning). */
export const serverClientId = "keyquarry";

/** One state change of a key, in the order changes happen. */
export interface StoreEvent {
  readonly key: string;
  readonly event: KeyEvent;
  /** Nanoseconds since the Unix epoch. */
  readonly time: bigint;
  /** Client id that caused the change. */
  readonly clientId: string;
}
