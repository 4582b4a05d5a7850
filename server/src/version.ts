import packageJson from "../package.json" with { type: "json" };

/**
 * The version of keyquarry (server and CLI), from server/package.json. The
 * bundler inlines it at build time, so nothing reads the file at run time.
 */
export const version: string = packageJson.version;
