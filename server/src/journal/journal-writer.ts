import { isClientCommand, type CommandRecord, type CommandSink } from "../store/store-command.js";
import { encodeRecord, sealBatch, type EncodedRecord } from "./journal-entry-codec.js";
import { JournalError } from "./journal-error.js";
import type { JournalLog } from "./journal-log.js";

/**
 * How writes wait for the journal:
 * - `sync`: a client's write is answered once its entry is committed
 *   (group commit: the writes that arrive while a commit runs share the next);
 *   while commits fail, writes are refused with UNAVAILABLE;
 * - `batched`: answered at once, committed every interval; a crash loses at
 *   most that interval.
 */
export type JournalMode = "sync" | "batched";

/** The logger calls the writer makes (pino's signature). */
export interface JournalLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Everything a {@link JournalWriter} needs. */
export interface JournalWriterOptions {
  log: JournalLog;
  /** The server name the entries are written under. */
  name: string;
  /** seq of the last entry the log holds (the last one replayed). */
  after: bigint;
  mode: JournalMode;
  /** `batched`: time between commits, ms. */
  intervalMs: number;
  logger: JournalLogger;
  /** Called after each commit (for metrics). */
  onCommit?: (entries: number, seconds: number) => void;
  /** First and longest pause before retrying a failed commit, ms; default 100 and 2000. */
  retryMs?: { first: number; max: number };
}

