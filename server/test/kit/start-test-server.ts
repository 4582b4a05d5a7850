import type { Config } from "../../src/config/config.js";
import { defaultConfig } from "../../src/config/default-config.js";
import { build, type BuildOptions, type KeyquarryServer } from "../../src/host/server.js";

/** A real server in this process, listening on a loopback port the kernel chose. */
export interface TestServer {
  server: KeyquarryServer;
  /** The bound address, `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Builds and starts a server on 127.0.0.1:0 (no free-port race) with the
 * given config overrides, logging nothing unless `options` says otherwise.
 */
export async function startTestServer(overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const config: Config = { ...defaultConfig(), listenAddress: "127.0.0.1:0", ...overrides };
  const server = await build(config, { logger: false, ...options });
  const url = await server.listen();
  return { server, url, close: () => server.close() };
}
