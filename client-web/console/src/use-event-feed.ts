import { KeyEvent, resumableWatch, type Event, type KeyquarryWebClient, type ResumableWatchStatus } from "@keyquarry/client-web";
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./describe-error.js";

/** Events kept on screen. */
const feedLength = 200;

/** A listener of every key event (never progress marks). */
export type KeyEventListener = (event: Event) => void;

/** What {@link useEventFeed} offers the page. */
export interface EventFeed {
  /** The latest events, newest first. */
  events: readonly Event[];
  /** Revision of the latest progress mark. */
  progressRevision: bigint | undefined;
  /** "connecting", "live", "reconnecting in 1.2 s (…)" or the error that ended the watch. */
  status: string;
  /** How many times the stream was resumed after a drop. */
  resumes: number;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: KeyEventListener): () => void;
}

/**
 * Watches every key event of the server for as long as the page is open,
 * resuming after drops and restarts from the last revision received (the
 * SDK's resumableWatch), with a progress mark every 2 s.
 */
export function useEventFeed(client: KeyquarryWebClient): EventFeed {
  const [events, setEvents] = useState<readonly Event[]>([]);
  const [progressRevision, setProgressRevision] = useState<bigint>();
  const [status, setStatus] = useState("connecting");
  const [resumes, setResumes] = useState(0);
  const listeners = useRef(new Set<KeyEventListener>());

  useEffect(() => {
    const controller = new AbortController();
    const onStatus = (next: ResumableWatchStatus) => {
      if (next.state === "connected") {
        setStatus("live");
        if (next.resumedAfter !== undefined) {
          setResumes((n) => n + 1);
        }
      } else {
        const cause = next.error === undefined ? "stream ended" : next.error.rawMessage;
        setStatus(`reconnecting in ${(next.delayMs / 1000).toFixed(1)} s (${cause})`);
      }
    };
    const open = (startRevision: bigint | undefined, signal: AbortSignal) =>
      client.watchStream({ startRevision, progressInterval: { seconds: 2n } }, { signal });
    void (async () => {
      try {
        for await (const message of resumableWatch(open, { signal: controller.signal, onStatus })) {
          if (message.progress) {
            setProgressRevision(message.revision);
            continue;
          }
          setEvents((previous) => [message, ...previous].slice(0, feedLength));
          for (const listener of listeners.current) {
            listener(message);
          }
        }
      } catch (error) {
        setStatus(describeError("Watching events", error));
      }
    })();
    return () => controller.abort();
  }, [client]);

  const subscribe = useCallback((listener: KeyEventListener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);
  return { events, progressRevision, status, resumes, subscribe };
}

/** Events that change what a key browser row or the value view shows. */
export function changesKey(event: Event): boolean {
  return event.event !== KeyEvent.ACCESSED && event.event !== KeyEvent.NO_EVENT;
}

/** Events after which the key no longer exists. */
export function removesKey(event: Event): boolean {
  return event.event === KeyEvent.DELETED || event.event === KeyEvent.EXPIRED || event.event === KeyEvent.EXPUNGED;
}