/** A promise with its settle functions, for the writes waiting on one commit. */
interface Waiters {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function waiters(): Waiters {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting (a batch of the server's own commands): never an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * The store's {@link CommandSink} that writes its commands to a
 * {@link JournalLog}: encodes each record at once (the store moves on),
 * commits them in batches, one at a time and in order, and retries a failed
 * commit until it succeeds (entries are never dropped: the store already
 * holds them).
 */
export class JournalWriter implements CommandSink {
  readonly #options: JournalWriterOptions;
  readonly #retry: { first: number; max: number };
  #pending: EncodedRecord[] = [];
  /** The writes waiting for the pending records (sync mode). */
  #pendingWaiters: Waiters | undefined;
  #running = false;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** The last commit's failure, until a commit succeeds again. */
  #failure: unknown;
  #retryDelay = 0;
  /** Client commands recorded so far: an operation that recorded one waits for it. */
  #clientRecords = 0;
  #lastCommitted: bigint;
  #idle: Waiters | undefined;
  #started = false;
  #closed = false;

  constructor(options: JournalWriterOptions) {
    this.#options = options;
    this.#retry = options.retryMs ?? { first: 100, max: 2000 };
    this.#lastCommitted = options.after;
  }

  /**
   * Starts committing (what was recorded before waits until now: building a
   * server writes nothing). Stop with {@link flush}.
   */
  start(): void {
    this.#started = true;
    this.#arm(this.#options.mode === "sync" ? 0 : this.#options.intervalMs);
  }

  /** Whether commits are failing now. */
  get failing(): boolean {
    return this.#failure !== undefined;
  }

  /** Entries recorded but not yet committed. */
  get backlog(): number {
    return this.#pending.length;
  }

  /** Refuses every client command while commits fail (sync) or once the server shuts down; admits it otherwise. */
  admit(): void {
    if (this.#closed) {
      throw new JournalError("UNAVAILABLE", "the server is shutting down: the journal takes no more writes");
    }
    if (this.#options.mode === "sync" && this.#failure !== undefined) {
      throw new JournalError("UNAVAILABLE", `the journal cannot commit (${describe(this.#failure)}): writes are refused until the database is back`);
    }
  }

  record(record: CommandRecord): void {
    this.#pending.push(encodeRecord(record));
    if (isClientCommand(record.command)) {
      this.#clientRecords++;
    }
    if (this.#options.mode === "sync" && this.#failure === undefined) {
      this.#arm(0);
    }
  }

  /** The number of client commands recorded so far; see {@link acknowledge}. */
  mark(): number {
    return this.#clientRecords;
  }

  /**
   * `output` once the client commands recorded since `mark` are durable (sync
   * mode; rejects with UNAVAILABLE if their commit failed), else `output` as is.
   */
  acknowledge<T>(mark: number, output: T): T | Promise<T> {
    if (this.#options.mode !== "sync" || this.#clientRecords === mark) {
      return output;
    }
    const committed = (this.#pendingWaiters ??= waiters()).promise;
    return output instanceof Promise ? output.then((value) => committed.then(() => value)) : committed.then(() => output);
  }

  /**
   * Commits everything recorded so far (one attempt after the commit in
   * progress, whatever the mode): at shutdown, after the last write.
   * Rejects if it cannot.
   */
  async flush(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    while (this.#running) {
      await (this.#idle ??= waiters()).promise;
    }
    await this.#commit();
    if (this.#failure !== undefined) {
      throw new JournalError("UNAVAILABLE", `the journal's last ${this.#pending.length} entries could not be committed: ${describe(this.#failure)}`, {
        cause: this.#failure,
      });
    }
  }

  /** Commits after `delay` ms (0: after this turn's I/O, so that its writes share the commit). */
  #arm(delay: number): void {
    if (this.#timer !== undefined || this.#running || this.#closed || !this.#started) {
      return;
    }
    const run = () => {
      this.#timer = undefined;
      void this.#loop();
    };
    this.#timer = delay === 0 ? setImmediate(run) : setTimeout(run, delay).unref();
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      // Sync: commit as long as writes arrive; batched: once per interval.
      do {
        await this.#commit();
      } while (this.#options.mode === "sync" && this.#failure === undefined && this.#pending.length > 0 && !this.#closed);
    } finally {
      this.#running = false;
      this.#idle?.resolve();
      this.#idle = undefined;
    }
    if (this.#closed) {
      return;
    }
    if (this.#failure !== undefined) {
      this.#retryDelay = Math.min(this.#retryDelay === 0 ? this.#retry.first : this.#retryDelay * 2, this.#retry.max);
      this.#arm(this.#retryDelay);
    } else if (this.#options.mode === "batched") {
      this.#arm(this.#options.intervalMs);
    }
  }

  /** Commits the pending records as one batch; on failure keeps them, first in line. */
  async #commit(): Promise<void> {
    const { log, name, logger } = this.#options;
    const records = this.#pending;
    const batchWaiters = this.#pendingWaiters;
    this.#pending = [];
    this.#pendingWaiters = undefined;
    if (records.length === 0) {
      batchWaiters?.resolve();
      return;
    }
    const started = performance.now();
    try {
      let batch = records;
      if (this.#failure !== undefined) {
        // A failed commit may have committed after all (its answer was lost): skip what the log holds.
        const { lastSeq } = await log.journalLength(name);
        batch = records.filter((record) => record.seq > lastSeq);
      }
      if (batch.length > 0) {
        await log.appendJournal(name, sealBatch(batch));
      }
    } catch (error) {
      this.#pending = records.concat(this.#pending);
      const first = this.#failure === undefined;
      this.#failure = error;
      batchWaiters?.reject(
        new JournalError("UNAVAILABLE", `the journal could not commit this write (${describe(error)}); it is retried, and may still take effect`, {
          cause: error,
        }),
      );
      if (first) {
        const consequence = this.#options.mode === "sync" ? "writes are refused until it commits again" : "writes since are not durable";
        logger.error({ err: error, backlog: this.#pending.length }, `journal commit failed: ${consequence}; retrying`);
      }
      return;
    }
    this.#lastCommitted = records[records.length - 1]!.seq;
    if (this.#failure !== undefined) {
      logger.warn({ backlog: records.length }, "journal commits again");
      this.#failure = undefined;
      this.#retryDelay = 0;
    }
    this.#options.onCommit?.(records.length, (performance.now() - started) / 1000);
    batchWaiters?.resolve();
  }

  /** seq of the last committed entry. */
  get lastCommitted(): bigint {
    return this.#lastCommitted;
  }
}

/** A short description of a database error, for messages clients and logs see. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
