import type { StoreState } from "./store-state.js";
import { StoreError } from "./store-error.js";

/** Who the store knows and who may do what. */
export interface ClientOptions {
  /** Registered client ids at most; 0 = no limit. */
  maxClients: number;
  /** Client id allowed to call SetReadOnly and the Admin operations; "" = nobody. */
  privilegedClientId: string;
  /** Start in read-only mode. */
  readonly: boolean;
  /**
   * Admin rights come from the caller's role (auth on), checked before the
   * store is called: every caller of SetReadOnly and the Admin operations is
   * then taken as privileged, and privileged_client_id is not used.
   */
  privilegedByRole?: boolean;
}

/**
 * The store's clients and what they may do (its auth): registered client
 * ids, the privileged client, and read-only mode.
 */
export class Clients {
  private readonly registered = new Map<string, bigint>();
  private readonlyMode: boolean;

  constructor(private readonly options: ClientOptions) {
    this.readonlyMode = options.readonly;
  }

  /** Registered client ids. */
  get size(): number {
    return this.registered.size;
  }

  /** Whether the store refuses writes. */
  get readonly(): boolean {
    return this.readonlyMode;
  }

  /** Refuses writes in read-only mode (READONLY). */
  checkWritable(): void {
    if (this.readonlyMode) {
      throw new StoreError("READONLY");
    }
  }

  /**
   * Records a client id first seen at `now`; throws ALREADY_REGISTERED for a
   * known one, and MAX_CLIENTS for a new one once max_clients are registered
   * (a restored snapshot may hold more: they are all kept).
   */
  register(clientId: string, now: bigint): void {
    if (this.registered.has(clientId)) {
      throw new StoreError("ALREADY_REGISTERED");
    }
    const { maxClients } = this.options;
    if (maxClients > 0 && this.registered.size >= maxClients) {
      throw new StoreError("MAX_CLIENTS", `max_clients is ${maxClients}`);
    }
    this.registered.set(clientId, now);
  }

  /** Turns read-only mode on or off; only the privileged client may (NO_PRIVILEGED, NOT_AUTHORIZED). */
  setReadOnly(clientId: string, enable: boolean): void {
    if (this.options.privilegedByRole !== true) {
      if (this.options.privilegedClientId === "") {
        throw new StoreError("NO_PRIVILEGED");
      }
      if (clientId !== this.options.privilegedClientId) {
        throw new StoreError("NOT_AUTHORIZED");
      }
    }
    this.readonlyMode = enable;
  }

  /** Refuses (ADMIN_ONLY) anyone but the privileged client id. */
  authorizeAdmin(clientId: string): void {
    if (this.options.privilegedByRole !== true && (this.options.privilegedClientId === "" || clientId !== this.options.privilegedClientId)) {
      throw new StoreError("ADMIN_ONLY");
    }
  }

  /** The registered clients and the mode, as saved. */
  exportState(): Pick<StoreState, "clients" | "readonly"> {
    return {
      readonly: this.readonlyMode,
      clients: [...this.registered].map(([clientId, firstSeen]) => ({ clientId, firstSeen })),
    };
  }

  /** Restores saved clients and mode; all kept, even beyond max_clients (only new registrations are refused). */
  importState(state: Pick<StoreState, "clients" | "readonly">): void {
    for (const { clientId, firstSeen } of state.clients) {
      this.registered.set(clientId, firstSeen);
    }
    this.readonlyMode = state.readonly;
  }
}
