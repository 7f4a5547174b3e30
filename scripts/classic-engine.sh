#!/usr/bin/env bash
# Starts (idempotently) a second Docker engine beside the first, with the classic image store (no
# containerd snapshotter), and prints its DOCKER_HOST. Users run both stores; the tests need both.
#   scripts/classic-engine.sh          start if needed, print DOCKER_HOST=unix://...
#   scripts/classic-engine.sh stop     stop it
# It has its own data root, exec root, pid file, socket, config file and bridge, so it shares nothing with
# the first engine (a --bridge=none engine would delete the first engine's docker0).
set -euo pipefail

name=buildx-step-classic
root=${BUILDX_STEP_CLASSIC_ROOT:-/var/lib/$name}
run=/var/run/$name
sock=$run/docker.sock
host=unix://$sock
bridge=bxsclassic0
# A private range the first engine (172.17.0.0/16 by default) does not use.
bridge_cidr=${BUILDX_STEP_CLASSIC_BRIDGE_CIDR:-10.213.77.1/24}
log=/var/tmp/buildx-step/classic-dockerd.log

say() { printf 'classic-engine: %s\n' "$*" >&2; }
die() { printf 'classic-engine: error: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = "stop" ]; then
  if [ -f "$run/dockerd.pid" ] && kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null; then
    kill "$(cat "$run/dockerd.pid")"
    for _ in $(seq 1 40); do kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null || break; sleep 0.25; done
    say "stopped"
  fi
  exit 0
fi

if DOCKER_HOST=$host docker info >/dev/null 2>&1; then
  echo "DOCKER_HOST=$host"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "starting a second engine needs root"
command -v dockerd >/dev/null 2>&1 || die "dockerd is missing: run scripts/setup.sh first"
mkdir -p "$root" "$run" "$(dirname "$log")"
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge || die "cannot create bridge $bridge"
  ip addr add "$bridge_cidr" dev "$bridge"
fi
ip link set "$bridge" up
cat >"$run/daemon.json" <<JSON
{"features": {"containerd-snapshotter": false}, "storage-driver": "overlay2"}
JSON
say "starting dockerd with the classic image store on $host (log: $log)"
setsid dockerd \
  --config-file "$run/daemon.json" \
  --data-root "$root" \
  --exec-root "$run/exec" \
  --pidfile "$run/dockerd.pid" \
  --host "$host" \
  --bridge "$bridge" \
  >"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do DOCKER_HOST=$host docker info >/dev/null 2>&1 && break; sleep 0.5; done
DOCKER_HOST=$host docker info >/dev/null 2>&1 || { tail -n 20 "$log" >&2; die "the classic engine did not answer within 30 s"; }
driver=$(DOCKER_HOST=$host docker info --format '{{.Driver}}')
[ "$driver" = overlay2 ] || say "warning: storage driver is $driver, expected overlay2"
echo "DOCKER_HOST=$host"
