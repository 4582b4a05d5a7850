import type { Clock } from "./clock.js";
import { isClientCommand, type CommandRecord, type CommandSink, type StoreCommand } from "./store-command.js";

/**
 * The store's side of a journal: numbers the commands, hands them to the
 * attached {@link CommandSink}, and pins the clock while one runs, so that
 * every reading a command takes is the one recorded and a replay at that
 * time repeats it exactly. Without a sink it only pins the time of a replay.
 */
export class CommandRecorder {
  #sink: CommandSink | undefined;
  /** The time of the command running now (or being replayed); undefined between commands. */
  #time: bigint | undefined;
  /** State changes so far (events other than ACCESSED): tells a refused command that changed something. */
  #changes = 0;
  #seq = 0n;
  /** The prunes of the command running now (see {@link CommandRecord.pruned}); while replaying, those still to repeat. */
  #pruned: Array<string[] | null> = [];
  #replaying = false;
  /** Revisions reserved so far (see the `reserveRevisions` command); 0 until the first reservation. */
  #reservedUpTo = 0;
  /**
   * A new reservation is recorded before an unrecorded event takes this
   * revision (half of the last one left); never without a sink.
   */
  #renewAt = Infinity;

  /**
   * @param replicated a replica of a replicated log: it changes only by
   * {@link replay}, so a command run any other way is a bug (it throws).
   */
  constructor(
    private readonly clock: Clock,
    private readonly revision: () => bigint,
    private readonly replicated = false,
  ) {}

  /** A replica between two of its log's commands: a read, which must change nothing a command depends on. */
  get frozen(): boolean {
    return this.replicated && this.#time === undefined;
  }

  /** The time of the last command replayed (restored from a replica's snapshot): a replica runs none earlier. */
  lastTime = 0n;

  /** The last command's position (restored from a snapshot, advanced by every recorded or replayed command). */
  get seq(): bigint {
    return this.#seq;
  }

  set seq(seq: bigint) {
    this.#seq = seq;
  }

  attach(sink: CommandSink): void {
    if (this.#sink !== undefined) {
      throw new Error("the store already has a command sink");
    }
    this.#sink = sink;
    // The first unrecorded revision records a reservation.
    this.#renewAt = 1;
  }

  /** The time of the command running now, else the clock's. */
  now(): bigint {
    return this.#time ?? this.clock.now();
  }

  /**
   * The keys a prune removes: while replaying, the ones the recorded prune
   * removed (found by `existing`); else `select`'s pick, noted for the record.
   */
  prunePick<E extends { key: string }>(select: () => E[] | undefined, existing: (key: string) => E | undefined): E[] | undefined {
    if (this.#replaying && this.#pruned.length > 0) {
      const keys = this.#pruned.shift()!;
      return keys?.map((key) => existing(key) ?? throwDiverged(key));
    }
    const picked = select();
    if (this.#time !== undefined && !this.#replaying) {
      this.#pruned.push(picked === undefined ? null : picked.map((entry) => entry.key));
    }
    return picked;
  }

  /**
   * Called before every event with the revision it is about to take. One
   * outside a command (a read's ACCESSED) is not recorded, so its revision
   * must be reserved: renews the reservation before it runs out. (A
   * command's events are numbered again by its replay.)
   */
  revisionTaking(revision: number): void {
    if (revision >= this.#renewAt && this.#time === undefined) {
      this.#reserveRevisions();
    }
  }

  /**
   * After a snapshot: the reservation in force may precede it, and then it
   * is gone with the journal entries the snapshot replaces; the next
   * unrecorded revision records a fresh one.
   */
  snapshotTaken(): void {
    if (this.#sink !== undefined) {
      this.#renewAt = Number(this.revision()) + 1;
    }
  }

  /** Records a reservation of the next {@link revisionsReserved} revisions. */
  #reserveRevisions(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#replaying) {
      return;
    }
    const revision = this.revision();
    const upTo = Math.max(this.#reservedUpTo, Number(revision) + revisionsReserved);
    this.#reservedUpTo = upTo;
    this.#renewAt = upTo - revisionsReserved / 2;
    this.#record(sink, { seq: 0n, time: this.clock.now(), revision, command: { op: "reserveRevisions", upTo: BigInt(upTo) } });
  }

  /** Replays a reservation: a restart continues above it ({@link reservedUpTo}). */
  replayReservation(upTo: bigint): void {
    this.#reservedUpTo = Math.max(this.#reservedUpTo, Number(upTo));
  }

  /** The highest revision reserved by the records applied (0 if none). */
  get reservedUpTo(): number {
    return this.#reservedUpTo;
  }

  /** Notes a state change (every event but ACCESSED). */
  changed(): void {
    this.#changes++;
  }

  /**
   * Runs `run` as `command`: admitted by the sink first (a client's command),
   * recorded after if it succeeded (a server's: if it changed anything), or
   * if it failed after changing something. A command inside another (an
   * eager prune inside a Set) is part of it, not recorded on its own.
   */
  run<T>(command: StoreCommand, run: () => T): T {
    return this.runAt(undefined, command, run);
  }

  /** {@link run} at `time` (a read's, for the expirations at its start), or at the clock's when undefined. */
  runAt<T>(at: bigint | undefined, command: StoreCommand, run: () => T): T {
    if (this.frozen) {
      throw new Error(`a replica changes only by applying its log's commands, not by a ${command.op} of its own`);
    }
    const sink = this.#sink;
    if (sink === undefined || this.#time !== undefined) {
      return run();
    }
    const client = isClientCommand(command);
    if (client) {
      sink.admit(command);
    }
    const time = at ?? this.clock.now();
    const revision = this.revision();
    const changes = this.#changes;
    this.#time = time;
    this.#pruned = [];
    let result: T;
    try {
      result = run();
    } catch (error) {
      if (this.#changes !== changes) {
        this.#record(sink, { seq: 0n, time, revision, command });
      }
      throw error;
    } finally {
      this.#time = undefined;
    }
    if (client || this.#changes !== changes) {
      this.#record(sink, { seq: 0n, time, revision, command });
    }
    return result;
  }

  /** Runs `apply` (a recorded command's method) at the record's time (a replica: never before the last one's), then takes its position. */
  replay(record: CommandRecord, apply: () => void): void {
    // A replica's commands come from nodes whose clocks differ: none runs before the one it follows.
    const time = this.replicated && record.time < this.lastTime ? this.lastTime : record.time;
    this.#time = time;
    this.lastTime = time;
    this.#replaying = true;
    this.#pruned = record.pruned?.slice() ?? [];
    try {
      apply();
    } finally {
      this.#time = undefined;
      this.#replaying = false;
      this.#seq = record.seq;
    }
  }

  #record(sink: CommandSink, record: CommandRecord): void {
    record.seq = ++this.#seq;
    if (this.#pruned.length > 0) {
      record.pruned = this.#pruned;
      this.#pruned = [];
    }
    sink.record(record);
  }
}

/**
 * Revisions one reservation covers: one record per 5,000 events at most, and
 * a restart after a crash skips at most this many numbers.
 */
export const revisionsReserved = 10_000;

function throwDiverged(key: string): never {
  throw new Error(`replay diverged: the recorded prune removed ${JSON.stringify(key)}, which does not exist here`);
}
