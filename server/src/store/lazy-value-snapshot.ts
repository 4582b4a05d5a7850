import { fromByteString } from "./byte-string.js";
import { joinHashHalves } from "./fnv1a64.js";
import type { ValueSnapshot } from "./store-event.js";

/**
 * A {@link ValueSnapshot} of a stored byte string: taking one costs one small
 * object, and the bytes and the bigint hash are only made when a consumer
 * reads them (the bytes once, then shared by every reader).
 */
export class LazyValueSnapshot implements ValueSnapshot {
  private bytes: Uint8Array | undefined = undefined;

  constructor(
    private readonly stored: string,
    private readonly hashHi: number,
    private readonly hashLo: number,
    readonly version: bigint,
    readonly contentType: string,
  ) {}

  get value(): Uint8Array {
    return (this.bytes ??= fromByteString(this.stored));
  }

  get size(): number {
    return this.stored.length;
  }

  get hash(): bigint {
    return joinHashHalves(this.hashHi, this.hashLo);
  }
}
