/**
 * The script browser.test.ts bundles for Chromium. It exposes {@link BrowserApi}
 * as `window.keyquarry`, whose functions call the server with the browser SDK,
 * write every call and its result to a `<pre>` on the page and hand the
 * same text back. Results travel as strings because page.evaluate cannot carry
 * bigint or bytes, so the page itself checks their types.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createKeyquarryWebClient, type KeyquarryWebClient, type KeyquarryWebProtocol } from "../src/index.js";

/** Where and how a page function calls the server. */
export interface PageTransport {
  baseUrl: string;
  protocol: KeyquarryWebProtocol;
  useBinaryFormat: boolean;
}

/** The result of each call a page function made, by call, as logged on the page. */
export type CallResults = Record<string, string>;

/** The functions the page exposes as `window.keyquarry`. */
export interface BrowserApi {
  /** Sets `key` to "bar", gets, inspects, lists and deletes it, then gets it again. */
  keyLifecycle(transport: PageTransport, key: string): Promise<CallResults>;
  /** Gets a key with an empty client id, and with none at all. */
  clientIdRefusals(transport: PageTransport): Promise<CallResults>;
  /** With `token` and no client id: Register and a Get; then a Get with an unknown token (a server with auth on). */
  tokenCalls(transport: PageTransport, token: string): Promise<CallResults>;
}

declare global {
  interface Window {
    keyquarry: BrowserApi;
  }
}

/** Shows every call on the page, for people watching or taking a screenshot. */
const log = document.body.appendChild(document.createElement("pre"));

/** FNV-1a 64 of "bar", the hash Inspect must report as a bigint. */
const barHash = 16101355973854746n;

/** Extra interceptors run after the SDK's own, so this one sends the call without the client id it set. */
const dropClientId: Interceptor = (next) => (req) => {
  req.header.delete("client_id");
  return next(req);
};

window.keyquarry = {
  async keyLifecycle(transport, key) {
    const client = createKeyquarryWebClient(transport.baseUrl, { ...transport, clientId: "browser" });
    const record = recorder(transport);
    await record("Set", async () => {
      const { success, isNew } = await client.set({ key, value: new TextEncoder().encode("bar") });
      return `success=${success} isNew=${isNew}`;
    });
    await record("Get", () => getValue(client, key));
    await record("Inspect", async () => {
      const { hash, size } = await client.inspect({ key });
      return `hash=${describeBigint(hash)} matches=${hash === barHash} size=${describeBigint(size)}`;
    });
    await record("ListKeys", async () => {
      const { keys } = await client.listKeys({ pattern: `^${key}$` });
      return `keys=${JSON.stringify(keys)}`;
    });
    await record("Delete", async () => `deleted=${(await client.delete({ key })).deleted}`);
    await record("Get (deleted)", () => getValue(client, key));
    return record.results;
  },

  async clientIdRefusals(transport) {
    const record = recorder(transport);
    const emptyId = createKeyquarryWebClient(transport.baseUrl, { ...transport, clientId: "" });
    await record("Get (empty client id)", () => getValue(emptyId, "foo"));
    const noId = createKeyquarryWebClient(transport.baseUrl, {
      ...transport,
      clientId: "browser",
      interceptors: [dropClientId],
    });
    await record("Get (no client id)", () => getValue(noId, "foo"));
    return record.results;
  },

  async tokenCalls(transport, token) {
    const record = recorder(transport);
    const client = createKeyquarryWebClient(transport.baseUrl, { ...transport, token });
    await record("Register", async () => `clientId=${(await client.register({})).clientId}`);
    await record("Set", async () => `success=${(await client.set({ key: "web/a", value: new TextEncoder().encode("bar") })).success}`);
    await record("Get", () => getValue(client, "web/a"));
    const stranger = createKeyquarryWebClient(transport.baseUrl, { ...transport, token: "not-a-token" });
    await record("Get (unknown token)", () => getValue(stranger, "web/a"));
    return record.results;
  },
};

async function getValue(client: KeyquarryWebClient, key: string): Promise<string> {
  const { value } = await client.get({ key });
  return `value=${JSON.stringify(new TextDecoder().decode(value))}`;
}

/** Shows a uint64 field as a bigint literal, so anything else stands out. */
function describeBigint(value: bigint): string {
  return typeof value === "bigint" ? `${value}n` : `${typeof value} ${String(value)}`;
}

/**
 * Returns a function that runs one call, describes its result or its
 * ConnectError, logs it on the page and keeps it in `results`.
 */
function recorder(transport: PageTransport) {
  const results: CallResults = {};
  const label = `${transport.protocol} ${transport.useBinaryFormat ? "binary" : "JSON"}`;
  const record = async (call: string, run: () => Promise<string>): Promise<void> => {
    let result: string;
    try {
      result = await run();
    } catch (error) {
      const { code, rawMessage } = ConnectError.from(error);
      result = `ConnectError code=${code} (${Code[code]}) rawMessage=${JSON.stringify(rawMessage)}`;
    }
    results[call] = result;
    log.append(`[${label}] ${call}: ${result}\n`);
  };
  return Object.assign(record, { results });
}
