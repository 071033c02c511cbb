# syntax=docker/dockerfile:1

# sendmux-deactivator: BullMQ worker service + CLI (`start`, `worker`, `serve`, `sim`, ...).
#   docker build -t sendmux-deactivator .
#   docker run --rm -p 127.0.0.1:8080:8080 -e REDIS_URL=redis://redis:6379 \
#     -e SENDMUX_API_KEY=... -e ADMIN_TOKEN=... sendmux-deactivator
# The default command is `start`: the worker and the HTTP server (admin API, dashboard, status
# page, /metrics, /healthz, webhooks) in one process, on PORT (default 8080). The HEALTHCHECK
# asks that server's /healthz; with another command (`worker` serves /healthz only on
# WORKER_METRICS_PORT, `sim` on none) set PORT to where it answers, or run with --no-healthcheck.
# Logs are JSON lines (with pid, hostname), also on a terminal (`docker run -t`): pino-pretty is a
# devDependency, left out of this image.
# Tracing (OpenTelemetry, OTEL_* variables) needs the SDK, left out by default (46 MiB):
#   docker build --build-arg TRACING=1 -t sendmux-deactivator .

# ---- build: full dependency tree, compile TypeScript to dist/, bundle the status page ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
# Install scripts stay off, as package.json's allowScripts has them (prebuilt optional deps suffice).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build`'s second step bundles the status page's browser code (esbuild) into dist/.
COPY scripts/build-status-page.ts ./scripts/
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM node:24-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="sendmux-deactivator" \
      org.opencontainers.image.description="Switch Sendmux sending accounts off (and back on) safely, at scale, through a Redis-backed job queue." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
# 1 keeps the OpenTelemetry SDK (tracing); without it, OTEL_* variables log an error saying so.
ARG TRACING=0
COPY package.json package-lock.json ./
COPY scripts/prune-runtime.mjs ./scripts/
# Then out with what nothing loads at run time (README "Operations notes", image size):
# TypeScript (a peer of valibot, through @bull-board/api) and, unless TRACING=1, the SDK.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && node scripts/prune-runtime.mjs typescript \
    && if [ "$TRACING" != "1" ]; then node scripts/prune-runtime.mjs @opentelemetry/sdk-node; fi \
    && rm -rf scripts \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY LICENSE ./
USER node
# `start` listens on PORT (default 8080).
EXPOSE 8080
# No curl or wget in the slim image: node's fetch. Healthy = /healthz answers 200 within 4 s.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((res) => process.exit(res.status === 200 ? 0 : 1), () => process.exit(1))"]
# The worker drains in-flight jobs on SIGTERM; give it the compose stop_grace_period to finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/sendmux-deactivator.js"]
CMD ["start"]
