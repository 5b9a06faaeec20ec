#!/usr/bin/env bash
# Makes sure RabbitMQ and PostgreSQL answer on this machine. Where they do not
# and we are root on Debian/Ubuntu, installs them from the distribution's
# packages and starts them, saying so; elsewhere stops with one clear message.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

debian_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

need() {
  echo "ERROR: $1 does not answer on 127.0.0.1:$2 and cannot be installed here." >&2
  echo "Start it, for example: docker compose up -d rabbitmq postgres" >&2
  exit 1
}

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! answers 5432; then
  if debian_root; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      echo "PostgreSQL가 없어 설치합니다 / installing PostgreSQL from Debian packages"
      apt_install postgresql
    fi
    ver=$(ls /etc/postgresql | head -n1)
    echo "PostgreSQL을 시작합니다 / starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do answers 5432 && break; sleep 1; done
    answers 5432 || need PostgreSQL 5432
  else
    need PostgreSQL 5432
  fi
fi

if ! answers 5672; then
  if debian_root; then
    if ! command -v rabbitmq-server >/dev/null 2>&1; then
      echo "RabbitMQ가 없어 설치합니다 / installing RabbitMQ from Debian packages"
      apt_install rabbitmq-server
    fi
    echo "RabbitMQ를 시작합니다 / starting RabbitMQ"
    rabbitmq-server -detached || true
    for _ in $(seq 1 60); do answers 5672 && break; sleep 1; done
    answers 5672 || need RabbitMQ 5672
  else
    need RabbitMQ 5672
  fi
fi
echo "RabbitMQ and PostgreSQL answer."
