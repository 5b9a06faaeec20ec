#!/usr/bin/env bash
# CI check of the compose deployment (issue 18, item 1): builds the images, validates compose.yaml
# (`compose config`), boots it under its own project name with fresh secrets, waits until every
# service reports healthy, then a scripted phone gets a sandbox reply through the published bridge
# port (scripts/deploy/smoke-phone.ts) and a bot server one over AMQP with a broker login the API made
# (scripts/deploy/smoke-bot-server.ts); finally `down -v`. On failure: the services' state and
# logs, exit 1. Prints how long each part took.
#
#   scripts/deploy/compose-smoke.sh [--keep] [--no-build]
#     --keep: leave it running for a look afterwards; --no-build: use the domaeka/* images as they
#     are (the dependencies' images are still chosen as build-images.sh chooses them)
#
# Ports are free ones picked here (loopback only), the broker prefix (kbsmoke) and the runner's
# socket directory are its own, so it runs beside a development platform and other tests.
# Env: KB_SMOKE_PROJECT (default domaeka-smoke), KB_SMOKE_HEALTH_TIMEOUT (s, default 300).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PROJECT=${KB_SMOKE_PROJECT:-domaeka-smoke}
PREFIX=kbsmoke
HEALTH_TIMEOUT=${KB_SMOKE_HEALTH_TIMEOUT:-300}
SERVICES="api web gateway dispatcher scheduler runner"
keep=0
only=()
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --no-build) only=(--only "") ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f s", b - a }'; }
say() { echo "[compose-smoke] $*"; }
T0=$(now)

# --- Compose: v2 (`docker compose`) where present, else 1.29 (`docker-compose`, Debian's) ---------
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  if ! command -v docker-compose >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || {
      echo "ERROR: neither 'docker compose' nor 'docker-compose' is installed (apt-get install docker-compose)." >&2; exit 1; }
    say "installing docker-compose (Debian's package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq docker-compose >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq docker-compose >/dev/null; }
  fi
  COMPOSE=(docker-compose)
fi
say "compose: $("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version | head -n1)"

# --- a fresh env file ------------------------------------------------------------------------------
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
secret() { node -e "console.log(require('crypto').randomBytes($1).toString('hex'))"; }
ENV_FILE=$(mktemp /tmp/kb-compose-smoke.XXXXXX.env)
WEB_PORT=$(free_port)
BRIDGE_PORT=$(free_port)
AMQP_PORT=$(free_port)
cat >"$ENV_FILE" <<EOF
POSTGRES_PASSWORD=$(secret 18)
DATA_GATEWAY_PASSWORD=$(secret 18)
RABBITMQ_PASSWORD=$(secret 18)
SECRETS_KEY=$(secret 32)
WEB_PROXY_SECRET=$(secret 32)
DOCKER_GID=$(stat -c %g /var/run/docker.sock)
RUNNER_SOCKET_DIR=/run/$PROJECT-runner
KB_BROKER_PREFIX=$PREFIX
WEB_PUBLISH=127.0.0.1:$WEB_PORT
BRIDGE_PUBLISH=127.0.0.1:$BRIDGE_PORT
RABBITMQ_PORT=127.0.0.1:$AMQP_PORT
RABBITMQ_MANAGEMENT_PORT=127.0.0.1:$(free_port)
POSTGRES_PORT=127.0.0.1:$(free_port)
RUNNER_POOL_SIZE=1
EOF
compose() { "${COMPOSE[@]}" -p "$PROJECT" --env-file "$ENV_FILE" -f compose.yaml "$@"; }

failed=0
cleanup() {
  local rc=$?
  if [ $rc != 0 ] || [ $failed = 1 ]; then
    echo
    say "FAILED after $(since "$T0"); the deployment as it was:"
    compose ps 2>&1 || true
    for s in $SERVICES migrate rabbitmq postgres; do
      id=$(compose ps -q "$s" 2>/dev/null || true)
      [ -n "$id" ] || continue
      health=$(docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{println}}{{end}}{{end}}' "$id" 2>/dev/null | grep -v "^$" | tail -n 3 || true)
      echo "----- $s: $(docker inspect -f '{{.State.Status}} exit={{.State.ExitCode}}{{if .State.Health}} health={{.State.Health.Status}}{{end}}' "$id" 2>/dev/null)"
      [ -n "$health" ] && echo "$health" | sed 's/^/  health: /'
      compose logs --no-color --tail=60 "$s" 2>&1 | sed 's/^/  /' || true
    done
  fi
  if [ $keep = 1 ]; then
    say "kept running (--keep): ${COMPOSE[*]} -p $PROJECT --env-file $ENV_FILE down -v"
    return
  fi
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  # Sandboxes the runner had no time to remove: only this deployment's (its broker prefix).
  docker ps -aq --filter "label=org.domaeka.prefix=$PREFIX" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "/run/$PROJECT-runner" "$ENV_FILE"
}
trap cleanup EXIT

# --- 1. compose.yaml is valid --------------------------------------------------------------------
compose config -q
say "compose config: valid"

# --- 2. images -----------------------------------------------------------------------------------
t=$(now)
bash scripts/deploy/build-images.sh --env-out "$ENV_FILE" "${only[@]}"
say "images ready in $(since "$t")"

# --- 3. boot and wait for health ------------------------------------------------------------------
t=$(now)
compose down -v --remove-orphans >/dev/null 2>&1 || true
compose up -d --no-build
deadline=$(( $(date +%s) + HEALTH_TIMEOUT ))
while :; do
  waiting=""
  for s in $SERVICES; do
    id=$(compose ps -q "$s")
    state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
    [ "$state" = "running healthy" ] || waiting="$waiting $s($state)"
  done
  migrate_exit=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(compose ps -q migrate)" 2>/dev/null || echo "missing")
  case "$migrate_exit" in
    "exited 0"|running*|created*) ;;
    *) say "the migrate job failed: $migrate_exit"; failed=1; exit 1 ;;
  esac
  [ -z "$waiting" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then
    say "not healthy within ${HEALTH_TIMEOUT} s:$waiting"
    failed=1
    exit 1
  fi
  sleep 2
done
say "all services healthy in $(since "$t"): $SERVICES"

# --- 4. a scripted phone gets a sandbox reply through the deployment -------------------------------
t=$(now)
SMOKE_WEB_PORT=$WEB_PORT SMOKE_BRIDGE_PORT=$BRIDGE_PORT node --import tsx scripts/deploy/smoke-phone.ts
say "phone journey in $(since "$t")"

# --- 5. a bot server gets a reply over AMQP with a login the API made (management API) --------------
t=$(now)
SMOKE_WEB_PORT=$WEB_PORT SMOKE_AMQP_PORT=$AMQP_PORT node --import tsx scripts/deploy/smoke-bot-server.ts
say "bot-server journey in $(since "$t")"
say "PASSED in $(since "$T0") (images, boot, phone, bot server)"
