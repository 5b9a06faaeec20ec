# One image per service, from one build (docker compose and the Kubernetes manifests use these targets):
#
#   docker build --network host --target gateway -t domaeka/gateway .     (or: bash scripts/deploy/build-images.sh)
#
# Targets: gateway, dispatcher, runner, api, web, scheduler, migrate (a job: migrations, then exit).
# `deps` runs npm ci once and `build` builds the web app once; every target is the same `app`
# layer plus its own command, user and healthcheck. Services run their TypeScript through tsx,
# as `npm start` does (there is no separate compile step in this repository).
#
# NODE_IMAGE: the official node:20-bookworm-slim on a real host. Where no registry answers,
# scripts/deploy/build-images.sh makes an image of that name from the local debian:bookworm-slim
# and this machine's Node 20 (deploy/compose/local-images/README.md).
# Classic-builder compatible (no BuildKit-only syntax), so every Docker CLI builds it.
# Healthchecks live in compose.yaml (each service's /readyz, via scripts/deploy/healthcheck.mjs).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
# re2 builds from source with node-gyp (its prebuilt download cannot succeed offline):
# python3, make and g++ for that, the Node headers from the image itself (nodedir).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV DEVELOPMENT_SKIP_GETTING_ASSET=1 \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false
WORKDIR /app
COPY package.json package-lock.json ./
COPY broker/package.json broker/
COPY migrations/package.json migrations/
COPY services/api/package.json services/api/
COPY services/calls/package.json services/calls/
COPY services/core/package.json services/core/
COPY services/dispatcher/package.json services/dispatcher/
COPY services/gateway/package.json services/gateway/
COPY services/runner/package.json services/runner/
COPY services/scheduler/package.json services/scheduler/
COPY services/tenant-data/package.json services/tenant-data/
COPY web/package.json web/
# Dev dependencies stay: tsx runs the services.
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build -w @domaeka/web \
 && rm -rf web/.svelte-kit

FROM ${NODE_IMAGE} AS app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=build /app /app
# The Kakao skill, the bridge and the ops ports: every service listens on all interfaces inside
# its container (the compose file publishes only the web port and the bridge port).
ENV API_HOST=0.0.0.0 WEB_HOST=0.0.0.0 BRIDGE_HOST=0.0.0.0 \
    GATEWAY_HTTP_HOST=0.0.0.0 DISPATCHER_HTTP_HOST=0.0.0.0 \
    RUNNER_HTTP_HOST=0.0.0.0 SCHEDULER_HTTP_HOST=0.0.0.0
# The official image's user (uid 1000); the local base makes the same one.
USER node

FROM app AS migrate
CMD ["node", "--import", "tsx", "scripts/deploy/migrate-job.ts"]

FROM app AS gateway
EXPOSE 1490 8081
CMD ["node", "--import", "tsx", "services/gateway/src/main.ts"]

FROM app AS dispatcher
EXPOSE 8082
CMD ["node", "--import", "tsx", "services/dispatcher/src/main.ts"]

# The runner drives the host's Docker engine through its socket (bind-mounted): the user `node`
# needs the socket's group, which differs per host (compose: group_add DOCKER_GID). The image is
# built beside it (scripts/deploy/build-images.sh builds domaeka-sandbox too), never by it.
FROM app AS runner
ENV RUNNER_BUILD_IMAGE=0
EXPOSE 8083
CMD ["node", "--import", "tsx", "services/runner/src/main.ts"]

FROM app AS api
EXPOSE 8080
CMD ["node", "--import", "tsx", "services/api/src/main.ts"]

FROM app AS scheduler
EXPOSE 8084
CMD ["node", "--import", "tsx", "services/scheduler/src/main.ts"]

# The SvelteKit build plus the /api, /socket.io and /kakao proxy (web/server.js).
FROM app AS web
EXPOSE 3000
CMD ["node", "web/server.js"]
