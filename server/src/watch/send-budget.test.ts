import { describe, expect, it, vi } from "vitest";
import { SendBudget } from "./send-budget.js";

describe("SendBudget", () => {
  it("takes what fits at once and counts it", () => {
    const budget = new SendBudget(100);
    expect(budget.take(60, () => {})).toBeUndefined();
    expect(budget.take(40, () => {})).toBeUndefined();
    expect([budget.inUse, budget.waiting]).toEqual([100, 0]);
  });

  it("queues what does not fit and grants it, first come first served, as room is given back", () => {
    const budget = new SendBudget(100);
    budget.take(80, () => {});
    const granted: string[] = [];
    budget.take(50, () => granted.push("first"));
    budget.take(10, () => granted.push("second")); // would fit, but waits its turn
    expect([budget.waiting, granted]).toEqual([2, []]);
    budget.release(80);
    expect(granted).toEqual(["first", "second"]);
    expect([budget.inUse, budget.waiting]).toEqual([60, 0]);
  });

  it("lets one message larger than the limit through when nothing else is in flight", () => {
    const budget = new SendBudget(100);
    expect(budget.take(500, () => {})).toBeUndefined();
    const grant = vi.fn();
    budget.take(1, grant);
    budget.release(500);
    expect(grant).toHaveBeenCalledTimes(1);
  });

  it("never grants a cancelled request", () => {
    const budget = new SendBudget(10);
    budget.take(10, () => {});
    const grant = vi.fn();
    budget.cancel(budget.take(5, grant)!);
    budget.release(10);
    expect([grant.mock.calls.length, budget.waiting, budget.inUse]).toEqual([0, 0, 0]);
  });

  it("only counts with a limit of 0", () => {
    const budget = new SendBudget(0);
    for (let i = 0; i < 10; i++) expect(budget.take(1e9, () => {})).toBeUndefined();
    expect(budget.inUse).toBe(1e10);
  });
});
