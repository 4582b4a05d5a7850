import { serialize } from "node:v8";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../store/clock.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { CommandResult, StoreCommand } from "../store/store-command.js";
import type { CommandExecutor } from "../rpc/command-executor.js";
import type { CommandStream, StreamMessage } from "./command-stream.js";
import { batchOverhead, decodeCommandBatch, decodeCommandMessage, encodeCommandBatch, encodeCommandMessage } from "./command-message.js";

/** A proposal waiting for this node to apply it. */
interface Proposal {
  /** When it is given up (Date.now() ms). */
  expires: number;
  settle(outcome: { value?: unknown; error?: unknown }): void;
}

/** What the replica tells the host. */
export interface ReplicaLogger {
  error(details: object, message: string): void;
}

/** A batch of proposals is sent once it holds this many bytes (or the NATS servers' max_payload, if less). */
const maxBatchBytes = 256 * 1024;

/**
 * Longest wait for a proposal to be applied, whatever the call's deadline:
 * a client without one is told UNAVAILABLE (outcome unknown) rather than kept forever.
 */
const proposalTimeoutMs = 30_000;

/**
 * Stream requests of read barriers at once: a read that arrives while one is
 * in flight starts the next at once (it cannot use that one) instead of
 * waiting for it to return, and the reads arriving meanwhile share the next.
 */
const maxBarriersInFlight = 2;

/** Longest random pause before a node proposes the expirations its timer found due. */
const expiryJitterMs = 20;

/** How often proposals are checked against proposalTimeoutMs. */
const sweepIntervalMs = 1_000;

/**
 * One node's copy of the cluster's state: applies the stream's commands in
 * order to its store (a replicated one), each at its recorded time (never
 * earlier than the one before), so that every node holds the same keys,
 * revisions and fencing tokens. Writes are proposed to the stream and
 * answered with what applying them here gave; linearizable reads wait until
 * this node has applied everything the stream held when they arrived
 * (etcd's ReadIndex, one stream request for every read waiting).
 */
