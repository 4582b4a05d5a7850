// Ceiling for the gRPC rows: a raw node:http2 (h2c) server that answers
// every request, once its body has been read, with a fixed pre-encoded gRPC
// response: HEADERS, one DATA frame, trailers (grpc-status 0). Any path
// ending in /Set or /Put gets a SetResponse{success: true}; everything else a
// GetResponse with the 100-byte benchmark value. No routing, no decoding.
// Usage: node --import tsx bench/ceiling-http2.ts PORT
import http2 from "node:http2";
import { benchValue, grpcFrame, lenField, varintField } from "./lib/proto.js";

const port = Number(process.argv[2]);
const getBody = grpcFrame(lenField(1, benchValue));
const setBody = grpcFrame(varintField(1, 1));
const headers = { ":status": 200, "content-type": "application/grpc" };
const trailers = { "grpc-status": "0" };

const server = http2.createServer();
server.on("stream", (stream, requestHeaders) => {
  const path = String(requestHeaders[":path"] ?? "");
  const body = path.endsWith("/Set") || path.endsWith("/Put") ? setBody : getBody;
  stream.on("error", () => {});
  stream.on("data", () => {});
  stream.on("end", () => {
    if (stream.destroyed || stream.closed) return;
    stream.respond(headers, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end(body);
  });
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
