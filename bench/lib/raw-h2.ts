// A hand-rolled HTTP/2 client on a raw socket, for hostile clients that
// node:http2 will not play: it ignores the server's MAX_CONCURRENT_STREAMS
// (nghttp2 would queue streams over the limit instead of sending them), and
// it can stop reading its socket altogether, with huge flow-control windows.
// Only what that needs: the preface, SETTINGS (and their ACK), WINDOW_UPDATE,
// HEADERS as literal HPACK fields without Huffman coding, DATA, RST_STREAM;
// it counts what the server sends back.
import net from "node:net";

const frameType = { data: 0, headers: 1, rstStream: 3, settings: 4, goaway: 7, windowUpdate: 8 } as const;
const flag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4 } as const;
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const maxWindow = 2 ** 31 - 1;
/** RST_STREAM error code REFUSED_STREAM. */
export const refusedStream = 7;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte = 0): Buffer {
  const max = 2 ** prefixBits - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

const hpackString = (s: string) => {
  const data = Buffer.from(s, "latin1");
  return Buffer.concat([hpackInt(data.length, 7), data]);
};

/** A header block of literal fields without indexing (RFC 7541 §6.2.2), so it needs no shared table state. */
export function headerBlock(headers: Record<string, string>): Buffer {
  return Buffer.concat(Object.entries(headers).flatMap(([name, value]) => [Buffer.from([0]), hpackString(name), hpackString(value)]));
}

/** What the server sent on a {@link RawH2Connection}. */
export interface RawH2Counts {
  bytes: number;
  frames: number;
  /** Streams the server has answered (HEADERS) or reset (RST_STREAM). */
  answered: number;
  resets: number;
  refused: number;
  goaway: boolean;
  goawayCode?: number;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, when it sent one. */
  maxConcurrentStreams?: number;
}

/** One raw HTTP/2 connection to 127.0.0.1:port with the largest windows HTTP/2 allows. */
export class RawH2Connection {
  readonly counts: RawH2Counts = { bytes: 0, frames: 0, answered: 0, resets: 0, refused: 0, goaway: false };
  readonly socket: net.Socket;
  readonly ready: Promise<void>;
  closed = false;
  private pending: Buffer = Buffer.alloc(0);
  private readonly answeredStreams = new Set<number>();
  private onFirstResponse: (() => void) | undefined;
  /** Resolves when the server sends its first HEADERS frame (a response started). */
  readonly firstResponse: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.on("error", () => {});
    this.socket.on("close", () => (this.closed = true));
    this.firstResponse = new Promise((resolve) => (this.onFirstResponse = resolve));
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", () => {
        // SETTINGS_INITIAL_WINDOW_SIZE (4) = 2^31-1; then open the connection window as far as it goes.
        const settings = Buffer.alloc(6);
        settings.writeUInt16BE(4, 0);
        settings.writeUInt32BE(maxWindow, 2);
        const increment = Buffer.alloc(4);
        increment.writeUInt32BE(maxWindow - 65_535, 0);
        this.socket.write(Buffer.concat([preface, frame(frameType.settings, 0, 0, settings), frame(frameType.windowUpdate, 0, 0, increment)]));
        resolve();
      });
      this.socket.once("error", reject);
    });
  }

  /** Sends HEADERS (one frame, END_HEADERS) and optionally DATA; ends the stream when `end`. */
  request(streamId: number, block: Buffer, body: Buffer | undefined, end: boolean): void {
    if (this.closed) return;
    const headers = frame(frameType.headers, flag.endHeaders | (body === undefined && end ? flag.endStream : 0), streamId, block);
    this.socket.write(body === undefined ? headers : Buffer.concat([headers, frame(frameType.data, end ? flag.endStream : 0, streamId, body)]));
  }

  /** Stops reading: the server's writes pile up in the socket buffers and then in the server. */
  stopReading(): void {
    this.socket.pause();
  }

  close(): void {
    this.socket.destroy();
  }

  private answer(streamId: number): void {
    this.answeredStreams.add(streamId);
    this.counts.answered = this.answeredStreams.size;
  }

  private onData(chunk: Buffer): void {
    this.counts.bytes += chunk.length;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      const type = this.pending[3];
      const flags = this.pending[4] ?? 0;
      const streamId = this.pending.readUInt32BE(5) & 0x7fffffff;
      const payload = this.pending.subarray(9, 9 + length);
      this.pending = this.pending.subarray(9 + length);
      this.counts.frames++;
      if (type === frameType.settings && (flags & flag.ack) === 0) {
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          if (payload.readUInt16BE(at) === 3) this.counts.maxConcurrentStreams = payload.readUInt32BE(at + 2);
        }
        this.socket.write(frame(frameType.settings, flag.ack, 0, Buffer.alloc(0)));
      } else if (type === frameType.headers) {
        this.answer(streamId);
        this.onFirstResponse?.();
        this.onFirstResponse = undefined;
      } else if (type === frameType.rstStream) {
        this.answer(streamId);
        this.counts.resets++;
        if (payload.readUInt32BE(0) === refusedStream) this.counts.refused++;
      } else if (type === frameType.goaway) {
        this.counts.goaway = true;
        this.counts.goawayCode = payload.length >= 8 ? payload.readUInt32BE(4) : undefined;
      }
    }
  }
}
