import type { FastifyBaseLogger, FastifyServerOptions } from "fastify";
import { stdSerializers, type LogFn } from "pino";
import pretty from "pino-pretty";
import type { Config, LogLevel } from "../config/config.js";
import { redactSecrets } from "./redact-secrets.js";

/**
 * pino level of each keyquarry log level. NOTICE sits between INFO and WARN,
 * as in the original. EVENT is the most verbose level: key events and
 * everything else (the original ranked it above ERROR, which hid every
 * other line, even "listening", once chosen).
 */
const pinoLevels: Record<LogLevel, string> = {
  DEBUG: "debug",
  INFO: "info",
  NOTICE: "notice",
  WARN: "warn",
  ERROR: "error",
  EVENT: "event",
};

const customLevels = { notice: 35, event: 5 };

/**
 * The `notice` and `event` methods of a Fastify logger built with
 * {@link loggerOptions}, bound. Fastify's silent logger (logging off) has
 * neither: its `trace` (which does nothing) stands in.
 */
export function customLevelsOf(log: FastifyBaseLogger): { notice: LogFn; event: LogFn } {
  const custom = log as FastifyBaseLogger & Partial<Record<"notice" | "event", LogFn>>;
  return { notice: (custom.notice ?? log.trace).bind(log), event: (custom.event ?? log.trace).bind(log) };
}

/**
 * Fastify logger settings from the config: structured logs on stdout, JSON
 * lines with `log_json`, otherwise one readable line per entry. Passwords in
 * connection strings are masked in every message and logged error.
 */
export function loggerOptions(config: Pick<Config, "logLevel" | "logJson">): NonNullable<FastifyServerOptions["logger"]> {
  return {
    level: pinoLevels[config.logLevel],
    customLevels,
    serializers: {
      // Error messages and stacks may quote a connection string (a driver's, or ours).
      err: (error: Error) => withoutSecrets(stdSerializers.err(error)) as ReturnType<typeof stdSerializers.err>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === "string" ? redactSecrets(arg) : arg)) as Parameters<LogFn>);
      },
    },
    ...(config.logJson
      ? {}
      : {
          stream: pretty({
            sync: true,
            colorize: false,
            singleLine: true,
            ignore: "pid,hostname",
            translateTime: "yyyy-mm-dd'T'HH:MM:ss.l'Z'",
            customLevels: Object.entries(customLevels)
              .map(([name, value]) => `${name}:${value}`)
              .join(","),
            useOnlyCustomProps: false,
          }),
        }),
  };
}

/** A copy of `value` with every string in it (however deep) passed through redactSecrets; a cycle is cut. */
function withoutSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  return Array.isArray(value)
    ? value.map((item) => withoutSecrets(item, seen))
    : Object.fromEntries(Object.entries(value).map(([name, field]) => [name, withoutSecrets(field, seen)]));
}
