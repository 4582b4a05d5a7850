import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the web console is served on the main port. */
export const consolePath = "/ui/";

/**
 * The built console (client-web/console, copied by the server's build).
 * src/host and dist/lib sit equally deep, so one relative path serves the
 * sources in tests and the build, from the repository or a package install.
 */
export const consoleDir = fileURLToPath(new URL("../../dist/console/", import.meta.url));

/**
 * Serves the web console's files at /ui/ (and redirects /ui there). When the
 * console was not built, /ui/ answers 404 with a page that says how to build
 * it, rather than an RPC error a person cannot read.
 */
export async function consolePlugin(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? consoleDir;
  app.get(consolePath.slice(0, -1), (_request, reply) => void reply.redirect(consolePath));
  if (!existsSync(join(dir, "index.html"))) {
    app.get(`${consolePath}*`, (_request, reply) => {
      void reply.code(404).type("text/html; charset=utf-8").send(notBuiltPage(dir));
    });
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: consolePath, wildcard: true });
}

function notBuiltPage(dir: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>keyquarry console not built</title></head>
<body><h1>The keyquarry web console is not built</h1>
<p>No console was found in <code>${dir.replace(/[<>&]/g, "")}</code>. Run <code>npm run build</code> in the repository, then restart the server.</p></body></html>`;
}
