#!/usr/bin/env bash
# A 3-node RabbitMQ cluster on this one machine, beside (never touching) the
# system node on 5672: own node names (kbc1..3@localhost), AMQP ports
# (KB_CLUSTER_PORT_BASE+1..3, default 5701-5703), distribution ports
# (+20000), data, logs, config and erlang cookie under KB_CLUSTER_DIR, no
# plugins (no management listener), loopback only.
#
#   rabbitmq-cluster.sh start          start the three nodes, join 2 and 3 to 1, wait until all run
#   rabbitmq-cluster.sh stop           stop every node and remove KB_CLUSTER_DIR
#   rabbitmq-cluster.sh stop-node N    stop node N (its Erlang VM exits; the others keep the cluster)
#   rabbitmq-cluster.sh kill-node N    kill -9 node N's Erlang VM (a crash: no goodbye to clients or peers)
#   rabbitmq-cluster.sh start-node N   start node N again (it rejoins by itself)
#   rabbitmq-cluster.sh urls           the AMQP_URL list of the three nodes
#   rabbitmq-cluster.sh ctl N ARGS...  rabbitmqctl against node N
#
# The Debian wrappers in /usr/sbin switch to the rabbitmq user and drop this
# environment, so the scripts in /usr/lib/rabbitmq/bin run directly (as the
# caller) with HOME pointing at the cluster's own cookie.
set -euo pipefail

DIR=${KB_CLUSTER_DIR:-/tmp/domaeka-rabbitmq-cluster}
BASE=${KB_CLUSTER_PORT_BASE:-5700}
BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
NODES=(1 2 3)

node_name() { echo "kbc$1@localhost"; }
node_port() { echo $((BASE + $1)); }

# The environment of node N: every path and port of its own, nothing read from /etc/rabbitmq.
node_env() {
  local n=$1 d="$DIR/n$1"
  echo HOME="$DIR" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$(node_port "$n")" \
    RABBITMQ_DIST_PORT=$(($(node_port "$n") + 20000)) \
    RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_PID_FILE="$d/pid" \
    RABBITMQ_FEATURE_FLAGS_FILE="$d/feature_flags" \
    ERL_CRASH_DUMP="$d/log/erl_crash.dump" \
    ERL_EPMD_ADDRESS=127.0.0.1
}

ctl() {
  local n=$1
  shift
  env $(node_env "$n") "$BIN/rabbitmqctl" -n "$(node_name "$n")" "$@"
}

prepare() {
  mkdir -p "$DIR"
  if [ ! -f "$DIR/.erlang.cookie" ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/.erlang.cookie")
    chmod 400 "$DIR/.erlang.cookie"
  fi
  for n in "${NODES[@]}"; do
    local d="$DIR/n$n"
    mkdir -p "$d/mnesia" "$d/log"
    : >"$d/rabbitmq-env.conf"
    echo '[].' >"$d/enabled_plugins"
    # Distribution on loopback only (epmd is told by ERL_EPMD_ADDRESS).
    echo '[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].' >"$d/advanced.config"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(node_port "$n")
loopback_users.guest = true
log.file.level = info
log.console = false
EOF
  done
}

start_node() {
  local n=$1
  if ctl "$n" -q status >/dev/null 2>&1; then return 0; fi
  # -detached: the VM forks off and keeps running after this script ends.
  rm -f "$DIR/n$n/pid"
  env $(node_env "$n") "$BIN/rabbitmq-server" -detached >>"$DIR/n$n/log/startup.log" 2>&1
  # -detached returns before the node is registered: `wait` watches its pid file, then the boot.
  ctl "$n" -q wait "$DIR/n$n/pid" --timeout 120 >/dev/null
}

stop_node() {
  local n=$1
  ctl "$n" -q stop >/dev/null 2>&1 || true
}

kill_node() {
  local n=$1 pid
  pid=$(cat "$DIR/n$n/pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

joined() {
  ctl 1 -q cluster_status --formatter json 2>/dev/null | grep -q "\"running_nodes\":\[[^]]*$(node_name 3)" &&
    ctl 1 -q cluster_status --formatter json | grep -q "\"running_nodes\":\[[^]]*$(node_name 2)"
}

urls() {
  local out=() n
  for n in "${NODES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$(node_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

case "${1:-}" in
  start)
    prepare
    # The three boots in parallel (each ~15 s of mostly waiting), then the joins one at a time.
    pids=()
    for n in "${NODES[@]}"; do
      start_node "$n" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for n in 2 3; do
      if ! ctl 1 -q cluster_status --formatter json | grep -q "$(node_name "$n")"; then
        ctl "$n" -q stop_app
        ctl "$n" -q join_cluster "$(node_name 1)"
        ctl "$n" -q start_app
      fi
    done
    for n in "${NODES[@]}"; do ctl "$n" -q await_startup --timeout 120 >/dev/null; done
    joined || { echo "cluster did not form" >&2; ctl 1 cluster_status >&2; exit 1; }
    urls
    ;;
  stop)
    for n in "${NODES[@]}"; do stop_node "$n"; done
    rm -rf "$DIR"
    ;;
  stop-node) stop_node "${2:?node number}" ;;
  start-node) start_node "${2:?node number}" ;;
  kill-node) kill_node "${2:?node number}" ;;
  urls) urls ;;
  ctl)
    shift
    n=${1:?node number}
    shift
    ctl "$n" "$@"
    ;;
  *)
    sed -n '2,15p' "$0" >&2
    exit 64
    ;;
esac
