#!/bin/sh
# The official image's contract, reduced to what the compose file uses: start as root, own the
# data directory, run the server as `rabbitmq` (Debian's wrapper scripts switch user themselves).
set -eu
if [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
fi
exec "$@"
