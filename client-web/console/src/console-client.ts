import { createKeyquarryWebClient, type KeyquarryWebClient } from "@keyquarry/client-web";

const clientIdStorageKey = "keyquarry.console.clientId";
/** In sessionStorage, not localStorage: a bearer secret should not outlive the tab. */
const tokenStorageKey = "keyquarry.console.token";

/** Who the console calls as: a client id, or (servers with auth on) a token, whose identity the server uses instead. */
export interface ConsoleCaller {
  clientId: string;
  token: string | undefined;
}

/** The caller this browser used last: its client id (a new random one at first) and this tab's token, if any. */
export function initialCaller(): ConsoleCaller {
  const token = sessionStorage.getItem(tokenStorageKey) ?? undefined;
  const stored = localStorage.getItem(clientIdStorageKey);
  if (stored !== null && stored !== "") {
    return { clientId: stored, token };
  }
  const fresh = `console-${crypto.randomUUID().slice(0, 8)}`;
  localStorage.setItem(clientIdStorageKey, fresh);
  return { clientId: fresh, token };
}

/** Remembers the caller a person chose: the client id across reloads, the token for this tab only. */
export function storeCaller({ clientId, token }: ConsoleCaller): void {
  localStorage.setItem(clientIdStorageKey, clientId);
  if (token === undefined) {
    sessionStorage.removeItem(tokenStorageKey);
  } else {
    sessionStorage.setItem(tokenStorageKey, token);
  }
}

/**
 * A client of the server that served the page. gRPC-Web always answers
 * HTTP 200, so an expected refusal (a version conflict, a locked key) is no
 * failed request in the browser's console. With a token no client id is
 * sent: the server runs the calls as the token's identity and refuses a
 * client_id that differs from it.
 */
export function createConsoleClient({ clientId, token }: ConsoleCaller): KeyquarryWebClient {
  return createKeyquarryWebClient(location.origin, token === undefined ? { clientId, protocol: "grpc-web" } : { token, protocol: "grpc-web" });
}
