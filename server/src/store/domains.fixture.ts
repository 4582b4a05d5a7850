/** The store's domains wired as KeyValueStore wires them, for the domain tests. Not a test file itself. */
import { Clients } from "./clients.js";
import { Expirations } from "./expirations.js";
import { History } from "./history.js";
import { KeyLifecycle } from "./key-lifecycle.js";
import { KeyTable } from "./key-table.js";
import { Lifespans } from "./lifespans.js";
import { Locks } from "./locks.js";
import { Metrics } from "./metrics.js";
import type { StoreDomains } from "./state-codec.js";

/** Fresh domains with unlimited history and metrics, and their key lifecycle. */
export function domains(): StoreDomains & { expirations: Expirations; keys: KeyLifecycle } {
  const table = new KeyTable();
  const expirations = new Expirations();
  const locks = new Locks({ minLockDuration: 1n, maxLockDuration: 1000n }, expirations);
  const lifespans = new Lifespans(1n, expirations);
  const history = new History({ revisionLimit: -1, keepDeletedKeyHistory: true });
  const metrics = new Metrics(-1, table);
  const clients = new Clients({ maxClients: 0, privilegedClientId: "", readonly: false });
  const keys = new KeyLifecycle(table, locks, lifespans, history, metrics);
  return { table, expirations, locks, lifespans, history, metrics, clients, keys };
}
