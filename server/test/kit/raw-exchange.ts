import { request as http1Request } from "node:http";
import { connect as http2Connect, constants } from "node:http2";

/** One request as sent on the wire: the same bytes go to every server it is compared on. */
export interface RawRequest {
  /** HTTP/2 with prior knowledge (h2c), or HTTP/1.1 (with content-length). */
  transport: "h2" | "http1";
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /**
   * Send the headers and all but the last byte of the body, and wait for the
   * answer without ending the request (a call whose deadline passes while
   * its body is read).
   */
  hold?: boolean;
}

/** What came back, in a form two answers can be compared by (`toEqual`). */
export interface RawResponse {
  status: number;
  /** Response headers, lower-case, without `date` (the one header that must differ). */
  headers: Record<string, string>;
  /** The body: text for a JSON answer, hex otherwise. */
  body: string;
  /** HTTP/2 trailers or HTTP/1.1 chunked trailers; undefined when none came. */
  trailers: Record<string, string> | undefined;
  /** The HTTP/2 RST_STREAM code the server ended the stream with (0: none); undefined for HTTP/1.1 and held requests. */
  reset: number | undefined;
}

/** Sends `request` to `baseUrl` on a connection of its own and records the complete answer. */
export function rawExchange(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  return request.transport === "h2" ? http2Exchange(baseUrl, request) : http1Exchange(baseUrl, request);
}

function http2Exchange(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": request.path, ...request.headers }, { endStream: false });
    let head: Record<string, string> | undefined;
    let trailers: Record<string, string> | undefined;
    const chunks: Buffer[] = [];
    const body = Buffer.from(request.body);
    stream.on("response", (headers) => {
      head = plain(headers);
      if (request.hold === true) {
        // Nothing more comes for a held request once it is answered (a status-only answer ends the stream).
        stream.once("end", () => stream.close(constants.NGHTTP2_CANCEL));
      }
    });
    stream.on("trailers", (headers) => (trailers = plain(headers)));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {});
    stream.on("close", () => {
      session.close();
      if (head === undefined) {
        reject(new Error(`stream closed without an answer (code ${stream.rstCode})`));
        return;
      }
      const status = Number(head[":status"]);
      delete head[":status"];
      resolve(answer(status, head, Buffer.concat(chunks), trailers, request.hold === true ? undefined : stream.rstCode));
    });
    if (request.hold === true) {
      stream.write(body.subarray(0, body.length - 1));
    } else {
      stream.end(body);
    }
  });
}

function http1Exchange(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(request.body);
    const outgoing = http1Request(`${baseUrl}${request.path}`, {
      method: "POST",
      agent: false,
      headers: { ...request.headers, "content-length": String(body.length) },
    });
    // The server may stop reading an oversized or late body: the answer is what counts.
    outgoing.on("error", (error) => reject(error));
    outgoing.on("response", (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        outgoing.removeAllListeners("error");
        outgoing.on("error", () => {});
        outgoing.destroy();
        const trailers = Object.keys(incoming.trailers).length === 0 ? undefined : plain(incoming.trailers);
        resolve(answer(incoming.statusCode ?? 0, plain(incoming.headers), Buffer.concat(chunks), trailers, undefined));
      });
    });
    if (request.hold === true) {
      outgoing.flushHeaders();
      outgoing.write(body.subarray(0, body.length - 1));
    } else {
      outgoing.end(body);
    }
  });
}

function plain(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && name !== "date") {
      result[name] = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }
  return result;
}

function answer(
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  trailers: Record<string, string> | undefined,
  reset: number | undefined,
): RawResponse {
  const json = headers["content-type"]?.includes("json") === true;
  return { status, headers, body: json ? body.toString("utf8") : body.toString("hex"), trailers, reset };
}
