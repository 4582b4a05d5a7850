/** Stops one piece of background work; may wait for it to finish (a save in progress, say). */
export type StopWork = () => void | Promise<void>;

/** Starts one piece of background work and returns what stops it. */
export type StartWork = () => StopWork;

/**
 * The server's background work (timers, the snapshotter, later plugins'
 * own): registered while the server is built, started once it listens,
 * stopped when it closes. So building starts nothing, and a failure between
 * build and listen leaves nothing running. A plugin gets this object in its
 * options and calls {@link add}.
 */
export class BackgroundWork {
  readonly #starts: StartWork[] = [];
  /** The stop functions of the work running now, in start order; undefined when stopped. */
  #running: StopWork[] | undefined;

  /** Registers work to start with the server. Stopped in reverse order: later work may rely on earlier. */
  add(start: StartWork): void {
    if (this.#running !== undefined) {
      throw new Error("background work added after the server started");
    }
    this.#starts.push(start);
  }

  /** Whether the work has been started (and not stopped since). */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Starts every registered piece in order; if one throws, stops those already started and rethrows. */
  async start(): Promise<void> {
    if (this.#running !== undefined) {
      return;
    }
    this.#running = [];
    try {
      for (const start of this.#starts) {
        this.#running.push(start());
      }
    } catch (error) {
      await this.stop().catch(() => {});
      throw error;
    }
  }

  /** Stops the running work in reverse order, each even if another's stop failed; rejects with the first failure. */
  async stop(): Promise<void> {
    const running = this.#running ?? [];
    this.#running = undefined;
    let failure: { error: unknown } | undefined;
    for (const stop of running.reverse()) {
      try {
        await stop();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) {
      throw failure.error;
    }
  }
}
