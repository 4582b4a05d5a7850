import type { Interceptor } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { describe, expect, it } from "vitest";
import { createKeyquarryWebClient, type KeyquarryWebClientOptions } from "./create-keyquarry-web-client.js";

/** A fetch that records each request and fails it, so no server is needed. */
function recordingFetch() {
  const requests: Request[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push(new Request(input, init));
    return Promise.reject(new Error("offline"));
  };
  return { fetch, requests };
}

/** Makes one Get call with `options` and returns the request it sent. */
async function sentRequest(options: KeyquarryWebClientOptions): Promise<Request> {
  const { fetch, requests } = recordingFetch();
  const client = createKeyquarryWebClient("http://kv.example:8080/base", { ...options, fetch });
  await expect(client.get({ key: "foo" })).rejects.toThrow("offline");
  const [request] = requests;
  if (request === undefined) {
    throw new Error("no request was sent");
  }
  return request;
}

describe("createKeyquarryWebClient", () => {
  it("speaks binary gRPC-Web by default, under the base URL", async () => {
    const request = await sentRequest({ clientId: "a" });
    expect(request.url).toBe(`http://kv.example:8080/base/${KeyQuarry.typeName}/Get`);
    expect(request.headers.get("content-type")).toBe("application/grpc-web+proto");
  });

  it.each([
    ["grpc-web", false, "application/grpc-web+json"],
    ["connect", true, "application/proto"],
    ["connect", false, "application/json"],
  ] as const)("speaks %s with binary format %s", async (protocol, useBinaryFormat, contentType) => {
    const request = await sentRequest({ clientId: "a", protocol, useBinaryFormat });
    expect(request.headers.get("content-type")).toBe(contentType);
  });

  it("sends the client id on calls of both services", async () => {
    const { fetch, requests } = recordingFetch();
    const client = createKeyquarryWebClient("http://kv.example", { clientId: "web-app", fetch });
    await expect(client.get({ key: "foo" })).rejects.toThrow();
    await expect(client.admin.prune({})).rejects.toThrow();
    expect(requests.map((request) => [new URL(request.url).pathname, request.headers.get("client_id")])).toEqual([
      [`/${KeyQuarry.typeName}/Get`, "web-app"],
      [`/${Admin.typeName}/Prune`, "web-app"],
    ]);
  });

  it("runs extra interceptors after setting the client id", async () => {
    const seen: (string | null)[] = [];
    const spy: Interceptor = (next) => (req) => {
      seen.push(req.header.get("client_id"));
      return next(req);
    };
    await sentRequest({ clientId: "a", interceptors: [spy] });
    expect(seen).toEqual(["a"]);
  });

  it("rejects an unsupported protocol", () => {
    const options = { clientId: "a", protocol: "grpc" } as unknown as KeyquarryWebClientOptions;
    expect(() => createKeyquarryWebClient("http://kv.example", options)).toThrow(
      "unsupported protocol 'grpc' (must be: grpc-web or connect)",
    );
  });
});
