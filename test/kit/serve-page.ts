import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A page served on a loopback port. */
export interface ServedPage {
  /** The page's URL (its origin plus "/"). */
  url: string;
  /** The page's origin, e.g. for a server's CORS settings. */
  origin: string;
  close(): Promise<void>;
}

/** Serves an empty page that runs `script` on a free loopback port. */
export async function servePage(script: string, title: string): Promise<ServedPage> {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><body><script src="/entry.js"></script>`;
  const pages = new Map([
    ["/", { type: "text/html; charset=utf-8", body: html }],
    ["/entry.js", { type: "text/javascript; charset=utf-8", body: script }],
  ]);
  const httpServer = createServer((req, res) => {
    const found = pages.get(req.url ?? "");
    res.writeHead(found === undefined ? 404 : 200, { "content-type": found?.type ?? "text/plain" });
    res.end(found?.body ?? "not found");
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { address, port } = httpServer.address() as AddressInfo;
  const origin = `http://${address}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () => new Promise<void>((resolve, reject) => httpServer.close((error) => (error ? reject(error) : resolve()))),
  };
}
