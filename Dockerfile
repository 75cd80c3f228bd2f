# syntax=docker/dockerfile:1.7
# Both service images, built from the repository root: the build is one, each image is a target.
#   docker build --target gateway -t neonpro/gateway:dev .
#   docker build --target ai-agent -t neonpro/ai-agent:dev .
# The base is pinned to an exact Node 24 LTS release. Pin the digest too in CI
# (node:24.21.0-bookworm-slim@sha256:…): it cannot be resolved offline where this file was written.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# deps: every dependency (dev included) for the TypeScript build.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# build: tsc + path-alias rewrite into dist/ (libs/testing is excluded by tsconfig.build.json).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json tsconfig.build.json nest-cli.json ./
COPY tools/with-node.sh ./tools/with-node.sh
COPY libs ./libs
COPY services ./services
RUN npm run build

# prod-deps: production dependencies only, installed apart so no dev package reaches the runtime.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# runtime: what both images share. Compiled libs + production node_modules, owned by root and
# read-only for the app user, so the container runs with a read-only root filesystem (only /tmp is
# writable, an emptyDir in k8s). Each service's target below adds its own code and port.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/libs ./dist/libs
# Numeric ids so Kubernetes can verify runAsNonRoot without resolving a user name.
USER 10001:10001
# Node's own fetch: the slim image has no curl or wget. PORT is set by each target (and by k8s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form (CMD in each target): node is PID 1 and receives SIGTERM directly. PID 1 gets no
# default signal actions, which is fine because main.ts installs SIGTERM/SIGINT handlers that
# drain and exit 0; the app spawns no children, so there are no zombies to reap and no init
# (tini, --init) is needed.
STOPSIGNAL SIGTERM

FROM runtime AS gateway
ENV PORT=3000
# Includes public/ (the demo chat page served at /), copied there by `npm run build`.
COPY --from=build /app/dist/services/gateway ./dist/services/gateway
# The migration Job runs `node dist/libs/database/src/cli/migrate.js` from this image.
COPY supabase/migrations ./supabase/migrations
# 9464: the /metrics listener when METRICS_PORT=9464 (as the chart and kustomize set it).
EXPOSE 3000 9464
# An 8 MiB semi-space cap (V8 sizes it from the host's memory, up to 2 x 64 MiB under load): at
# 10k sockets RSS is that of a 4 MiB cap (16 MiB added ~15 MB) with about half its scavenges
# under request load (docs/performance.md, "Choosing the semi-space cap").
# The launcher, benchmarks and tests read these flags from here (tools/lib/node-flags.mjs).
CMD ["node", "--max-semi-space-size=8", "dist/services/gateway/src/main.js"]

FROM runtime AS ai-agent
ENV PORT=3001
COPY --from=build /app/dist/services/ai-agent ./dist/services/ai-agent
EXPOSE 3001
CMD ["node", "dist/services/ai-agent/src/main.js"]
