# syntax=docker/dockerfile:1
# The keyquarry server:
#   docker build -t keyquarry .
#   docker run -p 33969:33969 -v kq-data:/data keyquarry
# Other commands of the same CLI: docker run --rm keyquarry client --address HOST:33969 stats
# (test/dockerfile.test.ts checks this file's structure.)

# One Node.js for every stage, so the native addon built below fits the runtime.
ARG NODE_IMAGE=node:24.20-trixie-slim

# ---- manifests: what `npm ci` reads, for the two stages that install.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY gen/package.json gen/
COPY client-web/package.json client-web/
COPY client-node/package.json client-node/
COPY server/package.json server/

# ---- build: every dependency (dev ones too), then `npm run build` (dist/ of each package).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /app ./
# No install scripts: `prepare` would build before the sources are here, and
# the build itself needs no native addon (better-sqlite3 is built for the runtime below).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json tsdown.base.ts ./
COPY gen gen
COPY client-web client-web
COPY client-node client-node
COPY server server
RUN npm run build

# ---- production dependencies of the server only, from the lockfile: no tsdown,
# vitest, buf or TypeScript, and no workspace package besides the server.
FROM ${NODE_IMAGE} AS production-dependencies
# better-sqlite3 downloads a prebuilt addon for this Node.js, else compiles one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=manifests /app ./
# Scripts only for better-sqlite3 (its addon); the root's `prepare` (the build) is not wanted here.
RUN npm ci --omit=dev --workspace @keyquarry/server --include-workspace-root=false --ignore-scripts \
 && npm rebuild better-sqlite3 \
 && rm node_modules/@keyquarry/gen node_modules/@keyquarry/client-web node_modules/@keyquarry/client-node \
 && npm cache clean --force

# ---- runtime: node, the production dependencies and the built server; nothing else.
FROM ${NODE_IMAGE} AS runtime
# Listen on every interface of the container, keep snapshots in the /data volume.
# A fixed name: the default (<user>@<hostname>) changes with every container,
# and a server restores only the snapshots stored under its own name.
# Graceful shutdown within `docker stop`'s 10 s grace period, so that the
# final snapshot is written before a SIGKILL.
ENV NODE_ENV=production \
    KEYQUARRY_LISTEN_ADDRESS=0.0.0.0:33969 \
    KEYQUARRY_DATA_DIR=/data \
    KEYQUARRY_SNAPSHOT_ENABLED=true \
    KEYQUARRY_NAME=keyquarry \
    KEYQUARRY_GRACEFUL_SHUTDOWN_TIMEOUT=5s
WORKDIR /app
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /app/server/dist server/dist
COPY server/package.json server/
COPY server/bin server/bin
COPY server/drizzle server/drizzle
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 33969
# Our own client: fails unless the server answers a call within the timeout.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/server/bin/keyquarry.js", "client", "--address", "127.0.0.1:33969", "--client-id", "healthcheck", "--timeout", "3s", "stats"]
# node itself is PID 1 (no npm, no shell): `docker stop`'s SIGTERM reaches the
# server, which stops gracefully and writes its final snapshot to /data.
ENTRYPOINT ["node", "/app/server/bin/keyquarry.js"]
CMD ["serve"]
