#!/usr/bin/env bash
# Builds crane (go-containerregistry's CLI), the baseline of `npm run bench:startup` and `bench:push`.
# crane is not packaged as a binary in Debian, but its source is (golang-github-google-go-containerregistry-dev),
# with every Go library it needs as -dev packages: they are unpacked (dpkg -x, nothing installed) beside
# Debian trixie's Go toolchain and built in GOPATH mode. About 5 minutes the first time; afterwards the
# binary is reused. Nothing of this goes into the repository.
#   scripts/build-crane.sh        prints the path of the crane binary
set -euo pipefail

state=${BUILDX_STEP_STATE:-/var/tmp/buildx-step}
root="$state/crane"
bin="$root/crane"
say() { printf 'build-crane: %s\n' "$*" >&2; }
die() { printf 'build-crane: error: %s\n' "$*" >&2; exit 1; }

if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

# The same private apt configuration as scripts/setup.sh: the system's apt sources stay as they are.
apt="$state/apt"
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
echo "deb http://deb.debian.org/debian trixie main" >"$apt/sources.list.d/trixie.list"
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::Status=/dev/null"
  -o "APT::Architecture=$(dpkg --print-architecture)")
if [ -z "$(ls "$apt/lists" 2>/dev/null | grep -v partial || true)" ]; then
  apt-get "${opts[@]}" -qq update || die "apt-get update of Debian trixie's package list failed"
fi

# The source and, recursively, what it depends on; only Go source (-dev) packages and the toolchain matter.
# Dir::State::Status=/dev/null: resolve as on an empty system, so nothing installed here is left out.
mapfile -t deps < <(apt-get "${opts[@]}" -qq -s install --no-install-recommends \
  golang-github-google-go-containerregistry-dev golang-go 2>/dev/null |
  awk '/^Inst /{print $2}' | grep -E '^(golang-|golang$)')
[ ${#deps[@]} -gt 0 ] || die "could not resolve the packages crane's source needs"

debs="$root/debs"
tree="$root/tree"
rm -rf "$debs" "$tree"
mkdir -p "$debs" "$tree"
say "downloading ${#deps[@]} packages (Go toolchain and crane's Go sources) from Debian trixie"
(cd "$debs" && apt-get "${opts[@]}" -qq download "${deps[@]}") || die "apt-get download failed"
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$tree"; done

goroot=$(ls -d "$tree"/usr/lib/go-1.* | sort -V | tail -n 1)
[ -x "$goroot/bin/go" ] || die "no Go toolchain in $tree/usr/lib"
say "building crane with $("$goroot/bin/go" version 2>/dev/null || echo go) in GOPATH mode"
# Debian's -dev packages install sources under /usr/share/gocode/src, which is a GOPATH.
GOROOT="$goroot" GOPATH="$tree/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="$root/gocache" \
  CGO_ENABLED=0 GOTOOLCHAIN=local \
  "$goroot/bin/go" build -o "$bin" github.com/google/go-containerregistry/cmd/crane ||
  die "go build of crane failed"
rm -rf "$debs"
echo "$bin"
