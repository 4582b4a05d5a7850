/**
 * Runs async tasks one at a time, in call order. The SQLite snapshot store
 * runs every operation through one: its single connection is inside a
 * manual transaction while a save yields to the event loop between batches,
 * and nothing else may use it meanwhile (a load would see the uncommitted
 * rows, a second BEGIN would fail).
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
