#!/usr/bin/env bash
# Makes the base image the Dockerfile starts from (debian:trixie-slim) available to the local engine, idempotently:
#   1. already in the engine: nothing to do;
#   2. `docker pull` works (a user's machine): pulled;
#   3. otherwise (these machines reach no registry): built from Debian's own packages with
#      `debootstrap --variant=minbase trixie` and `docker import`ed under the same name, so the same
#      Dockerfile builds here and for users. About 25 s; needs root and Debian's package archive.
#   scripts/base-image.sh [IMAGE]      (default debian:trixie-slim)
set -euo pipefail

image=${1:-debian:trixie-slim}
state=${BUILDX_STEP_STATE:-/var/tmp/buildx-step}
say() { printf 'base-image: %s\n' "$*" >&2; }
die() { printf 'base-image: error: %s\n' "$*" >&2; exit 1; }

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image: present"
  exit 0
fi
# A pull that cannot reach the registry fails fast here (no route), but never wait long for it.
if timeout 20 docker pull -q "$image" >/dev/null 2>&1; then
  say "$image: pulled"
  exit 0
fi

case "$image" in
  debian:*-slim) suite=${image#debian:}; suite=${suite%-slim} ;;
  *) die "$image cannot be pulled, and only debian:SUITE-slim can be made locally" ;;
esac
[ "$(id -u)" = 0 ] || die "$image cannot be pulled; making it with debootstrap needs root"
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  apt-get -qq update >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    die "apt-get install debootstrap failed"
fi

root="$state/rootfs-$suite"
rm -rf "$root"
mkdir -p "$state"
say "$image cannot be pulled: making it with debootstrap --variant=minbase $suite (log: $state/debootstrap.log)"
debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian >"$state/debootstrap.log" 2>&1 ||
  { tail -n 20 "$state/debootstrap.log" >&2; die "debootstrap $suite failed"; }
# What the official slim images leave out too: package lists, apt's caches, man pages and documentation.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/man/* "$root"/usr/share/doc/* "$root"/var/log/*.log
# docker import keeps no configuration: give it the PATH and command the official image has.
tar -C "$root" --numeric-owner -c . |
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$image" >/dev/null || die "docker import of $root failed"
rm -rf "$root"
say "$image: made ($(docker image inspect --format '{{.Size}}' "$image") bytes)"
