#!/usr/bin/env bash
# Makes this machine ready for the demo and the tests, idempotently:
#   node_modules (npm ci), a Docker engine with the containerd image store, docker buildx,
#   docker-registry, skopeo, tinyproxy (for the proxy tests), and a plain registry on 127.0.0.1:5000.
# Each part is skipped when already present, so on a host that has Docker (a CI VM) nothing is installed.
# Set BUILDX_STEP_SETUP_SKIP_NPM=1 to skip the npm part.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
state=${BUILDX_STEP_STATE:-/var/tmp/buildx-step}
mkdir -p "$state"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- npm
if [ "${BUILDX_STEP_SETUP_SKIP_NPM:-}" != "1" ]; then
  if [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    say "installing node modules (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  else
    say "node modules: present"
  fi
fi

# ---------------------------------------------------------------- packages
need_root() { [ "$(id -u)" = 0 ] || die "$1 is missing and installing it needs root; install it, or run this script as root"; }

have_buildx() { docker buildx version >/dev/null 2>&1; }

apt_private_download() {
  # Fetches .deb files from Debian 13 (trixie) with a private apt configuration, so that the system's
  # apt sources stay as they are. Debian 12 has no buildx and an old engine; trixie's install on 12.
  local dir=$1; shift
  local apt="$state/apt"
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$dir"
  echo "deb http://deb.debian.org/debian trixie main" >"$apt/sources.list.d/trixie.list"
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Architecture=$(dpkg --print-architecture)")
  if [ -z "$(ls "$apt/lists" 2>/dev/null | grep -v partial || true)" ]; then
    apt-get "${opts[@]}" -qq update || die "apt-get update of Debian trixie's package list failed"
  fi
  (cd "$dir" && apt-get "${opts[@]}" -qq download "$@") || die "apt-get download $* from Debian trixie failed"
}

apt_updated=""
apt_system_install() {
  if [ -z "$apt_updated" ]; then apt-get -qq update || die "apt-get update failed"; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

if ! command -v dockerd >/dev/null 2>&1 || ! have_buildx || ! command -v docker-registry >/dev/null 2>&1; then
  need_root "the Docker engine, buildx or docker-registry"
  debs="$state/debs"
  rm -rf "$debs"; mkdir -p "$debs"
  want=()
  command -v dockerd >/dev/null 2>&1 || want+=(docker.io containerd)
  have_buildx || want+=(docker-buildx)
  command -v docker-registry >/dev/null 2>&1 || want+=(docker-registry)
  say "installing ${want[*]} from Debian trixie"
  apt_private_download "$debs" "${want[@]}"
  if [ -z "$apt_updated" ]; then apt-get -qq update || die "apt-get update failed"; apt_updated=1; fi
  # runc and tini come from this system's own release: trixie's need a newer libc.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confold "$debs"/*.deb runc tini iptables >/dev/null \
    || die "installing ${want[*]} failed"
  # Debian's docker.io ships its own client in /usr/bin; a newer client earlier on PATH is fine.
else
  say "docker engine, buildx, docker-registry: present"
fi

missing=()
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
# Test images copy /bin/busybox into `FROM scratch`: it must be the static build (ldd fails on a static binary).
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || missing+=(busybox-static)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The proxy tests run a real HTTP proxy (one per test, started by the test itself; the package's own
# service is not used).
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
# The compressed-input tests write their fixtures with the real compressors; the producer tests also
# run umoci, and podman (its archives are skipped where podman cannot run).
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
command -v bzip2 >/dev/null 2>&1 || missing+=(bzip2)
command -v umoci >/dev/null 2>&1 || missing+=(umoci)
command -v podman >/dev/null 2>&1 || missing+=(podman)
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[*]}"
  say "installing ${missing[*]}"
  apt_system_install "${missing[@]}"
else
  say "skopeo, htpasswd, busybox-static, openssl, tinyproxy, zstd, xz, bzip2, umoci, podman: present"
fi

# ---------------------------------------------------------------- engine
if docker info >/dev/null 2>&1; then
  say "docker engine: running ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
else
  need_root "a running Docker engine"
  mkdir -p /etc/docker
  if [ ! -f /etc/docker/daemon.json ]; then
    echo '{"features": {"containerd-snapshotter": true}}' >/etc/docker/daemon.json
  fi
  say "starting dockerd (log: $state/dockerd.log)"
  # setsid: the engine must outlive this script and the shell that ran it.
  setsid dockerd >"$state/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 20 "$state/dockerd.log" >&2; die "dockerd did not answer within 30 s"; }
  say "docker engine: started ($(docker info --format '{{.ServerVersion}} {{.Driver}}'))"
fi
have_buildx || die "docker buildx does not answer: $(docker buildx version 2>&1 | tail -n 1)"

# ---------------------------------------------------------------- registry
if curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null; then
  say "registry on 127.0.0.1:5000: running"
else
  mkdir -p "$state/registry"
  cat >"$state/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $state/registry}
  delete: {enabled: true}
http: {addr: 127.0.0.1:5000}
YML
  say "starting docker-registry on 127.0.0.1:5000 (log: $state/registry.log)"
  setsid docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 </dev/null &
  for _ in $(seq 1 40); do curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && break; sleep 0.25; done
  curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ || { tail -n 20 "$state/registry.log" >&2; die "registry did not answer on 127.0.0.1:5000"; }
fi
say "ready"
