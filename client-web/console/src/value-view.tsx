import { useEffect, useMemo, useState } from "react";
import { decodeText, hexDump, prettyJson, valueKind } from "./value-format.js";

/** Shows a value by its content type: text, pretty-printed JSON, an image, or a hex dump of binary data. */
export function ValueView({ value, contentType }: { value: Uint8Array; contentType: string }) {
  const kind = valueKind(contentType, value);
  const imageUrl = useObjectUrl(kind === "image" ? value : undefined, contentType);
  const text = useMemo(() => (kind === "text" || kind === "json" ? (decodeText(value) ?? "") : ""), [kind, value]);
  return (
    <figure className="value-view" data-kind={kind}>
      <figcaption className="muted">
        {kind === "json" ? "JSON" : kind === "image" ? "Image" : kind === "binary" ? "Binary (hex)" : "Text"} · {value.length} bytes
      </figcaption>
      {kind === "image" && imageUrl !== undefined ? (
        <img src={imageUrl} alt={`Value preview (${contentType})`} className="value-image" />
      ) : kind === "json" ? (
        <pre tabIndex={0}>{prettyJson(text)}</pre>
      ) : kind === "text" ? (
        <pre tabIndex={0}>{text}</pre>
      ) : (
        <pre tabIndex={0}>{hexDump(value)}</pre>
      )}
    </figure>
  );
}

/** A blob: URL of `bytes` while they are shown, revoked afterwards. */
function useObjectUrl(bytes: Uint8Array | undefined, type: string): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (bytes === undefined) {
      setUrl(undefined);
      return;
    }
    const created = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
    setUrl(created);
    return () => URL.revokeObjectURL(created);
  }, [bytes, type]);
  return url;
}
