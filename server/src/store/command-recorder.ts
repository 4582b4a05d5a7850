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
  /** The prune choices of the command being recorded, or those a replay hands out. */
  #choices: string[][] | undefined;
  #replaying = false;

  constructor(
    private readonly clock: Clock,
    private readonly revision: () => bigint,
  ) {}

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
  }

  /** The time of the command running now, else the clock's. */
  now(): bigint {
    return this.#time ?? this.clock.now();
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
    const sink = this.#sink;
    if (sink === undefined || this.#time !== undefined) {
      return run();
    }
    const client = isClientCommand(command);
    if (client) {
      sink.admit(command);
    }
    const time = this.clock.now();
    const revision = this.revision();
    const changes = this.#changes;
    this.#time = time;
    this.#choices = undefined;
    const record = (): CommandRecord =>
      this.#choices === undefined ? { seq: 0n, time, revision, command } : { seq: 0n, time, revision, command, pruned: this.#choices };
    let result: T;
    try {
      result = run();
    } catch (error) {
      if (this.#changes !== changes) {
        this.#record(sink, record());
      }
      throw error;
    } finally {
      this.#time = undefined;
    }
    if (client || this.#changes !== changes) {
      this.#record(sink, record());
    }
    return result;
  }

  /**
   * The keys a prune removes: `stalest` (chosen now) while recording, noted
   * in the record; the recorded choice while replaying.
   */
  prunedKeys(stalest: string[]): string[] {
    if (this.#replaying) {
      return this.#choices?.shift() ?? stalest;
    }
    if (this.#sink !== undefined && this.#time !== undefined) {
      (this.#choices ??= []).push(stalest);
    }
    return stalest;
  }

  /**
   * Records the expirations a read applied at its start (`revision` is the
   * one before them): reads are not commands, but what they expired is.
   */
  expiredByRead(time: bigint, revision: bigint): void {
    const sink = this.#sink;
    if (sink !== undefined && this.#time === undefined) {
      this.#record(sink, { seq: 0n, time, revision, command: { op: "expire" } });
    }
  }

  /** Runs `apply` (a recorded command's method) at the record's time, then takes its position. */
  replay(record: CommandRecord, apply: () => void): void {
    this.#time = record.time;
    this.#replaying = true;
    this.#choices = record.pruned?.map((keys) => [...keys]);
    try {
      apply();
    } finally {
      this.#time = undefined;
      this.#replaying = false;
      this.#choices = undefined;
      this.#seq = record.seq;
    }
  }

  #record(sink: CommandSink, record: CommandRecord): void {
    record.seq = ++this.#seq;
    sink.record(record);
  }
}
