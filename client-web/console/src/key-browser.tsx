import type { InspectResponse, KeyquarryWebClient } from "@keyquarry/client-web";
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { describeError } from "./describe-error.js";
import { lifespanDeadline } from "./lifespan-deadline.js";
import { changesKey, removesKey, type EventFeed } from "./use-event-feed.js";
import { useNow } from "./use-now.js";
import { formatBytes, secondsLeft } from "./value-format.js";

/** Height of one row in pixels: fixed, so that only the visible rows are rendered. */
const rowHeight = 32;
/** Height of the scrolling list. */
const viewportHeight = 448;
/** Rows rendered above and below the visible ones. */
const overscan = 8;
/** Keys asked for per ListKeys page. */
const pageSize = 1000n;

interface Props {
  client: KeyquarryWebClient;
  feed: EventFeed;
  selected: string | undefined;
  onSelect(key: string): void;
  onError(message: string): void;
}

/** What a row shows about a key, or why it could not be inspected. */
type RowInfo = InspectResponse | { error: string };

/**
 * The key browser: an RE2 pattern (ListKeys), reserved keys on request, and a
 * virtual list that renders only the visible rows and fetches further pages
 * as it is scrolled, so 100,000 keys stay cheap. Rows are inspected while
 * visible; events add, remove and refresh rows live.
 */
export function KeyBrowser({ client, feed, selected, onSelect, onError }: Props) {
  const [patternInput, setPatternInput] = useState("");
  const [query, setQuery] = useState({ pattern: "", includeReserved: false });
  const [keys, setKeys] = useState<string[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [info, setInfo] = useState<ReadonlyMap<string, RowInfo>>(new Map());
  const listing = useRef({ cursor: "", generation: 0, inFlight: false });
  const listRef = useRef<HTMLUListElement>(null);

  const loadPage = useCallback(async () => {
    const state = listing.current;
    if (state.inFlight) {
      return;
    }
    state.inFlight = true;
    const generation = state.generation;
    setLoading(true);
    try {
      const page = await client.listKeys({ ...query, limit: pageSize, cursor: state.cursor });
      if (generation !== state.generation) {
        return;
      }
      state.cursor = page.nextCursor;
      setKeys((previous) => {
        const known = new Set(previous);
        return [...previous, ...page.keys.filter((key) => !known.has(key))];
      });
      setMore(page.more);
    } catch (error) {
      onError(describeError("Listing keys", error));
      setMore(false);
    } finally {
      if (generation === state.generation) {
        state.inFlight = false;
        setLoading(false);
      }
    }
  }, [client, query, onError]);

  // A new query (or client) starts the listing over.
  useEffect(() => {
    listing.current = { cursor: "", generation: listing.current.generation + 1, inFlight: false };
    setKeys([]);
    setInfo(new Map());
    setMore(false);
    setScrollTop(0);
    listRef.current?.scrollTo({ top: 0 });
    void loadPage();
  }, [loadPage]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(keys.length, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  const visible = useMemo(() => keys.slice(first, last), [keys, first, last]);

  // Near the end of what is loaded: the next page.
  useEffect(() => {
    if (more && !loading && last >= keys.length - overscan) {
      void loadPage();
    }
  }, [more, loading, last, keys.length, loadPage]);

  // Visible rows not inspected yet are inspected (without the value: no ACCESSED event).
  useEffect(() => {
    const missing = visible.filter((key) => !info.has(key));
    if (missing.length === 0) {
      return;
    }
    let current = true;
    void Promise.all(
      missing.map(async (key): Promise<[string, RowInfo]> => {
        try {
          return [key, await client.inspect({ key })];
        } catch (error) {
          return [key, { error: describeError("Inspect", error) }];
        }
      }),
    ).then((rows) => {
      if (current) {
        setInfo((previous) => new Map([...previous, ...rows]));
      }
    });
    return () => {
      current = false;
    };
  }, [client, visible, info]);

  // Live: a created key that matches joins the list (once every page is loaded: a later page brings it
  // otherwise), a removed one leaves it, any other change refreshes its row.
  useEffect(() => {
    const matcher = compilePattern(query.pattern);
    return feed.subscribe((event) => {
      if (!changesKey(event)) {
        return;
      }
      const { key } = event;
      setInfo((previous) => {
        if (!previous.has(key)) {
          return previous;
        }
        const next = new Map(previous);
        next.delete(key);
        return next;
      });
      if (removesKey(event)) {
        setKeys((previous) => (previous.includes(key) ? previous.filter((k) => k !== key) : previous));
      } else if (!listing.current.inFlight && listing.current.cursor === "" && matches(key, matcher, query.includeReserved)) {
        setKeys((previous) => (previous.includes(key) ? previous : [...previous, key]));
      }
    });
  }, [feed, query]);

  const anyLifespan = visible.some((key) => hasLifespan(info.get(key)));
  const now = useNow(anyLifespan, 200);

  const onListKey = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      return;
    }
    event.preventDefault();
    const index = selected === undefined ? -1 : keys.indexOf(selected);
    const next = Math.min(keys.length - 1, Math.max(0, index + (event.key === "ArrowDown" ? 1 : -1)));
    const key = keys[next];
    if (key !== undefined) {
      onSelect(key);
      const top = next * rowHeight;
      const list = listRef.current;
      if (list !== null && (top < list.scrollTop || top + rowHeight > list.scrollTop + viewportHeight)) {
        list.scrollTop = top - viewportHeight / 2;
      }
      requestAnimationFrame(() => list?.querySelector<HTMLButtonElement>(`[data-key="${CSS.escape(key)}"]`)?.focus());
    }
  };

  return (
    <section className="panel key-browser" aria-labelledby="keys-heading">
      <h2 id="keys-heading">Keys</h2>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery((previous) => ({ ...previous, pattern: patternInput }));
        }}
      >
        <label className="grow">
          Pattern (RE2)
          <input
            value={patternInput}
            onChange={(event) => setPatternInput(event.target.value)}
            placeholder="e.g. ^user/"
            spellCheck={false}
          />
        </label>
        <button type="submit">Search</button>
        <label className="check">
          <input
            type="checkbox"
            checked={query.includeReserved}
            onChange={(event) => setQuery((previous) => ({ ...previous, includeReserved: event.target.checked }))}
          />
          Reserved keys
        </label>
      </form>
      <p className="muted" aria-live="polite" data-testid="key-count">
        {keys.length} {keys.length === 1 ? "key" : "keys"}
        {more ? " loaded, more as you scroll" : ""}
        {loading ? " (loading…)" : ""}
      </p>
      <div className="key-row key-header" aria-hidden="true">
        <span>Key</span>
        <span>Size</span>
        <span>Type</span>
        <span>Ver.</span>
        <span>Lock</span>
        <span>Lifespan</span>
      </div>
      <ul
        ref={listRef}
        className="key-list"
        style={{ height: viewportHeight }}
        aria-label="Keys"
        onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
        onKeyDown={onListKey}
      >
        <li aria-hidden="true" style={{ height: first * rowHeight }} />
        {visible.map((key) => (
          <li key={key} style={{ height: rowHeight }}>
            <button
              type="button"
              className="key-row"
              data-key={key}
              aria-current={key === selected ? "true" : undefined}
              onClick={() => onSelect(key)}
            >
              <KeyRowCells name={key} info={info.get(key)} now={now} />
            </button>
          </li>
        ))}
        <li aria-hidden="true" style={{ height: (keys.length - last) * rowHeight }} />
      </ul>
    </section>
  );
}

