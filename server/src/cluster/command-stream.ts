import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import {
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";

/** Where a cluster's log lives, and how to reach it (the `cluster.*` options). */
export interface CommandStreamOptions {
  /** NATS server URLs (any of them will do). */
  servers: string[];
  /** Stream name; the snapshot bucket is `<name>-snapshots`. */
  name: string;
  /** Replicas of the stream and the bucket, when this node creates them. */
  replicas: number;
  /** Messages the stream keeps (0 = all). */
  maxMessages: number;
  token?: string;
  user?: string;
  password?: string;
  /** A credentials file (JWT and NKey seed). */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** This node, as NATS monitoring shows it. */
  connectionName: string;
}

/** A message of the stream as a node applies it. */
export interface StreamMessage {
  /** Its stream sequence: the position every node applies it at. */
  seq: bigint;
  data: Uint8Array;
  /** The proposal id its publisher gave it (Nats-Msg-Id), if any. */
  id: string | undefined;
  /** Messages after it in the stream when it was delivered: this node's lag. */
  pending: number;
}

/** A published snapshot: the state after applying the stream up to `seq`. */
export interface PublishedSnapshot {
  seq: bigint;
  bytes: Uint8Array;
}

const snapshotObject = "latest";
const settingsObject = "settings";

/** How long a publish is tried again (see {@link CommandStream.publish}); within JetStream's 2-minute duplicate window. */
const publishRetryMs = 20_000;

/** A consumer without a message or a heartbeat (every second) for this long is replaced. */
const consumerSilenceMs = 4_000;

/** How long a starting node asks again a cluster that does not answer (yet). */
export const startRetryMs = 30_000;

/**
 * The cluster's replicated log on NATS JetStream: one stream whose subject
 * takes every command, replicated by JetStream's Raft; publishing is
 * acknowledged once a majority of the replicas hold the message, and every
 * node reads it in the same order. Also the object store where nodes
 * publish snapshots for the nodes that fell behind the stream's start.
 */
export class CommandStream {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly client: JetStreamClient,
    private readonly manager: JetStreamManager,
    private readonly options: CommandStreamOptions,
  ) {}

  /** Connects and creates the stream unless it exists (then it is used as it is). */
  static async open(options: CommandStreamOptions): Promise<CommandStream> {
    const connection = await connect(connectionOptions(options));
    try {
      const manager = await jetstreamManager(connection, { timeout: 10_000 });
      const stream = new CommandStream(connection, jetstream(connection, { timeout: 10_000 }), manager, options);
      await stream.create();
      return stream;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** The largest message the NATS servers take (their max_payload). */
  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  /** The subject every command is published to. */
  get subject(): string {
    return `${this.options.name}.commands`;
  }

  private async create(): Promise<void> {
    const { name, replicas, maxMessages } = this.options;
    // A cluster that is still forming (no meta leader yet) answers nothing for a while.
    await this.retrying(startRetryMs, async () => {
      try {
        await this.manager.streams.info(name);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        // Two nodes creating it at once: JetStream accepts the same configuration twice.
        await this.manager.streams.add({
          name,
          subjects: [this.subject],
          num_replicas: replicas,
          storage: StorageType.File,
          max_msgs: maxMessages === 0 ? -1 : maxMessages,
          discard: DiscardPolicy.Old,
        });
      }
    });
  }

  /**
   * `attempt()` until it succeeds or `ms` have passed (then its last error),
   * backing off from 25 ms to 1 s: while JetStream elects a leader (a server
   * lost, a stream just created, a cluster forming) requests find no
   * responder or time out.
   */
  private async retrying<T>(ms: number, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + ms;
    for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await attempt();
      } catch (error) {
        if (this.connection.isClosed() || Date.now() + delay > deadline) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Appends a message; resolves once the stream holds it (a majority of its
   * replicas). `id` makes a retried publish a duplicate JetStream drops.
   */
  async publish(data: Uint8Array, id: string): Promise<bigint> {
    // Tried again with the same id, so that JetStream drops a copy it already holds.
    const ack = await this.retrying(publishRetryMs, () => this.client.publish(this.subject, data, { msgID: id, timeout: 5_000 }));
    return BigInt(ack.seq);
  }

  /**
   * The stream's first and last sequence now, from its leader (first > last
   * when it is empty); asked again for `retryMs` (a node starting) or not (a read).
   */
  async bounds(retryMs = 0): Promise<{ first: bigint; last: bigint }> {
    const { state } = await this.retrying(retryMs, () => this.manager.streams.info(this.options.name));
    return { first: BigInt(state.first_seq), last: BigInt(state.last_seq) };
  }

  /**
   * Delivers every message after `after`, in order, to `apply` (synchronously,
   * one at a time), until the returned function stops it.
   *
   * An ordered consumer is one replica, on one NATS server: when that server
   * is lost, nats.js may keep asking after a consumer nobody answers for (and
   * stops watching its heartbeats meanwhile). A watchdog of our own (the
   * library has no such option) replaces a consumer that has shown no sign
   * of life (a message or a heartbeat) for consumerSilenceMs by a new one
   * from the next message.
   */
  async consume(after: bigint, apply: (message: StreamMessage) => void): Promise<() => Promise<void>> {
    let delivered = after;
    let stopped = false;
    let current: ConsumerMessages | undefined;
    let lastSign = Date.now();
    const open = async (): Promise<void> => {
      lastSign = Date.now();
      // A short timeout: while JetStream elects a new meta leader the request goes unanswered; ask again soon.
      const consumer = await jetstream(this.connection, { timeout: 2_000 }).consumers.get(this.options.name, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Number(delivered + 1n),
      });
      const messages = await consumer.consume({
        max_messages: 1024,
        // Short pulls with frequent heartbeats: a lost consumer shows within seconds.
        expires: 5_000,
        idle_heartbeat: 1_000,
        callback: (message) => {
          lastSign = Date.now();
          delivered = BigInt(message.seq);
          apply({
            seq: delivered,
            data: message.data,
            id: message.headers?.get("Nats-Msg-Id") || undefined,
            pending: message.info.pending,
          });
        },
      });
      current = messages;
      lastSign = Date.now();
      void (async () => {
        for await (const status of messages.status()) {
          if (status.type === "heartbeat") {
            lastSign = Date.now();
          }
        }
      })();
    };
    let reopening = false;
    const watchdog = setInterval(() => {
      if (stopped || reopening || Date.now() - lastSign < consumerSilenceMs) {
        return;
      }
      reopening = true;
      const silent = current;
      current = undefined;
      void (async () => {
        await silent?.close().catch(() => {});
        for (let delay = 100; !stopped && !this.connection.isClosed(); delay = Math.min(delay * 2, 2_000)) {
          try {
            await open();
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, delay));
          }
        }
        reopening = false;
      })();
    }, 1_000).unref();
    try {
      await this.retrying(startRetryMs, open);
    } catch (error) {
      clearInterval(watchdog);
      throw error;
    }
    return async () => {
      stopped = true;
      clearInterval(watchdog);
      await current?.close();
    };
  }

  /** Replaces the published snapshot. */
  async publishSnapshot(snapshot: PublishedSnapshot): Promise<void> {
    const bucket = await this.snapshots();
    await bucket.putBlob({ name: snapshotObject, metadata: { seq: String(snapshot.seq), publishedAt: new Date().toISOString() } }, snapshot.bytes);
  }

  /**
   * The settings every node of the cluster must share (`settings`, as text),
   * recorded by the first node that joins; returns the recorded ones.
   */
  async agreeOnSettings(settings: string): Promise<string> {
    const bucket = await this.snapshots();
    const recorded = await bucket.getBlob(settingsObject);
    if (recorded !== null) {
      return new TextDecoder().decode(recorded);
    }
    await bucket.putBlob({ name: settingsObject }, new TextEncoder().encode(settings));
    return settings;
  }

  /** The published snapshot's position and time, without its bytes; undefined when there is none. */
  async publishedSnapshotInfo(): Promise<{ seq: bigint; publishedAt: number } | undefined> {
    const info = await (await this.snapshots()).info(snapshotObject);
    if (info === null || info.deleted) {
      return undefined;
    }
    return { seq: BigInt(info.metadata?.["seq"] ?? "0"), publishedAt: Date.parse(info.metadata?.["publishedAt"] ?? "") || 0 };
  }

  /** The published snapshot, if any. */
  async publishedSnapshot(): Promise<PublishedSnapshot | undefined> {
    const published = await this.publishedSnapshotInfo();
    const bytes = published === undefined ? null : await (await this.snapshots()).getBlob(snapshotObject);
    return published === undefined || bytes === null ? undefined : { seq: published.seq, bytes };
  }

  #bucket: Promise<ObjectStore> | undefined;

  private snapshots(): Promise<ObjectStore> {
    this.#bucket ??= new Objm(this.connection)
      .create(`${this.options.name}-snapshots`, { replicas: this.options.replicas, storage: StorageType.File })
      .catch((error: unknown) => {
        // Asked again next time.
        this.#bucket = undefined;
        throw error;
      });
    return this.#bucket;
  }

  /** Closes the connection (messages in flight are dropped; a node stops after its calls ended). */
  async close(): Promise<void> {
    await this.connection.close();
  }
}

function connectionOptions(options: CommandStreamOptions): NodeConnectionOptions {
  const { tls } = options;
  return {
    servers: options.servers,
    name: options.connectionName,
    // The first connection (a refused TLS handshake is otherwise tried again and again): a start that cannot connect stops.
    timeout: 10_000,
    // A node keeps trying while the cluster is away: its clients see UNAVAILABLE meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...(options.token ? { token: options.token } : {}),
    ...(options.user ? { user: options.user, pass: options.password ?? "" } : {}),
    ...(options.credsFile ? { authenticator: credsAuthenticator(readFileSync(options.credsFile)) } : {}),
    ...(tls && (tls.caFile || tls.certFile) ? { tls: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
  };
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown; api_error?: { err_code?: number } }).api_error?.err_code;
  return code === 10059 || /stream not found/i.test(String((error as Error).message));
}
