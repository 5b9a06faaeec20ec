#!/usr/bin/env bash
# Builds every image compose.yaml runs:
#
#   scripts/deploy/build-images.sh [--env-out FILE] [--only "api web ..."]
#
# - the sandbox image (sandbox-image/build.sh; it also makes debian:bookworm-slim when no registry
#   answers);
# - the Node base: the official node:20-bookworm-slim when present or pullable; otherwise an image
#   of that name made here from the local debian:bookworm-slim plus this machine's Node 20
#   (deploy/compose/local-images/node; the same idea as the sandbox base);
# - RabbitMQ and PostgreSQL: the official rabbitmq:3.13-management and postgres:16 when present or
#   pullable; otherwise stand-ins from Debian's packages under names of their own
#   (domaeka-local/rabbitmq:3.10-bookworm, domaeka-local/postgres:15-bookworm: Debian's versions, so
#   not the official names); the names to use are printed and, with --env-out, appended to FILE as
#   RABBITMQ_IMAGE=... / POSTGRES_IMAGE=... for compose;
# - one image per Dockerfile target: $DOMAEKA_IMAGE/<target>:$DOMAEKA_TAG (default domaeka/...:latest).
#
# Builds use `--network host` (npm and apt reach their mirrors through the host) and the classic
# builder (every Docker CLI has it). Env: DOMAEKA_IMAGE, DOMAEKA_TAG, KB_PULL_TIMEOUT (s, default 30).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LOCAL=$ROOT/deploy/compose/local-images
PREFIX=${DOMAEKA_IMAGE:-domaeka}
TAG=${DOMAEKA_TAG:-latest}
NODE_IMAGE=node:20-bookworm-slim
RABBITMQ_OFFICIAL=rabbitmq:3.13-management
RABBITMQ_LOCAL=domaeka-local/rabbitmq:3.10-bookworm
POSTGRES_OFFICIAL=postgres:16
POSTGRES_LOCAL=domaeka-local/postgres:15-bookworm
TARGETS="migrate gateway dispatcher runner api scheduler web"

env_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --env-out) env_out=$2; shift 2 ;;
    --only) TARGETS=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f s", b - a }'; }
say() { echo "[build-images] $*"; }
T0=$(now)

# `docker build` quietly, its output shown only when it fails.
build() {
  local what=$1 log
  shift
  log=$(mktemp /tmp/kb-build-images.XXXXXX)
  if ! DOCKER_BUILDKIT=0 docker build --network host "$@" >"$log" 2>&1; then
    echo "ERROR: building $what failed; last lines:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

have() { docker image inspect "$1" >/dev/null 2>&1; }
pullable() { timeout "${KB_PULL_TIMEOUT:-30}" docker pull -q "$1" >/dev/null 2>&1; }

bash "$ROOT/scripts/ensure-docker.sh"

# --- the sandbox image (and debian:bookworm-slim with it) --------------------------------------
bash "$ROOT/sandbox-image/build.sh"

# --- the Node base -------------------------------------------------------------------------------
make_node_base() {
  local node prefix ctx
  node=$(readlink -f "$(command -v node)")
  case "$("$node" --version)" in v20.*) ;; *)
    echo "ERROR: $NODE_IMAGE cannot be pulled and this machine's node is $("$node" --version), not 20." >&2; exit 1 ;;
  esac
  prefix=$(dirname "$(dirname "$node")")
  for need in "$prefix/include/node/node.h" "$prefix/lib/node_modules/npm/bin/npm-cli.js"; do
    [ -f "$need" ] || { echo "ERROR: $need is missing (the local Node base needs Node's headers and npm)." >&2; exit 1; }
  done
  ctx=$(mktemp -d /tmp/kb-node-base.XXXXXX)
  cp "$LOCAL/node/Dockerfile" "$ctx/"
  cp "$node" "$ctx/node"
  mkdir -p "$ctx/include"
  cp -a "$prefix/include/node" "$ctx/include/"
  cp -a "$prefix/lib/node_modules/npm" "$ctx/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.pem"
  build "$NODE_IMAGE (local)" -t "$NODE_IMAGE" "$ctx"
  rm -rf "$ctx"
}

t=$(now)
if have "$NODE_IMAGE"; then
  say "$NODE_IMAGE: present ($(docker image inspect -f '{{index .Config.Labels "org.domaeka.base"}}' "$NODE_IMAGE" | sed 's/^$/official/'))"
elif pullable "$NODE_IMAGE"; then
  say "$NODE_IMAGE: pulled"
else
  say "$NODE_IMAGE: no registry answers; making it from debian:bookworm-slim and this machine's $(node --version)"
  make_node_base
  say "$NODE_IMAGE: made in $(since "$t")"
fi

# --- RabbitMQ and PostgreSQL ---------------------------------------------------------------------
# Echoes the name compose should run: the official one when there, else the local stand-in.
dependency() {
  local official=$1 local_name=$2 dir=$3 t
  if have "$official" || pullable "$official"; then echo "$official"; return; fi
  t=$(now)
  build "$local_name" -t "$local_name" "$dir"
  say "$official cannot be pulled: $local_name (Debian's packages) built or current in $(since "$t")" >&2
  echo "$local_name"
}
# In the background, beside the platform's images: mostly apt downloads, little CPU.
deps_dir=$(mktemp -d /tmp/kb-build-deps.XXXXXX)
dependency "$RABBITMQ_OFFICIAL" "$RABBITMQ_LOCAL" "$LOCAL/rabbitmq" >"$deps_dir/rabbitmq" 2>"$deps_dir/rabbitmq.log" &
rabbitmq_job=$!
dependency "$POSTGRES_OFFICIAL" "$POSTGRES_LOCAL" "$LOCAL/postgres" >"$deps_dir/postgres" 2>"$deps_dir/postgres.log" &
postgres_job=$!

# --- the platform's images ----------------------------------------------------------------------
# One snapshot of the tree for every target: the shared stages (npm ci, the web build) are then
# built once and cached for the others, even while files change in the working tree meanwhile.
# The daemon applies .dockerignore to it; the excludes here only keep the tar small.
context=$(mktemp /tmp/kb-build-context.XXXXXX.tar)
trap 'rm -rf "$context" "$deps_dir"' EXIT
tar -C "$ROOT" --exclude=./.git --exclude='./node_modules' --exclude='./*/node_modules' \
  --exclude='./services/*/node_modules' --exclude=./web/build --exclude=./web/.svelte-kit --exclude=./.data \
  -cf "$context" .
for target in $TARGETS; do
  t=$(now)
  build "target $target" --build-arg "NODE_IMAGE=$NODE_IMAGE" --target "$target" -t "$PREFIX/$target:$TAG" - <"$context"
  say "$PREFIX/$target:$TAG built in $(since "$t")"
done

for dep in rabbitmq postgres; do
  job=${dep}_job
  if ! wait "${!job}"; then cat "$deps_dir/$dep.log" >&2; exit 1; fi
  cat "$deps_dir/$dep.log"
done
rabbitmq_image=$(cat "$deps_dir/rabbitmq")
postgres_image=$(cat "$deps_dir/postgres")
say "RABBITMQ_IMAGE=$rabbitmq_image POSTGRES_IMAGE=$postgres_image"
if [ -n "$env_out" ]; then
  printf 'RABBITMQ_IMAGE=%s\nPOSTGRES_IMAGE=%s\n' "$rabbitmq_image" "$postgres_image" >>"$env_out"
fi
say "done in $(since "$T0")"
