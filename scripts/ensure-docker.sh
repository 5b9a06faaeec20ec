#!/usr/bin/env bash
# Makes sure a Docker engine answers (`docker info`). Where none does and we
# are root on Debian/Ubuntu, installs docker.io from the distribution's
# packages (the apt sources already configured) and starts
# `dockerd --bridge=none --iptables=false` in the background, saying so;
# elsewhere stops with one clear message naming what is missing and the
# command that provides it. Idempotent; prints nothing when all is fine
# (except a loud warning when the storage driver is vfs).
#
# Env: DOCKER_HOST (a remote engine is only checked, never started),
#      KB_DOCKERD_LOG (default /var/log/dockerd-kb.log),
#      KB_DOCKERD_PIDFILE (default /var/run/dockerd-kb.pid),
#      KB_DOCKERD_WAIT seconds to wait for a started engine (default 60).
set -euo pipefail

LOG=${KB_DOCKERD_LOG:-/var/log/dockerd-kb.log}
PIDFILE=${KB_DOCKERD_PIDFILE:-/var/run/dockerd-kb.pid}
WAIT=${KB_DOCKERD_WAIT:-60}

say() { echo "$*" >&2; }
die() {
  say "ERROR: $1"
  [ $# -gt 1 ] && say "$2"
  exit 1
}

# `docker info` with a bound: a socket whose daemon hangs must not hang us.
info_err=""
docker_answers() {
  command -v docker >/dev/null 2>&1 || { info_err="docker CLI not found"; return 1; }
  if info_err=$(timeout 20 docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null); then
    return 0
  fi
  return 1
}

debian_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

local_engine() {
  case "${DOCKER_HOST:-}" in
    ""|unix:///var/run/docker.sock|unix:///run/docker.sock) return 0 ;;
    *) return 1 ;;
  esac
}

check_driver() {
  local driver
  driver=$(timeout 20 docker info --format '{{.Driver}}' 2>/dev/null || true)
  if [ "$driver" = vfs ]; then
    say "************************************************************************"
    say "경고: Docker 저장소 드라이버가 vfs입니다. 컨테이너마다 이미지 전체가 복사되어"
    say "      샌드박스 풀이 매우 느리고 디스크를 많이 씁니다."
    say "WARNING: the Docker storage driver is vfs: every container copies the"
    say "         whole image. Sandboxes will be slow and use a lot of disk."
    say "         Use overlay2 (a filesystem that supports overlayfs, e.g. ext4/xfs"
    say "         under /var/lib/docker; see $LOG)."
    say "************************************************************************"
  fi
}

if docker_answers; then
  check_driver
  exit 0
fi

if ! local_engine; then
  die "Docker 엔진이 응답하지 않습니다 / the Docker engine at DOCKER_HOST=$DOCKER_HOST does not answer: $info_err" \
      "Start that engine, or unset DOCKER_HOST to use a local one."
fi

if ! debian_root; then
  if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
    die "Docker 엔진이 없습니다 / the Docker engine is not installed (docker, dockerd)." \
        "Install it, for example: sudo apt-get install docker.io   (or see https://docs.docker.com/engine/install/), then: sudo scripts/ensure-docker.sh"
  fi
  case "$info_err" in
    *"permission denied"*)
      die "Docker 소켓에 접근할 수 없습니다 / no permission on the Docker socket: $info_err" \
          "Add yourself to the docker group: sudo usermod -aG docker \$USER (then log in again), or run as root." ;;
  esac
  die "Docker 엔진이 응답하지 않습니다 / the Docker engine does not answer: $info_err" \
      "Start it, for example: sudo systemctl start docker   (or: sudo scripts/ensure-docker.sh)"
fi

# --- root on Debian/Ubuntu from here on ---------------------------------------
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  say "Docker 엔진이 없어 설치합니다 / installing the Docker engine (docker.io) from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  # Try the package lists we have first; refresh them only when that fails.
  if ! apt-get install -y -qq docker.io >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq docker.io >/dev/null
  fi
  # A systemd machine starts the engine as part of the install.
  if docker_answers; then check_driver; exit 0; fi
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  say "Docker 엔진을 시작합니다 / starting the Docker engine (systemctl start docker)"
  systemctl start docker || true
else
  running=""
  for f in "$PIDFILE" /var/run/docker.pid; do
    if [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then running=$(cat "$f"); break; fi
  done
  if [ -n "$running" ]; then
    say "dockerd(pid $running)가 아직 준비 중입니다 / dockerd (pid $running) is starting; waiting"
  else
    say "Docker 엔진을 시작합니다 / starting dockerd --bridge=none --iptables=false (log: $LOG)"
    mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")"
    # setsid: the engine outlives this script and its terminal.
    setsid dockerd --bridge=none --iptables=false --pidfile "$PIDFILE" \
      </dev/null >>"$LOG" 2>&1 &
  fi
fi

for _ in $(seq 1 "$WAIT"); do
  docker_answers && break
  sleep 1
done
if ! docker_answers; then
  say "ERROR: Docker 엔진이 ${WAIT}초 안에 응답하지 않았습니다 / dockerd did not answer within ${WAIT}s: $info_err"
  say "Last lines of $LOG:"
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  exit 1
fi

say "Docker 엔진이 응답합니다 / the Docker engine answers: $(docker info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})' 2>/dev/null)"
check_driver
