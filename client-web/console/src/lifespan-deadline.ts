import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { InspectResponse } from "@keyquarry/client-web";

/** When the key's lifespan ends (ms since the epoch): when it was last set plus its duration; undefined without one. */
export function lifespanDeadline(info: InspectResponse): number | undefined {
  if (info.lifespan === undefined || info.lifespanSet === undefined) {
    return undefined;
  }
  const lifespanMs = Number(info.lifespan.seconds) * 1000 + info.lifespan.nanos / 1e6;
  return lifespanMs > 0 ? timestampMs(info.lifespanSet) + lifespanMs : undefined;
}
