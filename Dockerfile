# Production image of the Lettuce backend: one image, several processes.
#   API (default CMD):  node dist/src/api/main.js          (Koa on PORT=8080)
#   Worker:             node dist/src/temporal/worker-main.js
#   Migrations:         node dist/src/db/migrate-main.js
#   Search attributes:  node dist/src/temporal/setup-main.js
# The Temporal worker's native bridge is built for glibc only: Debian bookworm, never Alpine.

# ── Build: compile TypeScript and the prebuilt workflow bundle, then drop dev dependencies ──────
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Dependencies first, so source edits reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
# `npm run build` = tsc + dist/workflow-bundle.js (the worker loads the bundle in production,
# built with the exact @temporalio/worker version it runs with) + the web UI in dist/ui (the API
# serves it; WEB_UI=false turns it off). Fail here if either is missing.
RUN npm run build \
 && test -s dist/workflow-bundle.js \
 && test -s dist/ui/index.html \
 && npm prune --omit=dev

# ── Runtime ─────────────────────────────────────────────────────────────────────────────────────
FROM node:20-bookworm-slim AS runtime

# git: clones and fetches (the worker shells out to it); ca-certificates: HTTPS for git and APIs;
# tini: PID 1 that forwards SIGTERM to node and reaps git's child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data

WORKDIR /app
# Code stays owned by root, read-only to the runtime user.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY deploy/healthcheck.js ./healthcheck.js

# DATA_DIR (clones) belongs to the unprivileged `node` user (uid 1000) of the base image. A fresh
# named volume mounted here inherits that ownership.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

USER node

EXPOSE 8080
# Workers get WORKER_SHUTDOWN_GRACE_SECONDS (30 s) for in-flight activities after SIGTERM: give
# the container a longer stop timeout (compose: stop_grace_period 45s).
STOPSIGNAL SIGTERM
# Liveness of the API process. Worker containers have no HTTP server: compose disables this there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/healthcheck.js", "/healthz"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/api/main.js"]
