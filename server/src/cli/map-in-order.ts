/** How a call of {@link mapInOrder}'s function ended. */
type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Applies `fn` to each item with at most `limit` calls in flight and yields
 * the results in the order of the items, so that many RPCs overlap while the
 * output stays deterministic and memory stays bounded by `limit`. A call that
 * fails throws when its turn comes (its failure is held until then, so it is
 * never an unhandled rejection).
 */
export async function* mapInOrder<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const pending: Promise<Settled<R>>[] = [];
  const next = async (): Promise<R> => {
    const settled = await pending.shift()!;
    if (!settled.ok) {
      throw settled.error;
    }
    return settled.value;
  };
  for await (const item of items) {
    pending.push(fn(item).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })));
    if (pending.length >= limit) {
      yield await next();
    }
  }
  while (pending.length > 0) {
    yield await next();
  }
}
