/**
 * Runs async tasks one at a time, in call order. The SQLite worker runs
 * every call through one: a load reads page by page (asynchronously) in
 * one read transaction, and nothing else may use the connection meanwhile.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled; settles as it does. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The next task waits for this one whatever its outcome; its errors go to its own caller.
    this.tail = result.catch(() => {});
    return result;
  }
}
