import { useCallback, useMemo, useState } from "react";
import { CallerForm } from "./caller-form.js";
import { createConsoleClient, initialCaller, storeCaller, type ConsoleCaller } from "./console-client.js";
import { EventFeedView } from "./event-feed-view.js";
import { KeyBrowser } from "./key-browser.js";
import { KeyDetails, type OwnLock } from "./key-details.js";
import { NewKeyForm } from "./new-key-form.js";
import { StatsPanel } from "./stats-panel.js";
import { useEventFeed } from "./use-event-feed.js";
import { useServerStats } from "./use-server-stats.js";

type Theme = "light" | "dark";

/** Errors kept on screen. */
const errorsShown = 5;

/** The console: header (client id or token, theme), read-only banner, errors, key browser, key details, stats and events. */
export function App() {
  const [caller, setCaller] = useState(initialCaller);
  const client = useMemo(() => createConsoleClient(caller), [caller]);
  const feed = useEventFeed(client);
  const [selected, setSelected] = useState<string>();
  const [errors, setErrors] = useState<string[]>([]);
  const [ownLocks, setOwnLocks] = useState<ReadonlyMap<string, OwnLock>>(new Map());
  const [theme, setTheme] = useState<Theme>(() =>
    (localStorage.getItem("keyquarry.console.theme") as Theme | null) ??
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"),
  );
  document.documentElement.dataset["theme"] = theme;

  const onError = useCallback((message: string) => setErrors((previous) => [message, ...previous].slice(0, errorsShown)), []);
  const stats = useServerStats(client, onError);
  const changeCaller = useCallback((next: ConsoleCaller) => {
    storeCaller(next);
    setCaller(next);
    // The refusals of the previous caller no longer apply.
    setErrors([]);
  }, []);
  const setOwnLock = useCallback((key: string, lock: OwnLock | undefined) => {
    setOwnLocks((previous) => {
      const next = new Map(previous);
      if (lock === undefined) {
        next.delete(key);
      } else {
        next.set(key, lock);
      }
      return next;
    });
  }, []);

  return (
    <>
      <header className="top">
        <h1>keyquarry</h1>
        <CallerForm caller={caller} onChange={changeCaller} />
        <button
          type="button"
          onClick={() => {
            const next = theme === "dark" ? "light" : "dark";
            localStorage.setItem("keyquarry.console.theme", next);
            setTheme(next);
          }}
        >
          {theme === "dark" ? "Light theme" : "Dark theme"}
        </button>
      </header>
      {stats.latest?.readonly === true && (
        <p className="banner" role="status" data-testid="read-only-banner">
          The server is in read-only mode: writes are refused.
        </p>
      )}
      <div role="alert" className="errors" aria-live="assertive">
        {errors.map((message, i) => (
          <p key={`${i}-${message}`} className="error">
            {message}{" "}
            <button type="button" className="link" onClick={() => setErrors((previous) => previous.filter((_, j) => j !== i))}>
              Dismiss
            </button>
          </p>
        ))}
      </div>
      <main className="layout">
        <div className="column">
          <KeyBrowser client={client} feed={feed} selected={selected} onSelect={setSelected} onError={onError} />
          <NewKeyForm client={client} onCreated={setSelected} onError={onError} />
        </div>
        <div className="column">
          {selected === undefined ? (
            <section className="panel" aria-label="Key details">
              <p className="muted">Select a key to see its value, lock, lifespan, metrics and history.</p>
            </section>
          ) : (
            <KeyDetails
              key={selected}
              client={client}
              feed={feed}
              keyName={selected}
              ownLock={ownLocks.get(selected)}
              setOwnLock={setOwnLock}
              onError={onError}
            />
          )}
        </div>
        <div className="column">
          <StatsPanel stats={stats} />
          <EventFeedView feed={feed} onSelect={setSelected} />
        </div>
      </main>
    </>
  );
}