function KeyRowCells({ name, info, now }: { name: string; info: RowInfo | undefined; now: number }) {
  if (info === undefined || "error" in info) {
    return (
      <>
        <span className="key-name">{name}</span>
        <span className="muted span-rest">{info === undefined ? "…" : info.error}</span>
      </>
    );
  }
  return (
    <>
      <span className="key-name">{name}</span>
      <span>{formatBytes(info.size)}</span>
      <span className="truncate">{info.contentType}</span>
      <span>{String(info.version)}</span>
      <span>{info.locked ? `locked #${info.fencingToken ?? ""}` : "—"}</span>
      <span>{lifespanLabel(info, now)}</span>
    </>
  );
}

function hasLifespan(info: RowInfo | undefined): boolean {
  return info !== undefined && !("error" in info) && lifespanDeadline(info) !== undefined;
}

function lifespanLabel(info: InspectResponse, now: number): string {
  const deadline = lifespanDeadline(info);
  return deadline === undefined ? "—" : secondsLeft(deadline, now);
}

/**
 * The pattern as a JavaScript RegExp (RE2's syntax is nearly a subset), or
 * undefined when it does not compile here: then new keys join the list when it is searched again.
 */
function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}

function matches(key: string, matcher: RegExp | undefined, includeReserved: boolean): boolean {
  if (!includeReserved && key.toLowerCase().startsWith("keyquarry")) {
    return false;
  }
  return matcher !== undefined && matcher.test(key);
}
