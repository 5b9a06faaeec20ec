#!/usr/bin/env bash
# Builds the sandbox image domaeka-sandbox:<version> (+ :latest).
#
#   sandbox-image/build.sh [--force] [--no-pull] [--print-version]
#
# <version> is a hash of the build inputs (Dockerfile, .dockerignore and the
# runtime without its tests; recipe in README.md), also stored as the label
# org.domaeka.sandbox.version, so the runner can tell when to rebuild. An
# image with the current version is never rebuilt unless --force is given.
#
# The base debian:bookworm-slim is used when present, pulled when a registry
# answers, and otherwise made here: debootstrap --variant=minbase from the
# Debian mirror of this machine's apt sources (read at run time; or
# KB_DEBIAN_MIRROR), trimmed, then `docker import`ed under that name, so the
# one Dockerfile serves everywhere.
#
# Env: KB_SANDBOX_IMAGE (default domaeka-sandbox), KB_DEBIAN_MIRROR,
#      KB_SANDBOX_NO_PULL=1 (same as --no-pull), KB_PULL_TIMEOUT (s, default 30).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
IMAGE=${KB_SANDBOX_IMAGE:-domaeka-sandbox}
BASE=debian:bookworm-slim
SUITE=bookworm
LABEL=org.domaeka.sandbox.version

force=0
nocache=""
pull=1
[ "${KB_SANDBOX_NO_PULL:-}" = 1 ] && pull=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1; nocache=--no-cache ;;
    --no-pull) pull=0 ;;
    --print-version) print_version=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# The version: sha256 over `sha256sum` lines of the inputs in byte order.
version() {
  (cd "$HERE" && find Dockerfile .dockerignore runtime -type f \
      ! -path 'runtime/tests/*' ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}
VERSION=$(version)
if [ "${print_version:-0}" = 1 ]; then echo "$VERSION"; exit 0; fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
say() { echo "[sandbox-image] $*"; }
T0=$(now)

"$ROOT/scripts/ensure-docker.sh"

up_to_date() {
  local id
  id=$(docker images -q --filter "label=$LABEL=$VERSION" "$IMAGE" 2>/dev/null | head -n1)
  [ -n "$id" ] || return 1
  docker image inspect "$IMAGE:$VERSION" >/dev/null 2>&1 || docker tag "$id" "$IMAGE:$VERSION"
  docker tag "$IMAGE:$VERSION" "$IMAGE:latest"
}
if [ $force = 0 ] && up_to_date; then
  say "이미 최신입니다 / up to date: $IMAGE:$VERSION"
  exit 0
fi

# One build at a time on this machine (npm start and a test run may race).
exec 9>"${TMPDIR:-/tmp}/kb-sandbox-build.lock"
if ! flock -n 9; then
  say "다른 빌드를 기다립니다 / waiting for another build of the sandbox image"
  flock 9
  if [ $force = 0 ] && up_to_date; then
    say "이미 최신입니다 / up to date: $IMAGE:$VERSION"
    exit 0
  fi
fi

# --- the base image ---------------------------------------------------------

# "uri suite" for every enabled deb source, from one-line .list files and
# deb822 .sources files.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                        if (i + 1 <= NF) print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
                              for (u in uris) for (s in suites) print uris[u], suites[s];
                            types = ""; enabled = ""; split("", uris); split("", suites) }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { line = $0; key = tolower(line); sub(/:.*/, "", key); val = line; sub(/^[^:]*:[ \t]*/, "", val)
           if (key == "types") types = val
           else if (key == "enabled") enabled = tolower(val)
           else if (key == "uris") { n = split(val, a, /[ \t]+/); for (k = 1; k <= n; k++) if (a[k] != "") uris[a[k]] = a[k] }
           else if (key == "suites") { n = split(val, a, /[ \t]+/); for (k = 1; k <= n; k++) if (a[k] != "") suites[a[k]] = a[k] } }
         END { flush() }' "$f"
  done
}

# The Debian mirror to debootstrap from: the source that serves bookworm, or
# failing that any Debian archive source (same mirror, other suite).
debian_mirror() {
  if [ -n "${KB_DEBIAN_MIRROR:-}" ]; then echo "$KB_DEBIAN_MIRROR"; return; fi
  local src
  src=$(apt_sources)
  echo "$src" | awk -v s="$SUITE" '$2 == s { print $1; exit }' | grep . && return
  echo "$src" | awk '$2 !~ /-(security|updates|backports)$/ && $1 ~ /\/debian\/?$/ { print $1; exit }' | grep . && return
  return 1
}

apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
    [ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }
    apt-get install -y -qq "$@" >/dev/null
  fi
}

