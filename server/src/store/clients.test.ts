import { describe, expect, it } from "vitest";
import { Clients } from "./clients.js";

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return [(error as { code?: string }).code, (error as Error).message];
  }
  return undefined;
};

describe("Clients", () => {
  it("registers each client id once, up to max_clients", () => {
    const clients = new Clients({ maxClients: 1, privilegedClientId: "", readonly: false });
    clients.register("alice", 5n);
    expect(codeOf(() => clients.register("alice", 6n))).toEqual(["ALREADY_REGISTERED", "already registered"]);
    expect(codeOf(() => clients.register("bob", 6n))).toEqual(["MAX_CLIENTS", "maximum number of registered clients reached: max_clients is 1"]);
    expect(clients.exportState().clients).toEqual([{ clientId: "alice", firstSeen: 5n }]);
  });

  it("lets only the privileged client switch read-only mode, which refuses writes", () => {
    const clients = new Clients({ maxClients: 0, privilegedClientId: "admin", readonly: false });
    expect(codeOf(() => clients.setReadOnly("alice", true))?.[0]).toBe("NOT_AUTHORIZED");
    clients.setReadOnly("admin", true);
    expect([clients.readonly, codeOf(() => clients.checkWritable())?.[0]]).toEqual([true, "READONLY"]);
    expect(codeOf(() => new Clients({ maxClients: 0, privilegedClientId: "", readonly: false }).setReadOnly("x", true))?.[0]).toBe("NO_PRIVILEGED");
  });

  it("authorizes admin operations for the privileged client id only", () => {
    const clients = new Clients({ maxClients: 0, privilegedClientId: "admin", readonly: false });
    expect(codeOf(() => clients.authorizeAdmin("admin"))).toBeUndefined();
    expect(codeOf(() => clients.authorizeAdmin("alice"))?.[0]).toBe("ADMIN_ONLY");
    expect(codeOf(() => new Clients({ maxClients: 0, privilegedClientId: "", readonly: false }).authorizeAdmin(""))?.[0]).toBe("ADMIN_ONLY");
  });

  it("restores saved clients beyond max_clients, and the mode", () => {
    const clients = new Clients({ maxClients: 1, privilegedClientId: "", readonly: false });
    clients.importState({ readonly: true, clients: [{ clientId: "a", firstSeen: 1n }, { clientId: "b", firstSeen: 2n }] });
    expect([clients.size, clients.readonly]).toEqual([2, true]);
  });
});
