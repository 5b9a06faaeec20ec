#!/bin/sh
# The rabbitmq service's entrypoint (compose.yaml): the broker's topology (broker/definitions.json,
# mounted as topology.json) plus the platform's user from the env file, written as one definitions
# file that the node loads at every boot (RabbitMQ makes no guest user when it boots from
# definitions), then the image's own entrypoint. Works with the official image and the local one.
set -eu
: "${RABBITMQ_USER:?}" "${RABBITMQ_PASSWORD:?}"
# Pasted into JSON unescaped: letters, digits, . _ - only.
case "$RABBITMQ_USER$RABBITMQ_PASSWORD" in
  *[!A-Za-z0-9._-]*) echo "RABBITMQ_USER / RABBITMQ_PASSWORD: letters, digits, '.', '_' and '-' only" >&2; exit 1 ;;
esac
here=/etc/rabbitmq/domaeka
defs=/etc/rabbitmq/domaeka-definitions.json
{
  printf '{"users":[{"name":"%s","password":"%s","tags":"administrator"}],' "$RABBITMQ_USER" "$RABBITMQ_PASSWORD"
  printf '"vhosts":[{"name":"/"}],'
  printf '"permissions":[{"user":"%s","vhost":"/","configure":".*","write":".*","read":".*"}],' "$RABBITMQ_USER"
  # topology.json is one JSON object: its members follow ours.
  sed '1s/^[[:space:]]*{//' "$here/topology.json"
} >"$defs"
chmod 0640 "$defs"
chown rabbitmq:rabbitmq "$defs" 2>/dev/null || true
printf 'load_definitions = %s\n' "$defs" >/etc/rabbitmq/conf.d/20-domaeka.conf
chmod 0644 /etc/rabbitmq/conf.d/20-domaeka.conf
exec docker-entrypoint.sh rabbitmq-server
