/**
 * The transport a watch stream writes to, as far as the watch limits need
 * it: the bytes it still holds for the watcher, and a way to drop them.
 */
export interface WatchSink {
  /** Bytes written to the stream that the peer has not taken yet (stream and socket write buffers). */
  readonly queuedBytes: number;
  /**
   * Ends the stream at once, dropping what it holds: a watcher that does
   * not read would never receive trailers queued behind its data.
   */
  reset(): void;
}
