/** Port a keyquarry server listens on when an address names none. */
export const defaultPort = 33969;

/** Where a keyquarry server is reached, as derived from an address string. */
export interface ParsedAddress {
  /** `host:port` for the request URL; `localhost` for unix sockets. */
  authority: string;
  /** Path prefix of the request URL without a trailing slash, usually "". */
  pathPrefix: string;
  /** Unix socket to connect through instead of TCP. */
  socketPath?: string;
  /** True if the address itself asks for TLS (`https://...`). */
  tls: boolean;
}

/**
 * Parses the address forms accepted by the keyquarry CLI and SDK:
 * `host:port`, `:port` (localhost), `host` (port 33969), `[::1]:port`,
 * `tcp://host:port`, `http://host:port[/prefix]`, `https://host:port[/prefix]`,
 * `unix:///abs/path.sock` and `unix://relative/path.sock`.
 *
 * A missing port is always 33969, even for http(s) URLs, so that every form
 * behaves like the original Go client.
 */
export function parseAddress(address: string): ParsedAddress {
  const schemeEnd = address.indexOf("://");
  const scheme = schemeEnd < 0 ? "" : address.slice(0, schemeEnd).toLowerCase();
  const rest = schemeEnd < 0 ? address : address.slice(schemeEnd + 3);
  switch (scheme) {
    case "unix":
      if (rest === "") {
        throw new Error(`invalid address '${address}': missing socket path`);
      }
      return { authority: "localhost", pathPrefix: "", socketPath: rest, tls: false };
    case "":
    case "tcp":
    case "http":
    case "https": {
      const slash = rest.indexOf("/");
      const hostPort = slash < 0 ? rest : rest.slice(0, slash);
      const pathPrefix = slash < 0 ? "" : rest.slice(slash).replace(/\/+$/, "");
      return {
        authority: parseAuthority(hostPort, address),
        pathPrefix,
        tls: scheme === "https",
      };
    }
    default:
      throw new Error(`invalid address '${address}': unsupported scheme '${scheme}'`);
  }
}

function parseAuthority(hostPort: string, address: string): string {
  let host: string;
  let port: string;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) {
      throw new Error(`invalid address '${address}': unterminated IPv6 address`);
    }
    host = hostPort.slice(0, close + 1);
    port = hostPort.slice(close + 1).replace(/^:/, "");
  } else if (hostPort.indexOf(":") !== hostPort.lastIndexOf(":")) {
    // Several colons without brackets can only be a bare IPv6 address.
    host = `[${hostPort}]`;
    port = "";
  } else {
    const colon = hostPort.indexOf(":");
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    port = colon < 0 ? "" : hostPort.slice(colon + 1);
  }
  if (port === "") {
    port = String(defaultPort);
  } else if (!/^\d+$/.test(port) || Number(port) > 65535) {
    throw new Error(`invalid address '${address}': invalid port '${port}'`);
  }
  return `${host === "" ? "localhost" : host}:${port}`;
}
