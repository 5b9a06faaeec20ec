#!/usr/bin/env bash
# Extra Docker engines on this one machine, beside (never touching) the main
# one (/var/run/docker.sock): engine N is its own `dockerd` with its own data
# root, exec root (and so its own managed containerd), pid file, config file
# and unix socket, no bridge and no iptables rules (sandboxes run with
# `--network none`), so N runners each get "a Docker engine of their own"
# as on N machines (issue 18: runners on separate Docker engines).
#
#   docker-engines.sh start N    start engines 1..N (idempotent: those up are left alone) and load the
#                                sandbox image into each from the main engine; prints one DOCKER_HOST a line
#   docker-engines.sh hosts N    the DOCKER_HOST of engines 1..N, one a line
#   docker-engines.sh stop [N]   stop engines 1..N (default: every one found) and remove their data
#
# Env: KB_ENGINES_RUN (sockets, pid files, exec roots; default /run/kb-engines),
#      KB_ENGINES_DATA (data roots; default /var/lib/kb-engines),
#      SANDBOX_IMAGE (default domaeka-sandbox:latest; every tag of its image id is loaded).
# Needs root (dockerd) and the image in the main engine (sandbox-image/build.sh).
set -euo pipefail

RUN=${KB_ENGINES_RUN:-/run/kb-engines}
DATA=${KB_ENGINES_DATA:-/var/lib/kb-engines}
IMAGE=${SANDBOX_IMAGE:-domaeka-sandbox:latest}

sock() { echo "$RUN/e$1.sock"; }
host() { echo "unix://$(sock "$1")"; }
edocker() {
  local n=$1
  shift
  docker -H "$(host "$n")" "$@"
}
up() { edocker "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_engine() {
  local n=$1
  if up "$n"; then return 0; fi
  mkdir -p "$RUN/e$n" "$DATA/e$n"
  # An empty config of its own: nothing of a system daemon.json (hosts, bridge) applies.
  echo '{}' >"$RUN/e$n.json"
  # A pid file left by a crashed engine would stop dockerd from starting.
  if [ -f "$RUN/e$n.pid" ] && ! kill -0 "$(cat "$RUN/e$n.pid")" 2>/dev/null; then rm -f "$RUN/e$n.pid"; fi
  # setsid + nohup: the engine outlives the shell (and the test run) that started it.
  setsid nohup dockerd \
    --config-file "$RUN/e$n.json" \
    --data-root "$DATA/e$n" \
    --exec-root "$RUN/e$n" \
    --pidfile "$RUN/e$n.pid" \
    -H "$(host "$n")" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver overlay2 \
    --log-level warn \
    >"$RUN/e$n.log" 2>&1 </dev/null &
}

wait_up() {
  local n=$1
  for _ in $(seq 1 300); do
    if up "$n"; then return 0; fi
    sleep 0.2 # polling the engine's socket until it answers
  done
  echo "engine $n did not answer on $(sock "$n"); its log:" >&2
  tail -n 30 "$RUN/e$n.log" >&2 || true
  return 1
}

# The sandbox image as the main engine has it (same id, every tag: the runner checks the version label).
load_image() {
  local n=$1 want have tags
  want=$(docker image inspect -f '{{.Id}}' "$IMAGE")
  have=$(edocker "$n" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  if [ "$want" = "$have" ]; then return 0; fi
  mapfile -t tags < <(docker image inspect -f '{{range .RepoTags}}{{println .}}{{end}}' "$IMAGE" | grep .)
  docker save "${tags[@]}" | edocker "$n" load -q >/dev/null
}

# One sandbox as the runner starts them (no network): the engine can run the image.
check_run() {
  local n=$1 out
  out=$(edocker "$n" run --rm --network none --user 1000 --entrypoint python3 "$IMAGE" -c 'print("ok")')
  [ "$out" = "ok" ] || { echo "engine $n: the sandbox image did not run (got: $out)" >&2; return 1; }
}

cmd=${1:-}
case "$cmd" in
  start)
    count=${2:?usage: docker-engines.sh start N}
    docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "no $IMAGE in the main engine: run sandbox-image/build.sh" >&2; exit 1; }
    mkdir -p "$RUN" "$DATA"
    for n in $(seq 1 "$count"); do start_engine "$n"; done
    for n in $(seq 1 "$count"); do wait_up "$n"; done
    # In parallel; `wait` on these pids only (the engines started above are background jobs too).
    pids=()
    for n in $(seq 1 "$count"); do
      load_image "$n" &
      pids+=($!)
    done
    wait "${pids[@]}" || true
    for n in $(seq 1 "$count"); do
      load_image "$n" # a failed background load shows here
      check_run "$n"
      host "$n"
    done
    ;;
  hosts)
    for n in $(seq 1 "${2:?usage: docker-engines.sh hosts N}"); do host "$n"; done
    ;;
  stop)
    if [ -n "${2:-}" ]; then list=$(seq 1 "$2"); else list=$(ls "$RUN" 2>/dev/null | sed -n 's/^e\([0-9]*\)\.pid$/\1/p'); fi
    for n in $list; do
      if up "$n"; then
        ids=$(edocker "$n" ps -aq)
        [ -z "$ids" ] || edocker "$n" rm -f $ids >/dev/null
      fi
      if [ -f "$RUN/e$n.pid" ]; then
        pid=$(cat "$RUN/e$n.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done # waiting for dockerd to exit
        kill -9 "$pid" 2>/dev/null || true
      fi
      # Its containerd's mounts go with it; whatever overlay mount is left would keep the data root busy.
      grep -o " $DATA/e$n/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
      rm -rf "${DATA:?}/e$n" "${RUN:?}/e$n" "$RUN/e$n".{sock,pid,json,log}
    done
    ;;
  *)
    sed -n '2,17p' "$0" >&2
    exit 2
    ;;
esac
