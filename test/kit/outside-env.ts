/**
 * The npm settings a child process keeps from our environment: where the
 * registry and the cache are. Everything else `npm run`/`npm test` put there
 * (the repository as local prefix, `-w` workspace filters, package fields)
 * would leak into a child npm and make it act on the repository.
 */
const keptNpmSettings = new Set(
  ["registry", "cache", "userconfig", "globalconfig", "cafile", "proxy", "https_proxy", "noproxy", "strict_ssl"].map(
    (name) => `npm_config_${name}`,
  ),
);

/**
 * Our environment as a process outside the repository would see it: without
 * npm's run-script variables (but with its registry and cache settings) and
 * without Node loaders or module paths.
 */
export function outsideEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => {
      const lower = name.toLowerCase();
      const npmRunVariable = lower.startsWith("npm_") && !keptNpmSettings.has(lower);
      return !npmRunVariable && name !== "NODE_OPTIONS" && name !== "NODE_PATH";
    }),
  );
}