rootfs=""
cleanup() {
  [ -n "$rootfs" ] && [ -d "$rootfs" ] || return 0
  # debootstrap mounts /proc and /sys inside the target; never rm through them.
  awk -v r="$rootfs/" 'index($2 "/", r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$rootfs"
}
trap cleanup EXIT

make_base() {
  local t mirror security updates
  t=$(now)
  if [ "$(id -u)" != 0 ]; then
    echo "ERROR: $BASE is missing, cannot be pulled, and making it with debootstrap needs root." >&2
    echo "Run: sudo sandbox-image/build.sh   (or: docker pull $BASE where a registry answers)" >&2
    exit 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1 || [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    command -v apt-get >/dev/null 2>&1 || {
      echo "ERROR: debootstrap is missing and there is no apt-get to install it." >&2
      echo "Install debootstrap and debian-archive-keyring, or: docker pull $BASE" >&2
      exit 1
    }
    say "debootstrap를 설치합니다 / installing debootstrap"
    apt_install debootstrap debian-archive-keyring
  fi
  mirror=$(debian_mirror) || {
    echo "ERROR: no Debian mirror in this machine's apt sources (/etc/apt/sources.list*)." >&2
    echo "Set one, for example: KB_DEBIAN_MIRROR=<your Debian mirror URL> sandbox-image/build.sh" >&2
    exit 1
  }
  security=$(apt_sources | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')
  updates=$(apt_sources | awk -v s="$SUITE-updates" '$2 == s { print $1; exit }')

  rootfs=$(mktemp -d /var/tmp/kb-bookworm.XXXXXX)
  say "$BASE 이미지를 만듭니다 / making $BASE: debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase --components=main \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
      echo "ERROR: debootstrap failed; last lines of $rootfs.log:" >&2; tail -n 20 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs.log"

  # apt sources of the image: this machine's Debian mirrors (deb822).
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$SUITE" "${updates:+ $SUITE-updates}"
    [ -n "$security" ] && printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$security" "$SUITE"
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
  # Mirrors that serve a snapshot need what this machine's apt needs.
  if [ "$(apt-config dump Acquire::Check-Valid-Until 2>/dev/null | awk '{print $2}')" = '"false";' ]; then
    echo 'Acquire::Check-Valid-Until "false";' >"$rootfs/etc/apt/apt.conf.d/99kb-check-valid-until"
  fi
  # What the official slim image does: no docs, man pages or locales on
  # later installs, no apt caches or translations.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"

  # Trim.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
         "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
         "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  : >"$rootfs/etc/machine-id" 2>/dev/null || true

  say "docker import $BASE"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' \
    -c 'LABEL org.domaeka.base=debootstrap' \
    -m "debootstrap --variant=minbase $SUITE (sandbox-image/build.sh)" - "$BASE" >/dev/null
  cleanup; rootfs=""
  say "$BASE 준비됨 / ready in $(since "$t") ($(docker image inspect -f '{{.Size}}' "$BASE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  pulled=0
  if [ $pull = 1 ]; then
    say "docker pull $BASE (최대 ${KB_PULL_TIMEOUT:-30}초 / at most ${KB_PULL_TIMEOUT:-30} s)"
    if timeout "${KB_PULL_TIMEOUT:-30}" docker pull -q "$BASE" >/dev/null 2>&1; then
      pulled=1
    else
      say "받을 수 없어 직접 만듭니다 / no registry answers; making the base here"
    fi
  fi
  [ $pulled = 1 ] || make_base
fi

# --- the image ----------------------------------------------------------------
say "$IMAGE:$VERSION 이미지를 빌드합니다 / building $IMAGE:$VERSION"
t=$(now)
log=$(mktemp /tmp/kb-sandbox-build.XXXXXX)
# The classic builder: same behaviour with every Docker CLI (no buildx needed).
if ! DOCKER_BUILDKIT=0 docker build $nocache --network host --build-arg "KB_SANDBOX_VERSION=$VERSION" \
    -t "$IMAGE:$VERSION" -t "$IMAGE:latest" "$HERE" >"$log" 2>&1; then
  echo "ERROR: docker build failed; last lines:" >&2
  tail -n 30 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
# Older versions go (an image a container still uses stays: docker rmi refuses it).
docker images --filter "label=$LABEL" --format '{{.Repository}}:{{.Tag}}' "$IMAGE" | while read -r ref; do
  case "$ref" in "$IMAGE:$VERSION"|"$IMAGE:latest"|*"<none>"*) continue ;; esac
  docker rmi "$ref" >/dev/null 2>&1 || true
done
docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
size=$(docker image inspect -f '{{.Size}}' "$IMAGE:$VERSION" | awk '{printf "%.0f MB", $1/1e6}')
say "빌드 완료 / built $IMAGE:$VERSION (+ :latest), $size, build $(since "$t"), total $(since "$T0")"
