export { createKeyquarryClient, keyquarryHttp2Target } from "./create-keyquarry-client.js";
export type {
  KeyquarryClient,
  KeyquarryHttp2Target,
  KeyquarryClientOptions,
  KeyquarryProtocol,
  KeyquarryTlsOptions,
} from "./create-keyquarry-client.js";
export { defaultClientId } from "./default-client-id.js";
export { listAllKeys } from "@keyquarry/client-web";
export type { ListAllKeysRequest } from "@keyquarry/client-web";
export { defaultPort, parseAddress } from "./parse-address.js";
export type { ParsedAddress } from "./parse-address.js";
// Re-exported so that SDK users need a single import for schemas and types.
export * from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
export * from "@keyquarry/gen/keyquarry/admin_pb.js";
