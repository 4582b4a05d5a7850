import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { describe, expect, it } from "vitest";
import { StoreEventKind, storeEventKinds } from "../store/store-event-kind.js";
import { keyEventOf } from "./key-event-of.js";

describe("keyEventOf", () => {
  it("maps every store event kind to the protocol's KeyEvent of the same name", () => {
    expect(storeEventKinds).toHaveLength(Object.keys(KeyEvent).filter((name) => Number.isNaN(Number(name))).length - 1);
    for (const kind of storeEventKinds) {
      expect(KeyEvent[keyEventOf(kind)]).toBe(StoreEventKind[kind]);
    }
  });
});
