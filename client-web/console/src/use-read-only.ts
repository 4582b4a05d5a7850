import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyquarryWebClient } from "@keyquarry/client-web";
import { useEffect, useState } from "react";
import { isReadOnlyError } from "./describe-error.js";

/** Time between probes. */
const probeMs = 3_000;

/**
 * Whether the server is in read-only mode, probed every 3 s. No RPC reads the
 * mode, so the probe deletes a key that does not exist: the server checks
 * read-only before existence, so it answers E_READONLY in read-only mode and
 * NOT_FOUND otherwise, changing nothing either way.
 */
export function useReadOnly(client: KeyquarryWebClient): boolean | undefined {
  const [readOnly, setReadOnly] = useState<boolean>();
  useEffect(() => {
    const probeKey = `.console-read-only-probe/${crypto.randomUUID()}`;
    const probe = async () => {
      try {
        await client.delete({ key: probeKey });
        setReadOnly(false);
      } catch (error) {
        if (isReadOnlyError(error)) {
          setReadOnly(true);
        } else if (ConnectError.from(error).code === Code.NotFound) {
          setReadOnly(false);
        }
      }
    };
    void probe();
    const timer = setInterval(() => void probe(), probeMs);
    return () => clearInterval(timer);
  }, [client]);
  return readOnly;
}
