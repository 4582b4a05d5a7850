import { createKeyquarryWebClient, type KeyquarryWebClient } from "@keyquarry/client-web";

const clientIdStorageKey = "keyquarry.console.clientId";

/** The client id this browser used last, or a new random one (kept across reloads). */
export function initialClientId(): string {
  const stored = localStorage.getItem(clientIdStorageKey);
  if (stored !== null && stored !== "") {
    return stored;
  }
  const fresh = `console-${crypto.randomUUID().slice(0, 8)}`;
  localStorage.setItem(clientIdStorageKey, fresh);
  return fresh;
}

/** Remembers the client id a person chose. */
export function storeClientId(clientId: string): void {
  localStorage.setItem(clientIdStorageKey, clientId);
}

/**
 * A client of the server that served the page. gRPC-Web always answers
 * HTTP 200, so an expected refusal (a version conflict, a locked key) is no
 * failed request in the browser's console. (An authentication token joins
 * the client id here once the server supports one.)
 */
export function createConsoleClient(clientId: string): KeyquarryWebClient {
  return createKeyquarryWebClient(location.origin, { clientId, protocol: "grpc-web" });
}
