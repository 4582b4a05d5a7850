import { describe, expect, it } from "vitest";
import { redactSecrets } from "./redact-secrets.js";

describe("redactSecrets", () => {
  it.each([
    ["postgres://kq:hunter2@db:5432/kq", "postgres://kq:***@db:5432/kq"],
    ["postgresql://kq:p%40ss@db/kq?sslmode=require", "postgresql://kq:***@db/kq?sslmode=require"],
    ["connect to postgres://a:b@h/d failed; retry postgres://c:d@h/d", "connect to postgres://a:***@h/d failed; retry postgres://c:***@h/d"],
    ["postgres://db/kq?user=kq&password=hunter2&sslmode=verify-full", "postgres://db/kq?user=kq&password=***&sslmode=verify-full"],
    ["host=db password=hunter2 sslpassword=x dbname=kq", "host=db password=*** sslpassword=*** dbname=kq"],
  ])("hides the password in %s", (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it.each(["postgres://kq@db/kq", "sqlite:///var/lib/kq.db", "http://127.0.0.1:33969", "key a:b@c, no scheme"])(
    "leaves %s alone (no password in it)",
    (text) => {
      expect(redactSecrets(text)).toBe(text);
    },
  );
});
