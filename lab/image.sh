#!/usr/bin/env bash
# Build (or find cached) lab host images from Debian packages.
#
#   lab/image.sh tag FLAVOR     print the image tag for FLAVOR's current inputs
#   lab/image.sh build FLAVOR   build it unless an image with that tag exists
#
# FLAVOR is a folder under lab/images/ (bookworm, sid-mysql). No container
# registry is needed: the root filesystem comes from debootstrap and is loaded
# with `docker import`. The tag is a hash of every input (package list, suite,
# overlay, scripts), so an image is rebuilt only when one of them changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${FOOBAR_LAB_MIRROR:-http://deb.debian.org/debian}
cache=${FOOBAR_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/foobar-lab}

flavor_dir() {
  local d="$here/images/$1"
  [[ -f "$d/packages" && -f "$d/suite" ]] || { echo "lab: unknown image flavor '$1' (have: $(ls "$here/images"))" >&2; exit 2; }
  echo "$d"
}

tag() {
  local d; d=$(flavor_dir "$1")
  local sum
  sum=$( (cd "$here" && find "images/$1" overlay image.sh customize.sh -type f -print0 | sort -z | xargs -0 sha256sum; echo "$mirror") | sha256sum | cut -c1-12)
  echo "foobar-lab/$1:$sum"
}

build() {
  local flavor=$1 d t suite pkgs services start
  d=$(flavor_dir "$flavor"); t=$(tag "$flavor")
  if docker image inspect "$t" >/dev/null 2>&1; then
    echo "lab: image $t is cached"
    return 0
  fi
  for tool in debootstrap docker; do
    command -v "$tool" >/dev/null || { echo "lab: $tool is missing (run tools/deps.sh)" >&2; exit 1; }
  done
  [[ $(id -u) == 0 ]] || { echo "lab: building an image needs root (debootstrap)" >&2; exit 1; }
  suite=$(cat "$d/suite")
  pkgs=$(grep -v '^#' "$d/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
  services=$(grep -v '^#' "$d/packages" | grep -xE 'haproxy|nginx|mariadb-server|mysql-server|keepalived|nftables' | sed 's/-server$//' | tr '\n' ' ')
  mkdir -p "$cache/debs"
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  chmod 0755 "$rootfs"  # it becomes the image's /: mktemp made it 0700
  trap 'rm -rf "${rootfs:-}"' EXIT
  start=$(date +%s)
  echo "lab: building $t: debootstrap $suite, then $(echo "$pkgs" | tr ',' ' ' | wc -w) packages (a few minutes the first time)..."
  # Stage 1: a minimal Debian. --cache-dir keeps its .debs between builds.
  if ! debootstrap --variant=minbase --cache-dir="$cache/debs" --include=apt-utils,ca-certificates,systemd,systemd-sysv \
      "$suite" "$rootfs" "$mirror" >"$cache/build-$flavor.log" 2>&1; then
    echo "lab: debootstrap failed; last lines of $cache/build-$flavor.log:" >&2
    tail -n 20 "$cache/build-$flavor.log" >&2
    exit 1
  fi
  # Stage 2: the image's packages through apt inside the new root, with
  # service start-up forbidden (some postinst scripts, MySQL's among them,
  # cannot start a server inside a chroot).
  printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
  chmod +x "$rootfs/usr/sbin/policy-rc.d"
  mount -t proc proc "$rootfs/proc"
  trap 'umount "${rootfs:-/nonexistent}/proc" 2>/dev/null || true; [[ -n "${FOOBAR_LAB_KEEP:-}" ]] || rm -rf "${rootfs:-}"' EXIT
  if ! chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C sh -c \
      'apt-get -q -o Acquire::Check-Valid-Until=false update && apt-get -q install -y --no-install-recommends "$@"' sh $(echo "$pkgs" | tr ',' ' ') \
      >>"$cache/build-$flavor.log" 2>&1; then
    echo "lab: installing packages failed; last lines of $cache/build-$flavor.log:" >&2
    tail -n 20 "$cache/build-$flavor.log" >&2
    exit 1
  fi
  umount "$rootfs/proc"
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  # The .debs of both stages are left in the root's apt archive folder;
  # customize.sh turns them into the image's offline apt repository.
  cp -a "$here/overlay/." "$rootfs/"
  cp "$here/customize.sh" "$rootfs/tmp/customize.sh"
  chroot "$rootfs" /bin/sh /tmp/customize.sh "$services"
  rm -f "$rootfs/tmp/customize.sh"
  echo "lab: importing $t into Docker..."
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'CMD ["/usr/local/sbin/lab-init"]' \
    --change 'ENV container=docker' \
    --change "LABEL foobar.lab.image=$flavor" \
    - "$t" >/dev/null
  echo "lab: built $t in $(( $(date +%s) - start ))s"
  # Older builds of this flavor are dead weight (about 700 MB each); those
  # still used by a container stay until the lab recreates it.
  docker images --format '{{.Repository}}:{{.Tag}}' "foobar-lab/$flavor" | grep -vx "$t" \
    | xargs -r docker rmi >/dev/null 2>&1 || true
}

case "${1:-}" in
  tag) tag "${2:?flavor}" ;;
  build) build "${2:?flavor}" ;;
  *) echo "usage: $0 tag|build FLAVOR" >&2; exit 2 ;;
esac
