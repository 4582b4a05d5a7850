import type { KeyquarryWebClient } from "@keyquarry/client-web";
import { useState } from "react";
import { describeError } from "./describe-error.js";

/** Creates a key (if_version 0: only if it does not exist yet) with a value and an optional content type. */
export function NewKeyForm({ client, onCreated, onError }: { client: KeyquarryWebClient; onCreated(key: string): void; onError(message: string): void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [contentType, setContentType] = useState("");
  return (
    <form
      className="panel new-key"
      aria-labelledby="new-key-heading"
      onSubmit={(event) => {
        event.preventDefault();
        void client
          .set({ key, value: new TextEncoder().encode(value), contentType, ifVersion: 0n })
          .then(() => {
            onCreated(key);
            setKey("");
            setValue("");
          })
          .catch((error) => onError(describeError(`Create ${key}`, error)));
      }}
    >
      <h2 id="new-key-heading">New key</h2>
      <div className="row">
        <label className="grow">
          Key
          <input required value={key} onChange={(event) => setKey(event.target.value)} spellCheck={false} />
        </label>
        <label>
          Content type (optional)
          <input value={contentType} onChange={(event) => setContentType(event.target.value)} placeholder="sniffed" />
        </label>
      </div>
      <label>
        Value
        <textarea rows={3} value={value} onChange={(event) => setValue(event.target.value)} spellCheck={false} />
      </label>
      <button type="submit">Create</button>
    </form>
  );
}
