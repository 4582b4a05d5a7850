import { describe, expect, it } from "vitest";
import { sniffContentType } from "./sniff-content-type.js";

/** Latin-1 string → bytes, so binary fixtures read like Go's string literals. */
const bin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const HTML = "text/html; charset=utf-8";
const TEXT = "text/plain; charset=utf-8";
const OCTET = "application/octet-stream";

describe("sniffContentType", () => {
  // Mostly Go's own net/http sniff_test.go table, plus one case per signature.
  const cases: ReadonlyArray<[desc: string, data: Uint8Array, want: string]> = [
    ["empty", bin(""), TEXT],
    ["binary", bin("\x01\x02\x03"), OCTET],

    ["HTML mixed case", utf8("<HtMl><bOdY>blah blah blah</body></html>"), HTML],
    ["HTML upper", utf8("<HTML></HTML>"), HTML],
    ["HTML lower followed by space", utf8("<html lang=en>"), HTML],
    ["HTML leading whitespace", utf8("   <!DOCTYPE HTML>..."), HTML],
    ["HTML leading CRLF", utf8("\r\n<html>..."), HTML],
    ["HTML leading tab and form feed", utf8("\t\f<p>x"), HTML],
    ["HTML not followed by tag terminator", utf8("<htmlx>"), TEXT],
    ["HTML pattern at end of data", utf8("<html"), TEXT],
    ["<!DOCTYPE html", utf8("<!doctype html>"), HTML],
    ["<HEAD", utf8("<head>"), HTML],
    ["<SCRIPT", utf8("<script>"), HTML],
    ["<IFRAME", utf8("<iframe src=x>"), HTML],
    ["<H1", utf8("<h1>"), HTML],
    ["<DIV", utf8("<div>"), HTML],
    ["<FONT", utf8("<font>"), HTML],
    ["<TABLE", utf8("<table>"), HTML],
    ["<A", utf8("<a href=x>"), HTML],
    ["<STYLE", utf8("<style>"), HTML],
    ["<TITLE", utf8("<title>"), HTML],
    ["<B", utf8("<b>"), HTML],
    ["<BODY", utf8("<body>"), HTML],
    ["<BR", utf8("<br>"), HTML],
    ["<P", utf8("<p>"), HTML],
    ["<!--", utf8("<!-- comment -->"), HTML],
    ["<!-- needs terminator", utf8("<!--x-->"), TEXT],

    ["plain text", utf8("This is not HTML. It has ☃ though."), TEXT],
    ["JSON", utf8('{"key": "value", "n": [1, 2, 3]}\n'), TEXT],
    ["XML", utf8("\n<?xml!"), "text/xml; charset=utf-8"],
    ["XML is case-sensitive", utf8("<?XML version"), TEXT],
    ["PDF", utf8("%PDF-1.7\n"), "application/pdf"],
    ["PostScript", utf8("%!PS-Adobe-3.0\n"), "application/postscript"],
    ["PDF does not skip whitespace", utf8(" %PDF-1.7"), TEXT],

    ["UTF-16BE BOM", bin("\xFE\xFF\x00h"), "text/plain; charset=utf-16be"],
    ["UTF-16LE BOM", bin("\xFF\xFEh\x00"), "text/plain; charset=utf-16le"],
    ["UTF-8 BOM", bin("\xEF\xBB\xBFhi"), TEXT],
    // Go's masked BOM signatures need all 4 pattern bytes, even masked ones.
    ["UTF-16BE BOM too short", bin("\xFE\xFF\x00"), OCTET],
    ["UTF-16LE BOM too short", bin("\xFF\xFE\x00"), OCTET],
    ["UTF-16BE BOM too short, rest is text", bin("\xFE\xFF"), TEXT],

    ["Windows icon", bin("\x00\x00\x01\x00"), "image/x-icon"],
    ["Windows cursor", bin("\x00\x00\x02\x00"), "image/x-icon"],
    ["BMP", bin("BM..."), "image/bmp"],
    ["GIF 87a", bin("GIF87a"), "image/gif"],
    ["GIF 89a", bin("GIF89a..."), "image/gif"],
    ["WEBP", bin("RIFF\x00\x00\x00\x00WEBPVP"), "image/webp"],
    ["WEBP any size bytes", bin("RIFF\x12\x34\x56\x78WEBPVP8 "), "image/webp"],
    ["PNG", bin("\x89PNG\x0D\x0A\x1A\x0A"), "image/png"],
    ["JPEG", bin("\xFF\xD8\xFF\xE0"), "image/jpeg"],

    ["AIFF", bin("FORM\x00\x00\x00\x00AIFFCOMM\x00\x00\x00\x12\x00\x01"), "audio/aiff"],
    ["MP3", bin("ID3\x03\x00\x00\x00\x00\x0f"), "audio/mpeg"],
    ["OGG", bin("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46"), "application/ogg"],
    ["not OGG #1", bin("owow\x00"), OCTET],
    ["not OGG #2", bin("oooS\x00"), OCTET],
    ["not OGG #3", bin("oggS\x00"), OCTET],
    ["MIDI", bin("MThd\x00\x00\x00\x06\x00\x01"), "audio/midi"],
    ["AVI #1", bin("RIFF,O\n\x00AVI LIST\xC0"), "video/avi"],
    ["AVI #2", bin("RIFF,\n\x00\x00AVI LIST\xC0"), "video/avi"],
    ["WAV #1", bin("RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06"), "audio/wave"],
    ["WAV #2", bin("RIFF,\x00\x00\x00WAVEfmt \x12\x00\x00\x00\x06"), "audio/wave"],
    ["MP4", bin("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat"), "video/mp4"],
    ["MP4 brand only in compatible list", bin("\x00\x00\x00\x14ftypisom\x00\x00\x00\x00mp41"), "video/mp4"],
    ["MP4 ignores the version field at offset 12", bin("\x00\x00\x00\x10ftypisommp41"), OCTET],
    ["MP4 box size not a multiple of 4", bin("\x00\x00\x00\x11ftypmp42\x00\x00\x00\x00\x00"), OCTET],
    ["MP4 box larger than data", bin("\x00\x00\x00\x40ftypmp42\x00\x00\x00\x00"), OCTET],
    ["WebM", bin("\x1A\x45\xDF\xA3\x9f\x42\x86\x81"), "video/webm"],

    ["EOT", bin("\x01".repeat(34) + "LP\x00\x00"), "application/vnd.ms-fontobject"],
    ["TTF", bin("\x00\x01\x00\x00\x00\x17\x01\x00\x00\x04\x01\x60\x4f"), "font/ttf"],
    ["OTF", bin("OTTO\x00\x0e\x00\x80\x00\x03\x00\x60BASE"), "font/otf"],
    ["font collection", bin("ttcf\x00\x01\x00\x00"), "font/collection"],
    ["WOFF", bin("wOFF\x00\x01\x00\x00\x00\x00\x30\x54"), "font/woff"],
    ["WOFF2", bin("wOF2\x00\x01\x00\x00\x00"), "font/woff2"],

    ["gzip", bin("\x1F\x8B\x08\x00\x00\x00\x00\x00"), "application/x-gzip"],
    ["zip", bin("PK\x03\x04\x14\x00"), "application/zip"],
    ["RAR v1.5-v4.0", bin("Rar!\x1A\x07\x00"), "application/x-rar-compressed"],
    ["RAR v5+", bin("Rar!\x1A\x07\x01\x00"), "application/x-rar-compressed"],
    ["incorrect RAR v1.5-v4.0", bin("Rar \x1A\x07\x00"), OCTET],
    ["incorrect RAR v5+", bin("Rar \x1A\x07\x01\x00"), OCTET],
    ["wasm", bin("\x00asm\x01\x00\x00\x00"), "application/wasm"],

    ["text allows ESC (0x1B)", bin("colour \x1B[31mred"), TEXT],
    ["text rejects vertical tab", bin("a\x0Bb"), OCTET],
    ["text rejects NUL", bin("a\x00b"), OCTET],
    ["whitespace only", bin(" \t\r\n\f"), TEXT],
  ];

  it.each(cases)("%s", (_desc, data, want) => {
    expect(sniffContentType(data)).toBe(want);
  });

  it("recognises a real tiny PNG", () => {
    // A complete 1x1 transparent PNG.
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
      "base64",
    );
    expect(sniffContentType(new Uint8Array(png))).toBe("image/png");
  });

  it("considers only the first 512 bytes", () => {
    const data = new Uint8Array(1000).fill(0x61); // 'a'
    data[600] = 0x00;
    expect(sniffContentType(data)).toBe(TEXT);
    data[511] = 0x00;
    expect(sniffContentType(data)).toBe(OCTET);
  });

  it("treats a signature straddling byte 512 as absent", () => {
    // MP4 box size 516 would fit the full data but not the 512-byte window.
    const data = new Uint8Array(1024);
    data.set(bin("\x00\x00\x02\x04ftypmp42"));
    expect(sniffContentType(data)).toBe(OCTET);
  });

  it("looks at a subarray view's own bytes only", () => {
    const backing = bin("\x00\x00GIF89a");
    expect(sniffContentType(backing.subarray(2))).toBe("image/gif");
  });
});
