/**
 * A parsed listen address: a TCP host and port (host "" = all interfaces;
 * IPv6 hosts are stored without brackets) or a Unix socket path (absolute or
 * relative to the working directory).
 */
export type ListenAddress =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string };

/**
 * Parses `host:port`, `:port`, `host` (gets `defaultPort`), `[::1]:port`,
 * `tcp://host:port`, `unix:///abs/path.sock` or `unix://relative.sock`.
 * Port 0 is accepted (the OS picks a free port, handy in tests). Throws an
 * Error with a readable message for an invalid port, an unknown scheme or a
 * malformed host.
 */
export function parseListenAddress(text: string, defaultPort: number): ListenAddress {
  function fail(why: string): never {
    throw new Error(`invalid listen address ${JSON.stringify(text)}: ${why}`);
  }
  if (text.trim() === "") fail("empty address");

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  let rest = text;
  if (scheme) {
    const name = scheme[1]?.toLowerCase();
    rest = text.slice(scheme[0].length);
    if (name === "unix") {
      if (rest === "") fail("missing socket path after unix://");
      return { kind: "unix", path: rest };
    }
    if (name !== "tcp") fail(`unsupported scheme "${scheme[1]}://" (use tcp:// or unix://)`);
  }

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) fail("missing ']' after IPv6 address");
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) fail(`unexpected ${JSON.stringify(after)} after ']'`);
    if (after !== "") portText = after.slice(1);
    if (host === "") fail("empty IPv6 address in brackets");
  } else {
    const colons = rest.split(":").length - 1;
    if (colons > 1) fail(`IPv6 addresses must be written in brackets, e.g. [::1]:${defaultPort}`);
    const colon = rest.indexOf(":");
    host = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) portText = rest.slice(colon + 1);
  }
  // Whitespace, slashes and stray brackets mean a typo, not a host name.
  if (/[\s/[\]@]/.test(host)) fail(`invalid host ${JSON.stringify(host)}`);

  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) fail(`invalid port ${JSON.stringify(portText)}`);
    port = Number(portText);
    if (port > 65535) fail(`port ${port} is out of range (0-65535)`);
  }
  return { kind: "tcp", host, port };
}

/**
 * Formats a {@link ListenAddress} unambiguously: `tcp://host:port`
 * (`tcp://[::1]:port` for IPv6, `tcp://:port` for all interfaces),
 * `unix:///abs/path.sock` or `unix://relative.sock`. The result parses back
 * to the same address.
 */
export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === "unix") return `unix://${a.path}`;
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  return `tcp://${host}:${a.port}`;
}
