import { useState } from "react";
import type { ConsoleCaller } from "./console-client.js";

/**
 * The header's caller settings: a client id, or a token (servers with auth
 * on), which takes its place: the server runs a token's calls as its
 * identity, so the client id field is off while a token is entered.
 */
export function CallerForm({ caller, onChange }: { caller: ConsoleCaller; onChange(caller: ConsoleCaller): void }) {
  const [clientIdInput, setClientIdInput] = useState(caller.clientId);
  const [tokenInput, setTokenInput] = useState(caller.token ?? "");
  const next: ConsoleCaller = { clientId: clientIdInput.trim() || caller.clientId, token: tokenInput.trim() || undefined };
  const withToken = next.token !== undefined;

  return (
    <>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          onChange(next);
        }}
      >
        <label>
          Client id
          <input
            value={withToken ? "" : clientIdInput}
            placeholder={withToken ? "the token's identity" : undefined}
            disabled={withToken}
            onChange={(event) => setClientIdInput(event.target.value)}
            spellCheck={false}
          />
        </label>
        <label>
          Token
          <input
            type="password"
            value={tokenInput}
            placeholder="none"
            autoComplete="off"
            onChange={(event) => setTokenInput(event.target.value)}
            spellCheck={false}
          />
        </label>
        <button type="submit" disabled={next.clientId === caller.clientId && next.token === caller.token}>
          Use
        </button>
      </form>
      <span className="muted" data-testid="current-client-id">
        calls as <strong>{caller.token === undefined ? caller.clientId : "the token's identity"}</strong>
      </span>
    </>
  );
}
