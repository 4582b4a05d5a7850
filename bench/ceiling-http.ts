// Ceiling for the Connect JSON rows: a raw node:http (HTTP/1.1) server that
// reads the request body and answers every request with the same fixed JSON
// body keyquarry returns for the benchmark Get ({"value": base64 of the
// 100-byte value}). Usage: node --import tsx bench/ceiling-http.ts PORT
import http from "node:http";
import { benchValue } from "./lib/proto.js";

const port = Number(process.argv[2]);
const body = Buffer.from(JSON.stringify({ value: benchValue.toString("base64") }));
const headers = { "content-type": "application/json", "content-length": String(body.length) };

const server = http.createServer((request, response) => {
  request.on("data", () => {});
  request.on("end", () => {
    response.writeHead(200, headers);
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
