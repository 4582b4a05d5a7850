import { KeyEvent } from "@keyquarry/client-web";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import type { EventFeed } from "./use-event-feed.js";

/** The live event feed: newest first, with the stream's state, the latest progress mark and how often it resumed. */
export function EventFeedView({ feed, onSelect }: { feed: EventFeed; onSelect(key: string): void }) {
  // Every value the console shows is a read (ACCESSED): they can drown the changes.
  const [hideReads, setHideReads] = useState(false);
  const shown = hideReads ? feed.events.filter((event) => event.event !== KeyEvent.ACCESSED) : feed.events;
  return (
    <section className="panel event-feed" aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <p className="muted" data-testid="feed-status">
        <span data-state={feed.status === "live" ? "live" : "other"}>{feed.status}</span>
        {feed.progressRevision !== undefined && <> · last progress mark at revision {String(feed.progressRevision)}</>}
        {feed.resumes > 0 && <> · resumed {feed.resumes}×</>}
      </p>
      <label className="check">
        <input type="checkbox" checked={hideReads} onChange={(event) => setHideReads(event.target.checked)} />
        Hide reads (ACCESSED)
      </label>
      <ol className="events" aria-label="Latest events">
        {shown.map((event) => (
          <li key={String(event.revision)} data-revision={String(event.revision)} data-event={KeyEvent[event.event]} data-key={event.key}>
            <span className="revision">#{String(event.revision)}</span>{" "}
            <span className={`event-kind kind-${KeyEvent[event.event]?.toLowerCase()}`}>{KeyEvent[event.event]}</span>{" "}
            <button type="button" className="link" onClick={() => onSelect(event.key)}>
              {event.key}
            </button>{" "}
            <span className="muted">
              by {event.clientId}
              {event.time !== undefined && ` at ${timestampDate(event.time).toLocaleTimeString()}`}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
