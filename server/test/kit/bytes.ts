/** UTF-8 bytes of a string. */
export const bytes = (text: string) => new TextEncoder().encode(text);

/** A string from UTF-8 bytes. */
export const text = (data: Uint8Array) => new TextDecoder().decode(data);
