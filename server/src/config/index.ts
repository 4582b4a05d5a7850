/** Public API of the configuration loader. */
export { logLevels, type Config, type LogLevel, type Nanoseconds } from "./config.js";
export { ConfigError } from "./config-error.js";
export {
  configOptions,
  findOption,
  type ConfigOption,
  type OptionKind,
  type OptionKinds,
  type OptionOf,
} from "./config-options.js";
export { defaultConfig, defaultListenPort, defaultMonitorPort } from "./default-config.js";
export { formatListenAddress, parseListenAddress, type ListenAddress } from "./listen-address.js";
export {
  envPrefix,
  envVarName,
  loadConfig,
  nonOptionEnvPrefixes,
  nonOptionEnvVars,
  type ConfigSources,
} from "./load-config.js";
export { formatDuration, parseDuration } from "../duration/parse-duration.js";
