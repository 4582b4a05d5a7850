import type { Socket } from "node:net";

// Kept on the accepted socket itself (not in a WeakMap) so that it can be
// found through the Proxy that Http2Session.socket returns.
const deadline = Symbol("handshake deadline");

type Tracked = { [deadline]?: NodeJS.Timeout; _parent?: unknown };

/**
 * Destroys `socket` unless {@link completeHandshake} is called for it within
 * `timeoutMs` (0 = never). Covers everything before the first exchange —
 * silence, a partial HTTP/2 preface, a slow TLS handshake, a slow first
 * request — which no sub-server can time out, as httpolyglot hands a socket
 * on only after sniffing its first bytes.
 */
export function armHandshakeDeadline(socket: Socket, timeoutMs: number): void {
  const tracked = socket as Socket & Tracked;
  if (timeoutMs === 0 || deadline in tracked) {
    return;
  }
  tracked[deadline] = setTimeout(() => socket.destroy(), timeoutMs);
  socket.once("close", () => clearTimeout(tracked[deadline]));
}

/**
 * Marks the connection of `socket` as established: its deadline no longer
 * applies. `socket` may be the accepted socket, the TLS socket on top of it
 * or an HTTP/2 session's socket proxy.
 */
export function completeHandshake(socket: object): void {
  // A TLS socket's `_parent` is the accepted socket it was made from.
  const tracked = socket as Tracked;
  const accepted = (tracked._parent ?? tracked) as Tracked;
  clearTimeout(accepted[deadline]);
}
