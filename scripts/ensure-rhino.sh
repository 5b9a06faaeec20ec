#!/usr/bin/env bash
# Makes sure the bridge script's test has Debian's Rhino (`rhino`, on the
# machine's Java): bridge-script/test runs the MessengerBot R script in it.
# Where it is missing and we are root on Debian/Ubuntu, installs the
# distribution's package from the apt sources already configured, saying so;
# elsewhere stops with one clear message. Idempotent and quiet when present.
# `npm start` does not need it.
set -euo pipefail

say() { echo "$*" >&2; }
command -v rhino >/dev/null 2>&1 && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "ERROR: 브리지 스크립트 테스트에 rhino 가 필요합니다 / the bridge script test needs rhino"
  say "       sudo apt-get install -y rhino"
  exit 1
fi
say "[rhino] 설치합니다 / installing rhino (Debian package)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends rhino >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends rhino >/dev/null
}
command -v rhino >/dev/null 2>&1 || { say "ERROR: rhino is still missing"; exit 1; }
say "[rhino] $(dpkg-query -W -f='${Version}' rhino 2>/dev/null || echo installed)"
