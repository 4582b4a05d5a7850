import { describe, expect, it } from "vitest";
import { formatListenAddress, parseListenAddress, type ListenAddress } from "./listen-address.js";

describe("parseListenAddress", () => {
  it.each<[string, ListenAddress]>([
    ["localhost:33969", { kind: "tcp", host: "localhost", port: 33969 }],
    ["127.0.0.1:9000", { kind: "tcp", host: "127.0.0.1", port: 9000 }],
    [":9000", { kind: "tcp", host: "", port: 9000 }],
    ["example.com", { kind: "tcp", host: "example.com", port: 1234 }],
    ["tcp://example.com:80", { kind: "tcp", host: "example.com", port: 80 }],
    ["TCP://example.com:80", { kind: "tcp", host: "example.com", port: 80 }],
    ["tcp://example.com", { kind: "tcp", host: "example.com", port: 1234 }],
    ["tcp://:0", { kind: "tcp", host: "", port: 0 }],
    ["[::1]:9000", { kind: "tcp", host: "::1", port: 9000 }],
    ["[::]", { kind: "tcp", host: "::", port: 1234 }],
    ["tcp://[fe80::1]:65535", { kind: "tcp", host: "fe80::1", port: 65535 }],
    ["unix:///run/keyquarry.sock", { kind: "unix", path: "/run/keyquarry.sock" }],
    ["unix://kq.sock", { kind: "unix", path: "kq.sock" }],
    ["unix://./dir/kq.sock", { kind: "unix", path: "./dir/kq.sock" }],
  ])("%j", (text, expected) => {
    expect(parseListenAddress(text, 1234)).toEqual(expected);
  });

  it.each<[string, string]>([
    ["", "empty address"],
    ["localhost:", 'invalid port ""'],
    ["localhost:http", 'invalid port "http"'],
    ["localhost:-1", 'invalid port "-1"'],
    ["localhost:65536", "port 65536 is out of range"],
    ["localhost:123456", 'invalid port "123456"'],
    ["::1", "IPv6 addresses must be written in brackets"],
    ["::1:9000", "IPv6 addresses must be written in brackets"],
    ["[::1", "missing ']'"],
    ["[::1]9000", "unexpected \"9000\" after ']'"],
    ["[]:9000", "empty IPv6 address"],
    ["http://localhost:80", 'unsupported scheme "http://"'],
    ["udp://localhost:80", 'unsupported scheme "udp://"'],
    ["unix://", "missing socket path"],
    ["local host:80", 'invalid host "local host"'],
    ["tcp://host/path:80", 'invalid host "host/path"'],
  ])("rejects %j", (text, message) => {
    expect(() => parseListenAddress(text, 1234)).toThrow(message);
    expect(() => parseListenAddress(text, 1234)).toThrow(`invalid listen address ${JSON.stringify(text)}`);
  });
});

describe("formatListenAddress", () => {
  it.each<[ListenAddress, string]>([
    [{ kind: "tcp", host: "localhost", port: 33969 }, "tcp://localhost:33969"],
    [{ kind: "tcp", host: "", port: 9000 }, "tcp://:9000"],
    [{ kind: "tcp", host: "::1", port: 9000 }, "tcp://[::1]:9000"],
    [{ kind: "unix", path: "/run/kq.sock" }, "unix:///run/kq.sock"],
    [{ kind: "unix", path: "kq.sock" }, "unix://kq.sock"],
  ])("%j → %j", (address, expected) => {
    expect(formatListenAddress(address)).toBe(expected);
    expect(parseListenAddress(expected, 1)).toEqual(address);
  });
});
