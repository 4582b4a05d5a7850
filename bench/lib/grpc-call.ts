// One unary gRPC call over h2c with node:http2, returning the raw messages
// and grpc-status: used to check that every target really answers the exact
// request the load generator sends (so a wrong path cannot look fast).
import http2 from "node:http2";
import { grpcUnframe } from "./proto.js";

export interface GrpcCallResult {
  httpStatus: number;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
  messages: Buffer[];
}

export const grpcHeaders = {
  "content-type": "application/grpc",
  te: "trailers",
  client_id: "bench",
} as const;

export function grpcCall(port: number, path: string, body: Buffer, timeoutMs = 5000): Promise<GrpcCallResult> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`gRPC call ${path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      session.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    session.once("error", fail);
    const stream = session.request({ ":method": "POST", ":path": path, ...grpcHeaders });
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const chunks: Buffer[] = [];
    stream.once("response", (headers) => {
      httpStatus = Number(headers[":status"]);
      // Trailers-only responses put grpc-status in the headers.
      if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
      if (headers["grpc-message"] !== undefined) grpcMessage = String(headers["grpc-message"]);
    });
    stream.on("trailers", (trailers) => {
      if (trailers["grpc-status"] !== undefined) grpcStatus = String(trailers["grpc-status"]);
      if (trailers["grpc-message"] !== undefined) grpcMessage = String(trailers["grpc-message"]);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("error", fail);
    stream.once("end", () => {
      clearTimeout(timer);
      session.close();
      resolve({ httpStatus, grpcStatus, grpcMessage, messages: grpcUnframe(Buffer.concat(chunks)) });
    });
    stream.end(body);
  });
}
