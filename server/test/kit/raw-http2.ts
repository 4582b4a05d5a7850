import { connect, type Socket } from "node:net";

/** The 24 bytes every HTTP/2 client connection starts with. */
export const clientPreface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** HTTP/2 frame types used by the tests (RFC 9113 §6). */
export const frameType = { headers: 0x1, rstStream: 0x3, settings: 0x4, ping: 0x6, goaway: 0x7 } as const;

/** One HTTP/2 frame as read from the wire. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Encodes one frame. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/**
 * A HEADERS frame (END_HEADERS, no END_STREAM: the request stays open)
 * whose header block is written with HPACK literals only, so that no
 * encoder state is needed.
 */
export function encodeHeaders(streamId: number, headers: Record<string, string>): Buffer {
  const block = Object.entries(headers).flatMap(([name, value]) => [
    Buffer.from([0x00]), // literal without indexing, new name
    hpackString(name),
    hpackString(value),
  ]);
  return encodeFrame(frameType.headers, 0x4, streamId, Buffer.concat(block));
}

// A string literal without Huffman coding: a 7-bit prefix length, then the bytes.
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text);
  const length: number[] = [];
  if (bytes.length < 127) {
    length.push(bytes.length);
  } else {
    length.push(127);
    let rest = bytes.length - 127;
    while (rest >= 128) {
      length.push((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    length.push(rest);
  }
  return Buffer.concat([Buffer.from(length), bytes]);
}

/** The settings (id → value) of a SETTINGS frame. */
export function settingsOf(frame: Frame): Map<number, number> {
  const settings = new Map<number, number>();
  for (let at = 0; at + 6 <= frame.payload.length; at += 6) {
    settings.set(frame.payload.readUInt16BE(at), frame.payload.readUInt32BE(at + 2));
  }
  return settings;
}

/** A plain TCP connection to an HTTP/2 server that records every frame it receives. */
export class RawHttp2Connection {
  readonly socket: Socket;
  /** Every frame received so far, in order. */
  readonly frames: Frame[] = [];
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.on("data", (data: Buffer) => this.receive(data));
    // A reset from the server is a close too.
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
    this.socket.once("close", () => this.wake());
  }

  /** Sends bytes as they are. */
  write(...chunks: Buffer[]): void {
    this.socket.write(Buffer.concat(chunks));
  }

  /** Waits until a received frame satisfies `match`, and returns it. */
  async waitFor(match: (frame: Frame) => boolean, what: string): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) {
        return found;
      }
      if (this.socket.destroyed) {
        throw new Error(`connection closed while waiting for ${what}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private receive(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) {
        break;
      }
      this.frames.push({
        type: this.pending.readUInt8(3),
        flags: this.pending.readUInt8(4),
        streamId: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.pending.subarray(9, 9 + length),
      });
      this.pending = this.pending.subarray(9 + length);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}
