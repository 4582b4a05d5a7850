import { describe, expect, it } from "vitest";
import { suggestOption } from "./suggest-option.js";

describe("suggestOption", () => {
  it.each<[string, string | undefined]>([
    ["max_kyes", "max_keys"], // transposition
    ["listen_adress", "listen_address"], // deletion
    ["snapshot.retian", "snapshot.retain"],
    ["graceful_stop_timout", "graceful_stop_timeout"], // aliases are candidates too
    ["metric", "metrics"],
    ["max_keys", "max_keys"],
    ["foo", undefined], // short names get no far-fetched guesses
    ["completely_unrelated_option", undefined],
    ["", undefined],
  ])("%j → %j", (name, expected) => {
    expect(suggestOption(name)).toBe(expected);
  });
});
