#!/usr/bin/env bash
# Makes sure the browser tests have what they need: Debian's Chromium at
# /usr/bin/chromium (driven by playwright-core; no browser is ever
# downloaded) and Korean and emoji fonts, without which the screenshots the
# e2e tests keep show empty boxes. Where something is missing and we are
# root on Debian/Ubuntu, installs it from the distribution's packages (the
# apt sources already configured), saying so; elsewhere stops with one clear
# message. Idempotent and quiet when all is there.
set -euo pipefail

say() { echo "$*" >&2; }
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi 'nanum' || missing+=(fonts-nanum)
fc-list 2>/dev/null | grep -qi 'emoji' || missing+=(fonts-noto-color-emoji)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "ERROR: 브라우저 테스트에 필요한 패키지가 없습니다 / missing for the browser tests: ${missing[*]}"
  say "       sudo apt-get install -y ${missing[*]}"
  exit 1
fi
say "[browser] 설치합니다 / installing ${missing[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}
[ -x /usr/bin/chromium ] || { say "ERROR: /usr/bin/chromium is still missing"; exit 1; }
say "[browser] $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
