import { createServer, type AddressInfo } from "node:net";

/**
 * A TCP port free on 127.0.0.1 right now. Only for an address nobody must
 * listen on, or for a program that cannot listen on port 0 and say which
 * port it got (PostgreSQL): anything else listens on port 0 and reads its
 * bound address, since another process may take this port before it is used.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => probe.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/**
 * `count` distinct TCP ports free on 127.0.0.1 right now (all probed at
 * once, so none is handed out twice), for a cluster of programs that must
 * know each other's ports before any of them starts (see {@link freePort}).
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  try {
    await Promise.all(
      probes.map(
        (probe) =>
          new Promise<void>((resolve, reject) => {
            probe.once("error", reject);
            probe.listen(0, "127.0.0.1", resolve);
          }),
      ),
    );
    return probes.map((probe) => (probe.address() as AddressInfo).port);
  } finally {
    await Promise.all(probes.map((probe) => new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()))));
  }
}
