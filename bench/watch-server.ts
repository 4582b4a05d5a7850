// The keyquarry server in-process (build() from server/src/host/server.ts,
// default configuration, no logging), for the watch fan-out benchmark.
// Forked by watch-fanout.ts with an IPC channel: sends {type:"listening"}
// when ready, answers {type:"cpu"} with its CPU time since {type:"cpu-start"},
// and exits on {type:"stop"}.
// Usage: node --import tsx bench/watch-server.ts PORT
import { defaultConfig } from "../server/src/config/default-config.js";
import { build } from "../server/src/host/server.js";

const port = Number(process.argv[2]);
const config = { ...defaultConfig({}), listenAddress: `127.0.0.1:${port}`, logLevel: "ERROR" as const };
const server = await build(config, { logger: false });
await server.listen();
let cpuStart = process.cpuUsage();
const send = (message: unknown) => process.send?.(message);

process.on("message", (message: { type?: string }) => {
  if (message.type === "cpu-start") {
    cpuStart = process.cpuUsage();
    send({ type: "cpu-started" });
  } else if (message.type === "cpu") {
    const cpu = process.cpuUsage(cpuStart);
    send({ type: "cpu", userS: cpu.user / 1e6, systemS: cpu.system / 1e6, rssBytes: process.memoryUsage().rss });
  } else if (message.type === "stop") {
    const force = setTimeout(() => process.exit(0), 3000);
    void server.close().finally(() => {
      clearTimeout(force);
      process.exit(0);
    });
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "listening" });
