/**
 * Content-type sniffing: an exact port of Go 1.21's
 * `net/http.DetectContentType` (WHATWG MIME Sniffing), which the original
 * server uses to label stored values. Kept byte-for-byte faithful — including
 * Go's table order and its quirks — so clients see identical content types.
 */

/** Go only ever looks at this many leading bytes. */
const SNIFF_LEN = 512;

/** The generic type returned when nothing else matches. */
const FALLBACK = "application/octet-stream";

/**
 * One entry of the signature table. `match` receives the (already truncated)
 * data and the index of its first non-whitespace byte and returns the content
 * type, or `undefined` if the signature does not apply.
 */
interface Signature {
  match(data: Uint8Array, firstNonWS: number): string | undefined;
}

/** Latin-1 string → bytes, so signatures can be written like Go's literals. */
function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function isWS(b: number): boolean {
  return b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
}

/** Tag-terminating byte (Go's isTT): what must follow an HTML signature. */
function isTT(b: number): boolean {
  return b === 0x20 || b === 0x3e; // ' ' or '>'
}

/** Go's exactSig: a plain prefix, no whitespace skipping. */
function exactSig(sig: string, ct: string): Signature {
  const pat = bytes(sig);
  return {
    match(data) {
      if (data.length < pat.length) return undefined;
      for (let i = 0; i < pat.length; i++) {
        if (data[i] !== pat[i]) return undefined;
      }
      return ct;
    },
  };
}

/**
 * Go's maskedSig: `data[i] & mask[i] === pat[i]` for every pattern byte.
 * Note the data must be at least as long as the whole pattern even where the
 * mask is zero (e.g. the BOM signatures need 4 bytes).
 */
function maskedSig(mask: string, pat: string, ct: string, skipWS = false): Signature {
  const m = bytes(mask);
  const p = bytes(pat);
  return {
    match(data, firstNonWS) {
      const d = skipWS ? data.subarray(firstNonWS) : data;
      // Go rejects malformed entries rather than panicking.
      if (p.length !== m.length) return undefined;
      if (d.length < p.length) return undefined;
      for (let i = 0; i < p.length; i++) {
        if ((d[i]! & m[i]!) !== p[i]) return undefined;
      }
      return ct;
    },
  };
}

/**
 * Go's htmlSig: after leading whitespace, ASCII-case-insensitive for letters,
 * and the next byte must be ' ' or '>' (so `<htmlx` is not HTML).
 */
function htmlSig(sig: string): Signature {
  const pat = bytes(sig);
  return {
    match(data, firstNonWS) {
      const d = data.subarray(firstNonWS);
      if (d.length < pat.length + 1) return undefined;
      for (let i = 0; i < pat.length; i++) {
        const b = pat[i]!;
        let db = d[i]!;
        // Clearing bit 5 upper-cases ASCII letters; only done when the
        // pattern byte is a letter, exactly like Go.
        if (b >= 0x41 && b <= 0x5a) db &= 0xdf;
        if (b !== db) return undefined;
      }
      return isTT(d[pat.length]!) ? "text/html; charset=utf-8" : undefined;
    },
  };
}

const MP4_FTYP = bytes("ftyp");
const MP4_BRAND = bytes("mp4");

function bytesEqualAt(data: Uint8Array, at: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) {
    if (data[at + i] !== pat[i]) return false;
  }
  return true;
}

/** Go's mp4Sig (WHATWG "signature for MP4"): an `ftyp` box naming an mp4 brand. */
const mp4Sig: Signature = {
  match(data) {
    if (data.length < 12) return undefined;
    // Big-endian uint32; `>>> 0` keeps it unsigned like Go's Uint32.
    const boxSize = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
    if (data.length < boxSize || boxSize % 4 !== 0) return undefined;
    if (!bytesEqualAt(data, 4, MP4_FTYP)) return undefined;
    for (let st = 8; st < boxSize; st += 4) {
      // Offset 12 holds the major brand's version number, not a brand.
      if (st === 12) continue;
      if (bytesEqualAt(data, st, MP4_BRAND)) return "video/mp4";
    }
    return undefined;
  },
};

/** Go's textSig: no binary control bytes after the leading whitespace. */
const textSig: Signature = {
  match(data, firstNonWS) {
    for (let i = firstNonWS; i < data.length; i++) {
      const b = data[i]!;
      if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) {
        return undefined;
      }
    }
    return "text/plain; charset=utf-8";
  },
};

