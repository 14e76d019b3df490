# syntax=docker/dockerfile:1
# The API image: dependencies -> build -> runtime. Runs as a numeric non-root user, and also
# under any other UID with a read-only root filesystem given writable /tmp and DATA_DIR.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# A CA bundle for a TLS-intercepting registry proxy, if the build needs one (never in the image).
ARG NODE_EXTRA_CA_CERTS
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY src ./src
RUN npx tsc -p tsconfig.image.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
ARG NODE_EXTRA_CA_CERTS
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="rest-api" \
      org.opencontainers.image.description="Items REST API instrumented for Prometheus" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# /metrics on its own port, never on the public one (src/contract.ts: DEFAULT_PORT, DEFAULT_METRICS_PORT).
ENV NODE_ENV=production \
    PORT=8080 \
    METRICS_PORT=9464 \
    DATA_DIR=/var/lib/rest-api
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/build/src ./build/src
COPY --from=build /app/build/package.json ./build/package.json
COPY package.json ./
# Served at /runbooks, where the alerts' runbook_url points by default.
COPY docs/runbooks.md ./docs/runbooks.md
# Writable only where the app writes; the Deployment mounts emptyDirs there.
RUN mkdir -p /var/lib/rest-api && chown 10001:10001 /var/lib/rest-api && chmod 1777 /var/lib/rest-api
USER 10001:10001
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
# The server is PID 1 and handles SIGTERM itself (npm start would not forward it). Its Node flags
# are npm start's too (SERVER_NODE_FLAGS in tools/lib/processes.ts says why).
CMD ["node", "--max-semi-space-size=8", "build/src/server.js"]
