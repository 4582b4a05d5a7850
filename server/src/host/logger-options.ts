import type { FastifyServerOptions } from "fastify";
import pretty from "pino-pretty";
import type { Config, LogLevel } from "../config/config.js";

/** pino level of each keyquarry log level; NOTICE sits between INFO and WARN, as in the original. */
const pinoLevels: Record<LogLevel, string> = {
  DEBUG: "debug",
  INFO: "info",
  NOTICE: "notice",
  WARN: "warn",
  ERROR: "error",
  EVENT: "event",
};

/**
 * Fastify logger settings from the config: structured logs on stdout, JSON
 * lines with `log_json`, otherwise one readable line per entry.
 */
export function loggerOptions(config: Pick<Config, "logLevel" | "logJson">): NonNullable<FastifyServerOptions["logger"]> {
  return {
    level: pinoLevels[config.logLevel],
    customLevels: { notice: 35, event: 100 },
    ...(config.logJson
      ? {}
      : {
          stream: pretty({
            sync: true,
            colorize: false,
            singleLine: true,
            ignore: "pid,hostname",
            translateTime: "yyyy-mm-dd'T'HH:MM:ss.l'Z'",
            customLevels: "notice:35,event:100",
            useOnlyCustomProps: false,
          }),
        }),
  };
}
