#!/usr/bin/env bash
# Makes sure RabbitMQ and PostgreSQL answer on this machine. Where they do not
# and we are root on Debian/Ubuntu, installs them from the distribution's
# packages and starts them, saying so; elsewhere stops with one clear message.
set -euo pipefail

# host and port of a URL such as amqp://u:p@host:5672/vhost
url_host() { echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?\[?([^]:/]+)\]?(:([0-9]+))?.*#\2#'; }
url_port() { echo "$1" | sed -E 's#^[a-z]+://([^@/]*@)?\[?([^]:/]+)\]?(:([0-9]+))?.*#\4#'; }
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/domaeka}
MQ_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}
PG_HOST=$(url_host "$PG_URL"); PG_PORT=$(url_port "$PG_URL"); PG_PORT=${PG_PORT:-5432}
MQ_HOST=$(url_host "$MQ_URL"); MQ_PORT=$(url_port "$MQ_URL"); MQ_PORT=${MQ_PORT:-5672}

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
local_host() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }

debian_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

need() {
  echo "ERROR: $1 does not answer on $2 and cannot be installed here." >&2
  echo "Start it, for example: docker compose up -d rabbitmq postgres" >&2
  exit 1
}

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! answers "$PG_HOST" "$PG_PORT"; then
  if debian_root && local_host "$PG_HOST"; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      echo "PostgreSQL가 없어 설치합니다 / installing PostgreSQL from Debian packages"
      apt_install postgresql
    fi
    ver=$(ls /etc/postgresql | head -n1)
    echo "PostgreSQL을 시작합니다 / starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do answers "$PG_HOST" "$PG_PORT" && break; sleep 1; done
    answers "$PG_HOST" "$PG_PORT" || need PostgreSQL "$PG_HOST:$PG_PORT"
  else
    need PostgreSQL "$PG_HOST:$PG_PORT"
  fi
fi

if ! answers "$MQ_HOST" "$MQ_PORT"; then
  if debian_root && local_host "$MQ_HOST"; then
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
      echo "RabbitMQ가 없어 설치합니다 / installing RabbitMQ from Debian packages"
      apt_install rabbitmq-server
    fi
    echo "RabbitMQ를 시작합니다 / starting RabbitMQ"
    rabbitmq-server -detached || true
    for _ in $(seq 1 60); do answers "$MQ_HOST" "$MQ_PORT" && break; sleep 1; done
    answers "$MQ_HOST" "$MQ_PORT" || need RabbitMQ "$MQ_HOST:$MQ_PORT"
  else
    need RabbitMQ "$MQ_HOST:$MQ_PORT"
  fi
fi
echo "RabbitMQ and PostgreSQL answer."
