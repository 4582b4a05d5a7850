import { createContextKey } from "@connectrpc/connect";
import type { WatchSink } from "../watch/watch-sink.js";

/** Context value holding the transport of the current call, set by the host for its watch limits. */
export const watchSinkKey = createContextKey<WatchSink | undefined>(undefined, { description: "keyquarry watch sink" });
