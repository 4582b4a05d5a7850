import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { getHeapSnapshot } from "node:v8";
import type { Registry } from "prom-client";
import type { ListenAddress } from "../config/listen-address.js";
import { cpuProfile } from "./cpu-profile.js";

/** Longest CPU profile `/debug/pprof/profile` takes, seconds. */
export const maxProfileSeconds = 300;

/** What the monitor serves; each endpoint is there only when its option is on. */
export interface MonitorOptions {
  address: ListenAddress;
  /** Whether the server is ready for calls (`/readyz`). */
  ready: () => boolean;
  /** A line `/readyz` adds (a cluster node's position in the log). */
  detail?: (() => string) | undefined;
  /** `/metrics`, when `prometheus` is on. */
  registry: Registry | undefined;
  /** `/debug/vars`, when `expvar` is on. */
  vars: (() => object) | undefined;
  /** `/debug/pprof/profile` and `/debug/pprof/heap`. */
  pprof: boolean;
}

/** The monitor listener: health, metrics and debugging over plain HTTP on its own address. */
export interface MonitorServer {
  /** Binds; resolves to its URL (`http://host:port` or `unix:///path`). */
  listen(): Promise<string>;
  /** Stops listening and ends its connections (a profile in progress too). */
  close(): Promise<void>;
}

/**
 * Creates the monitor listener (node:http, apart from the RPC port so that
 * metrics and profiles are never exposed where clients call): `/healthz`
 * (alive), `/readyz` (200 when ready, 503 before and while shutting down),
 * `/metrics`, `/debug/vars`, `/debug/pprof/profile?seconds=N` (a V8
 * `.cpuprofile`, 30 s by default) and `/debug/pprof/heap` (a V8 heap
 * snapshot). Other paths get 404.
 */
export function createMonitorServer(options: MonitorOptions): MonitorServer {
  const closing = new AbortController();
  const server = createServer((request, response) => {
    route(request, response, options, closing.signal).catch((error: unknown) => {
      if (!response.headersSent) {
        reply(response, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      } else {
        response.destroy();
      }
    });
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        const { address } = options;
        const onListening = () => {
          server.off("error", reject);
          resolve(urlOf(server.address(), address));
        };
        if (address.kind === "unix") {
          server.listen(address.path, onListening);
        } else {
          server.listen(address.port, address.host === "" ? "::" : address.host, onListening);
        }
      }),
    close: () =>
      new Promise((resolve) => {
        closing.abort();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(request: IncomingMessage, response: ServerResponse, options: MonitorOptions, closing: AbortSignal): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    reply(response, 405, "method not allowed\n");
    return;
  }
  const url = new URL(request.url ?? "/", "http://monitor");
  switch (url.pathname) {
    case "/healthz":
      reply(response, 200, "ok\n");
      return;
    case "/readyz":
      {
        const detail = options.detail === undefined ? "" : `${options.detail()}\n`;
        const ready = options.ready();
        reply(response, ready ? 200 : 503, `${ready ? "ready" : "not ready"}\n${detail}`);
      }
      return;
    case "/metrics":
      if (options.registry !== undefined) {
        reply(response, 200, await options.registry.metrics(), options.registry.contentType);
        return;
      }
      break;
    case "/debug/vars":
      if (options.vars !== undefined) {
        reply(response, 200, `${JSON.stringify(options.vars(), null, 2)}\n`, "application/json");
        return;
      }
      break;
    case "/debug/pprof/profile":
      if (options.pprof) {
        await serveProfile(url, response, closing);
        return;
      }
      break;
    case "/debug/pprof/heap":
      if (options.pprof) {
        response.writeHead(200, { "content-type": "application/json", "content-disposition": 'attachment; filename="keyquarry.heapsnapshot"' });
        getHeapSnapshot().pipe(response);
        return;
      }
      break;
  }
  reply(response, 404, "not found\n");
}

let profiling = false;

/** A CPU profile of `seconds` (30 by default; 1 to {@link maxProfileSeconds}); one at a time per process. */
async function serveProfile(url: URL, response: ServerResponse, closing: AbortSignal): Promise<void> {
  const text = url.searchParams.get("seconds") ?? "30";
  const seconds = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 1 && seconds <= maxProfileSeconds)) {
    reply(response, 400, `seconds must be a whole number from 1 to ${maxProfileSeconds}, got ${JSON.stringify(text)}\n`);
    return;
  }
  if (profiling) {
    reply(response, 409, "a CPU profile is already being taken\n");
    return;
  }
  profiling = true;
  try {
    const stop = AbortSignal.any([closing, abortedOnClose(response)]);
    const profile = await cpuProfile(seconds, stop);
    response.setHeader("content-disposition", 'attachment; filename="keyquarry.cpuprofile"');
    reply(response, 200, JSON.stringify(profile), "application/json");
  } finally {
    profiling = false;
  }
}

/** Aborted when the client goes away before the response is complete. */
function abortedOnClose(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once("close", () => controller.abort());
  return controller.signal;
}

function reply(response: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  if (response.writableEnded || response.destroyed) {
    return;
  }
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}

function urlOf(bound: ReturnType<import("node:http").Server["address"]>, address: ListenAddress): string {
  if (address.kind === "unix" || bound === null || typeof bound === "string") {
    return `unix://${address.kind === "unix" ? address.path : String(bound)}`;
  }
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return `http://${host}:${bound.port}`;
}
