import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let test: TestServer | undefined;
afterEach(() => test?.close());

const preflight = (url: string, origin: string) =>
  fetch(`${url}/keyquarry.KeyQuarry/Get`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,client_id,connect-protocol-version",
    },
  });

describe("CORS", () => {
  it("answers preflights of allowed origins, with the client id header allowed", async () => {
    test = await startTestServer({ corsOrigins: "http://app.example, http://other.example" });
    const response = await preflight(test.url, "http://other.example");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://other.example");
    expect(response.headers.get("access-control-allow-headers")?.split(/,\s*/)).toEqual(
      expect.arrayContaining(["client_id", "client-id", "Content-Type", "Connect-Protocol-Version"]),
    );
    const refused = await preflight(test.url, "http://evil.example");
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows any origin with *", async () => {
    test = await startTestServer({ corsOrigins: "*" });
    expect((await preflight(test.url, "http://anywhere.example")).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("sends no CORS headers by default", async () => {
    test = await startTestServer();
    const response = await fetch(`${test.url}/keyquarry.KeyQuarry/Exists`, {
      method: "POST",
      headers: { origin: "http://app.example", "content-type": "application/json", client_id: "web" },
      body: '{"key":"x"}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
