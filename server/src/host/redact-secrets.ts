/** What replaces a secret in logs and error messages. */
export const redacted = "***";

// `scheme://user:password@` (a URL's userinfo) and `password=...` / `sslpassword=...` query or
// keyword parameters, as connection strings carry them. Quotes end a match, so that text quoted in
// JSON stays valid JSON.
const userinfoPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"']*):[^\s/?#@"']*@/gi;
const passwordParameter = /(\b(?:ssl)?password=)[^\s&;"']+/gi;

/**
 * `text` with the passwords of any connection strings in it replaced by
 * `***` (`postgres://kq:***@db/kq`): for whatever may reach a log or the
 * terminal (configuration values, error messages, stack traces).
 */
export function redactSecrets(text: string): string {
  return text.replace(userinfoPassword, `$1:${redacted}@`).replace(passwordParameter, `$1${redacted}`);
}
