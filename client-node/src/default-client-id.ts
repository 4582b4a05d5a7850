import { hostname, userInfo } from "node:os";

/**
 * The client id used when none is given: `<user>@<hostname>`, or whichever
 * of the two is known if the other is empty.
 */
export function defaultClientId(): string {
  return [currentUser(), hostname()].filter((part) => part !== "").join("@");
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // userInfo() throws when the uid has no passwd entry, e.g. in containers.
    return process.env["USER"] ?? process.env["USERNAME"] ?? "";
  }
}