export class Replica implements CommandExecutor {
  readonly #pending = new Map<string, Proposal>();
  /** Proposals of this turn of the event loop, not sent yet, and the number of the first. */
  #outbox: Uint8Array[] = [];
  #outboxFirst = 0;
  #outboxBytes = 0;
  /** Reads and catch-ups waiting for a position, in the order they asked. */
  #waiters: Array<{ seq: bigint; resolve: () => void; reject: (error: unknown) => void }> = [];
  #proposals = 0;
  #lag = 0;
  #failure: Error | undefined;
  /** Reads waiting for the next barrier, and how many barriers are in flight. */
  #nextBarrier: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  #barriersInFlight = 0;
  #stopConsuming: (() => Promise<void>) | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly store: KeyValueStore,
    private readonly stream: CommandStream,
    private readonly clock: Clock,
    /** Prefix of this node's proposal ids: unique per process. */
    private readonly nodeId: string,
    private readonly log: ReplicaLogger,
  ) {}

  /** Stream position of the last command applied (the store's command seq). */
  get applied(): bigint {
    return this.store.commandSeq;
  }

  /** Messages (each a batch of commands) the stream held after the last one applied, when it was delivered. */
  get lag(): number {
    return this.#lag;
  }

  /** Why this node stopped applying the stream, if it did (it then answers UNAVAILABLE). */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Starts applying the stream after what the store holds; resolves once it has applied up to `last` (the stream's end when the node joined). */
  async start(last: bigint): Promise<void> {
    this.#stopConsuming = await this.stream.consume(this.applied, (message) => this.apply(message));
    await this.appliedUpTo(last);
  }

  /** Stops applying and leaves the stream; proposals and reads still waiting fail with UNAVAILABLE. */
  async close(): Promise<void> {
    try {
      await this.#stopConsuming?.();
    } finally {
      this.#stopConsuming = undefined;
      this.fail(new Error("this node is shutting down"), false);
      await this.stream.close();
    }
  }

  /**
   * Publishes this node's state for the nodes that fall behind the stream's
   * start, unless one was published less than `intervalNs` ago or covers as
   * much (every node runs this; about one each period publishes).
   */
  async publishSnapshot(intervalNs: bigint): Promise<boolean> {
    const published = await this.stream.publishedSnapshotInfo();
    if (published !== undefined && (published.seq >= this.applied || BigInt(Date.now() - published.publishedAt) * 1_000_000n < intervalNs)) {
      return false;
    }
    // With history: a node restored from it must answer GetRevision as the others do.
    const state = this.store.exportState(true, "copied");
    await this.stream.publishSnapshot({ seq: state.commandSeq, bytes: serialize(state) });
    return true;
  }

  /** Proposes `command`; resolves with its method's result (or rejects with its refusal) once this node has applied it. */
  execute<C extends StoreCommand>(command: C): Promise<CommandResult<C>> {
    this.throwIfFailed();
    const data = encodeCommandMessage(command, this.clock.now());
    const room = this.stream.maxPayload - batchOverhead(1);
    if (data.length > room) {
      throw new ConnectError(
        `the write takes ${data.length} bytes in the cluster's log, more than its NATS servers' max_payload allows (${room}); raise max_payload in their configuration or lower max_value_size`,
        Code.ResourceExhausted,
      );
    }
    const id = `${this.nodeId}.${++this.#proposals}`;
    return new Promise<CommandResult<C>>((resolve, reject) => {
      // No per-call timer or abort listener (they cost more than the rest of the call): the
      // transports end a call at its deadline themselves, and one sweep ends what waits too long.
      this.#pending.set(id, {
        expires: Date.now() + proposalTimeoutMs,
        settle: ({ value, error }) => {
          this.#pending.delete(id);
          if (error === undefined) {
            resolve(value as CommandResult<C>);
          } else {
            reject(error);
          }
        },
      });
      this.#sweeper ??= setInterval(() => this.sweep(), sweepIntervalMs).unref();
      this.enqueue(data);
    });
  }

  /** Fails the proposals that waited longer than proposalTimeoutMs (the map holds them oldest first). */
  private sweep(): void {
    const now = Date.now();
    for (const proposal of this.#pending.values()) {
      if (proposal.expires > now) {
        break;
      }
      proposal.settle({
        error: new ConnectError(`the cluster did not apply the write within ${proposalTimeoutMs / 1000}s; its outcome is unknown`, Code.Unavailable),
      });
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /**
   * Proposes the expirations due by this node's clock, if any still are
   * after a short random pause: every node's timer sees the same deadlines,
   * and the pause lets one node's `expire` apply first, so the others
   * usually find nothing left to propose.
   */
  async expireDue(limit: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * expiryJitterMs));
    return this.expirationsDue() ? this.execute({ op: "expire", limit }) : 0;
  }

  /** Whether a lock or lifespan deadline has passed by this node's clock (the log has yet to expire it). */
  private expirationsDue(): boolean {
    const next = this.store.nextDeadline();
    return next !== undefined && next <= this.clock.now();
  }

  /**
   * Adds a proposal to the batch this turn of the event loop is filling
   * (its proposal numbers follow each other), sent once the turn ends or
   * when the next one would not fit a NATS message.
   */
  private enqueue(data: Uint8Array): void {
    const room = Math.min(maxBatchBytes, this.stream.maxPayload);
    if (this.#outbox.length > 0 && this.#outboxBytes + data.length + batchOverhead(this.#outbox.length + 1) > room) {
      this.flush();
    }
    if (this.#outbox.length === 0) {
      this.#outboxFirst = this.#proposals;
      setImmediate(() => this.flush());
    }
    this.#outbox.push(data);
    this.#outboxBytes += data.length;
  }

  private flush(): void {
    const messages = this.#outbox;
    if (messages.length === 0) {
      return;
    }
    const first = this.#outboxFirst;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.stream.publish(encodeCommandBatch(messages), `${this.nodeId}.${first}`).catch((error: unknown) => {
      const failed = new ConnectError(`the cluster's log did not take the write (its outcome is unknown): ${(error as Error).message}`, Code.Unavailable);
      for (let n = first; n < first + messages.length; n++) {
        this.#pending.get(`${this.nodeId}.${n}`)?.settle({ error: failed });
      }
    });
  }

  /**
   * Resolves once this node has applied every command the stream held when
   * it was called, and the expirations due by this node's clock (a read
   * then sees no key or lock past its deadline). Reads arriving together
   * share one request to the stream.
   */
  readBarrier(): Promise<void> {
    this.throwIfFailed();
    const waiting = this.#nextBarrier;
    if (waiting !== undefined) {
      return waiting.promise;
    }
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.#nextBarrier = { promise, resolve, reject };
    if (this.#barriersInFlight < maxBarriersInFlight) {
      this.runBarrier();
    }
    return promise;
  }

  private runBarrier(): void {
    const barrier = this.#nextBarrier;
    if (barrier === undefined) {
      return;
    }
    this.#nextBarrier = undefined;
    this.#barriersInFlight++;
    const expiring = this.expirationsDue() ? this.execute({ op: "expire" }) : undefined;
    Promise.all([this.stream.bounds(), expiring])
      .then(([{ last }]) => this.appliedUpTo(last))
      .then(barrier.resolve, (error: unknown) => barrier.reject(unavailable("cannot reach the cluster's log to read consistently", error)))
      .finally(() => {
        this.#barriersInFlight--;
        this.runBarrier();
      });
  }

  /** Resolves once the command at `seq` has been applied here. */
  appliedUpTo(seq: bigint): Promise<void> {
    this.throwIfFailed();
    if (this.applied >= seq) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject };
      // Mostly appended in order; insertion keeps the list sorted otherwise.
      let index = this.#waiters.length;
      while (index > 0 && this.#waiters[index - 1]!.seq > seq) {
        index--;
      }
      this.#waiters.splice(index, 0, waiter);
    });
  }

  private apply(message: StreamMessage): void {
    if (this.#failure !== undefined || message.seq <= this.applied) {
      // A consumer recreated after a reconnection may deliver again what was applied.
      return;
    }
    if (message.seq !== this.applied + 1n) {
      this.fail(
        new Error(
          `this node applied the stream up to ${this.applied} but the stream now continues at ${message.seq} (it discarded what this node missed); restart the node to recover from the published snapshot`,
        ),
      );
      return;
    }
    // The batch's proposals are numbered from the one its id names (`<node>.<first>`).
    const dot = message.id?.lastIndexOf(".") ?? -1;
    const proposer = dot < 0 ? undefined : message.id!.slice(0, dot + 1);
    const first = dot < 0 ? 0 : Number(message.id!.slice(dot + 1));
    try {
      const commands = decodeCommandBatch(message.seq, message.data);
      for (let i = 0; i < commands.length; i++) {
        const record = decodeCommandMessage(message.seq, commands[i]!);
        record.revision = this.store.revision;
        const { outcome } = this.store.applyCommand(record);
        if (proposer !== undefined) {
          this.#pending.get(`${proposer}${first + i}`)?.settle(outcome);
        }
      }
    } catch (error) {
      // A message no node can apply (damaged, from a newer version) or a bug: applying on would diverge.
      this.fail(new Error(`cannot apply stream message ${message.seq}: ${(error as Error).message}`, { cause: error }));
      return;
    }
    this.#lag = message.pending;
    while (this.#waiters.length > 0 && this.#waiters[0]!.seq <= message.seq) {
      this.#waiters.shift()!.resolve();
    }
  }

  private fail(error: Error, log = true): void {
    if (this.#failure !== undefined) {
      return;
    }
    this.#failure = error;
    if (log) {
      this.log.error({ err: error, applied: String(this.applied) }, "this node stopped applying the cluster's log");
    }
    const failed = unavailable("this node stopped applying the cluster's log", error);
    for (const proposal of this.#pending.values()) {
      proposal.settle({ error: failed });
    }
    this.#pending.clear();
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const waiter of this.#waiters) {
      waiter.reject(failed);
    }
    this.#waiters = [];
  }

  private throwIfFailed(): void {
    if (this.#failure !== undefined) {
      throw unavailable("this node stopped applying the cluster's log", this.#failure);
    }
  }
}

function unavailable(what: string, cause: unknown): ConnectError {
  return new ConnectError(`${what}: ${(cause as Error)?.message ?? String(cause)}`, Code.Unavailable, undefined, undefined, cause);
}