// Same entries, same order as Go's sniffSignatures: the first match wins.
const SIGNATURES: readonly Signature[] = [
  htmlSig("<!DOCTYPE HTML"),
  htmlSig("<HTML"),
  htmlSig("<HEAD"),
  htmlSig("<SCRIPT"),
  htmlSig("<IFRAME"),
  htmlSig("<H1"),
  htmlSig("<DIV"),
  htmlSig("<FONT"),
  htmlSig("<TABLE"),
  htmlSig("<A"),
  htmlSig("<STYLE"),
  htmlSig("<TITLE"),
  htmlSig("<B"),
  htmlSig("<BODY"),
  htmlSig("<BR"),
  htmlSig("<P"),
  htmlSig("<!--"),
  maskedSig("\xFF\xFF\xFF\xFF\xFF", "<?xml", "text/xml; charset=utf-8", true),
  exactSig("%PDF-", "application/pdf"),
  exactSig("%!PS-Adobe-", "application/postscript"),

  // UTF byte-order marks.
  maskedSig("\xFF\xFF\x00\x00", "\xFE\xFF\x00\x00", "text/plain; charset=utf-16be"),
  maskedSig("\xFF\xFF\x00\x00", "\xFF\xFE\x00\x00", "text/plain; charset=utf-16le"),
  maskedSig("\xFF\xFF\xFF\x00", "\xEF\xBB\xBF\x00", "text/plain; charset=utf-8"),

  // Images.
  exactSig("\x00\x00\x01\x00", "image/x-icon"),
  exactSig("\x00\x00\x02\x00", "image/x-icon"),
  exactSig("BM", "image/bmp"),
  exactSig("GIF87a", "image/gif"),
  exactSig("GIF89a", "image/gif"),
  maskedSig(
    "\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
    "RIFF\x00\x00\x00\x00WEBPVP",
    "image/webp",
  ),
  exactSig("\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
  exactSig("\xFF\xD8\xFF", "image/jpeg"),

  // Audio and video, in the order the WHATWG spec prescribes.
  maskedSig("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF", "FORM\x00\x00\x00\x00AIFF", "audio/aiff"),
  maskedSig("\xFF\xFF\xFF", "ID3", "audio/mpeg"),
  maskedSig("\xFF\xFF\xFF\xFF\xFF", "OggS\x00", "application/ogg"),
  maskedSig("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", "MThd\x00\x00\x00\x06", "audio/midi"),
  maskedSig("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF", "RIFF\x00\x00\x00\x00AVI ", "video/avi"),
  maskedSig("\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF", "RIFF\x00\x00\x00\x00WAVE", "audio/wave"),
  mp4Sig,
  exactSig("\x1A\x45\xDF\xA3", "video/webm"),

  // Fonts. Embedded OpenType: 34 arbitrary bytes, then "LP".
  maskedSig("\x00".repeat(34) + "\xFF\xFF", "\x00".repeat(34) + "LP", "application/vnd.ms-fontobject"),
  exactSig("\x00\x01\x00\x00", "font/ttf"),
  exactSig("OTTO", "font/otf"),
  exactSig("ttcf", "font/collection"),
  exactSig("wOFF", "font/woff"),
  exactSig("wOF2", "font/woff2"),

  // Archives. RAR follows RAR Labs' signatures, as Go does, not the spec's.
  exactSig("\x1F\x8B\x08", "application/x-gzip"),
  exactSig("PK\x03\x04", "application/zip"),
  exactSig("Rar!\x1A\x07\x00", "application/x-rar-compressed"),
  exactSig("Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
  exactSig("\x00\x61\x73\x6D", "application/wasm"),

  textSig, // must stay last
];

/**
 * Returns the MIME type of `data` exactly as Go 1.21's
 * `http.DetectContentType` would: only the first 512 bytes are considered and
 * the result is `application/octet-stream` when nothing matches. Empty input
 * is `text/plain; charset=utf-8`.
 */
export function sniffContentType(data: Uint8Array): string {
  const head = data.length > SNIFF_LEN ? data.subarray(0, SNIFF_LEN) : data;
  let firstNonWS = 0;
  while (firstNonWS < head.length && isWS(head[firstNonWS]!)) firstNonWS++;
  for (const sig of SIGNATURES) {
    const ct = sig.match(head, firstNonWS);
    if (ct !== undefined) return ct;
  }
  return FALLBACK;
}
