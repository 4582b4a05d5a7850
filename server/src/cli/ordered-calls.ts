/**
 * Runs `call` for each item (given in batches, e.g. what one read of a
 * stream holds) with at most `window` items between start and
 * output, and yields the results in input order, in batches of those that
 * are ready together (so that the caller writes them in one go). Items with
 * the same key run one after another, in input order; others overlap.
 *
 * The next batch is only pulled while the window has room, so a stream behind it
 * (stdin) is read no faster than the calls complete. `call` must not reject:
 * it turns its failures into results (a rejection ends the iteration).
 *
 * Hand-written because the libraries that map with bounded concurrency
 * (p-map, p-limit) neither serialize calls per key nor hand back the results
 * that are ready together.
 */
export async function* orderedCalls<Item, Result>(
  batches: AsyncIterable<readonly Item[]> | Iterable<readonly Item[]>,
  keyOf: (item: Item) => string,
  call: (item: Item) => Promise<Result>,
  window: number,
): AsyncGenerator<Result[]> {
  const queue: { settled: boolean; result?: Result; done: Promise<Result> }[] = [];
  const tails = new Map<string, Promise<unknown>>();

  const start = (item: Item) => {
    const key = keyOf(item);
    const previous = tails.get(key);
    const done = previous === undefined ? call(item) : previous.then(() => call(item));
    const entry: (typeof queue)[number] = { settled: false, done };
    // The last call of a key forgets it, so the map holds only keys in flight.
    const forget = () => tails.get(key) === done && tails.delete(key);
    void done.then(
      (result) => {
        entry.settled = true;
        entry.result = result;
        forget();
      },
      forget,
    );
    tails.set(key, done);
    queue.push(entry);
  };

  // Awaits the oldest result, then takes every result ready behind it too.
  const takeReady = async (): Promise<Result[]> => {
    const batch: Result[] = [(await queue[0]!.done) as Result];
    queue.shift();
    while (queue[0]?.settled) {
      batch.push(queue.shift()!.result as Result);
    }
    return batch;
  };

  for await (const batch of batches) {
    for (const item of batch) {
      start(item);
      if (queue.length >= window) {
        yield await takeReady();
      }
    }
  }
  while (queue.length > 0) {
    yield await takeReady();
  }
}
