import { describe, expect, it } from "vitest";
import { parseAddress } from "./parse-address.js";

describe("parseAddress", () => {
  it.each([
    ["localhost:1234", "localhost:1234"],
    ["10.0.0.1:80", "10.0.0.1:80"],
    [":1234", "localhost:1234"],
    ["example.com", "example.com:33969"],
    ["", "localhost:33969"],
    ["[::1]:1234", "[::1]:1234"],
    ["[::1]", "[::1]:33969"],
    ["::1", "[::1]:33969"],
    ["tcp://host:5", "host:5"],
    ["http://host:5", "host:5"],
    ["http://host", "host:33969"],
  ])("reads TCP address %j as %s", (address, authority) => {
    expect(parseAddress(address)).toEqual({ authority, pathPrefix: "", tls: false });
  });

  it("asks for TLS with https and keeps a path prefix", () => {
    expect(parseAddress("https://example.com:8443/kv/")).toEqual({
      authority: "example.com:8443",
      pathPrefix: "/kv",
      tls: true,
    });
  });

  it("reads absolute and relative unix socket paths", () => {
    expect(parseAddress("unix:///tmp/kq.sock")).toEqual({
      authority: "localhost",
      pathPrefix: "",
      socketPath: "/tmp/kq.sock",
      tls: false,
    });
    expect(parseAddress("unix://kq.sock").socketPath).toBe("kq.sock");
  });

  it.each([
    ["unix://", "missing socket path"],
    ["ftp://host", "unsupported scheme 'ftp'"],
    ["host:port", "invalid port 'port'"],
    ["host:70000", "invalid port '70000'"],
    ["[::1", "unterminated IPv6 address"],
  ])("rejects %j", (address, reason) => {
    expect(() => parseAddress(address)).toThrow(`invalid address '${address}': ${reason}`);
  });
});
