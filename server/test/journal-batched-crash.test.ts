/**
 * kill -9 with the journal in `batched` mode (the weaker guarantee): a
 * write is acknowledged before it is durable, and a crash loses at most the
 * writes of the last journal_interval. Writes made longer ago than the
 * interval plus a margin before the kill are all there after a restart;
 * the later ones may be lost, but only from the end: the journal is
 * ordered, so what survives is a prefix of what was written.
 */
import { describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { textValueOf } from "./kit/text-value-of.js";
import { journalDrivers, journalSuite } from "./kit/journal-suite.js";

const intervalMs = 200;
/** Far more than a commit takes even on a busy machine: the test asserts on what is older than this. */
const marginMs = 2_000;

describe.each(journalDrivers)("kill -9 with journal batched (%s)", (driver) => {
  const suite = journalSuite(driver, "batched");
  const serve = () => suite.serve({ args: ["--journal", "batched", "--journal-interval", `${intervalMs}ms`] });

  const valueOf = (url: string, key: string) => textValueOf(createClients("grpc", url, "reader").kv, key);

  it("writes older than journal_interval plus a margin survive; later ones survive as a prefix", { timeout: 60_000 }, async () => {
    const first = await serve();
    const { kv } = createClients("grpc", first.url, "writer");
    for (let i = 0; i < 50; i++) {
      await kv.set({ key: `old/${i}`, value: bytes(`o${i}`) });
    }
    await kv.delete({ key: "old/0" });
    await new Promise((resolve) => setTimeout(resolve, intervalMs + marginMs));
    for (let i = 0; i < 50; i++) {
      await kv.set({ key: `new/${i}`, value: bytes(`n${i}`) });
    }
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await serve();
    expect(await valueOf(second.url, "old/0")).toBeUndefined();
    for (let i = 1; i < 50; i++) {
      expect(await valueOf(second.url, `old/${i}`), `old/${i}`).toBe(`o${i}`);
    }
    const survived = [];
    for (let i = 0; i < 50; i++) {
      survived.push((await valueOf(second.url, `new/${i}`)) === `n${i}`);
    }
    const lost = survived.indexOf(false);
    expect(survived.slice(lost === -1 ? 50 : lost)).not.toContain(true);
  });
});
