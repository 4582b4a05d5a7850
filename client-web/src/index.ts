export { createKeyquarryWebClient } from "./create-keyquarry-web-client.js";
export { clientIdInterceptor } from "./client-id-interceptor.js";
export { tokenInterceptor } from "./token-interceptor.js";
export { cancelOnReturn } from "./cancel-on-return.js";
export { extendClient } from "./extend-client.js";
export type { KeyquarryClientExtras } from "./extend-client.js";
export { listAllKeys } from "./list-all-keys.js";
export type { ListAllKeysRequest } from "./list-all-keys.js";
export type {
  KeyquarryWebClient,
  KeyquarryWebClientOptions,
  KeyquarryWebClientSettings,
  KeyquarryWebProtocol,
} from "./create-keyquarry-web-client.js";
// Re-exported so that SDK users need a single import for schemas and types.
export * from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
export * from "@keyquarry/gen/keyquarry/admin_pb.js";
export { resumableWatch } from "./resumable-watch.js";
export type { ResumableWatchOptions, ResumableWatchStatus, RevisionMessage } from "./resumable-watch.js";
export { getValueAs, jsonValue, setValueAs, textValue } from "./value-codec.js";
export type { ValueCodec } from "./value-codec.js";
