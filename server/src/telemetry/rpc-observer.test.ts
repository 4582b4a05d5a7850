import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { describe, expect, it } from "vitest";
import { composeRpcObservers, noopRpcObserver, protocolOf, type RpcObserver } from "./rpc-observer.js";

describe("protocolOf", () => {
  it("tells gRPC, gRPC-Web and Connect apart by content type", () => {
    expect(protocolOf("application/grpc")).toBe("grpc");
    expect(protocolOf("application/grpc+json")).toBe("grpc");
    expect(protocolOf("application/grpc-web+proto")).toBe("grpc-web");
    expect(protocolOf("application/grpc-web-text")).toBe("grpc-web");
    expect(protocolOf("application/proto")).toBe("connect");
    expect(protocolOf("application/connect+json")).toBe("connect");
    expect(protocolOf(null)).toBe("connect");
  });
});

/** An observer writing what it is told into `log`. */
function recording(name: string, log: string[]): RpcObserver {
  return {
    enabled: true,
    start(method, protocol) {
      log.push(`${name} start ${method.name} ${protocol}`);
      return {
        received: () => log.push(`${name} received`),
        sent: () => log.push(`${name} sent`),
        end: (code) => log.push(`${name} end ${code}`),
      };
    },
  };
}

describe("composeRpcObservers", () => {
  it("is the no-op observer for none and the observer itself for one", () => {
    expect(composeRpcObservers([])).toBe(noopRpcObserver);
    expect(noopRpcObserver.enabled).toBe(false);
    const one = recording("one", []);
    expect(composeRpcObservers([one])).toBe(one);
  });

  it("tells every observer every step of a call", () => {
    const log: string[] = [];
    const both = composeRpcObservers([recording("a", log), recording("b", log)]);
    expect(both.enabled).toBe(true);
    const call = both.start(KeyQuarry.method.get, "grpc-web", {});
    call.received();
    call.sent();
    call.end(5);
    expect(log).toEqual(["a start Get grpc-web", "b start Get grpc-web", "a received", "b received", "a sent", "b sent", "a end 5", "b end 5"]);
  });
});
