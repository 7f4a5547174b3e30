#!/usr/bin/env bash
# npm run release: makes, from a clean checkout, everything a release of the version in package.json ships,
# in release/VERSION/ (publishes nothing):
#   buildx-step-VERSION.tgz                      the npm package (npm pack): npm install -g it
#   buildx-step-linux-ARCH                       the single executable, for hosts without Node
#   buildx-step-VERSION-image-linux-ARCH.tar     the plugin image (docker save): docker load -i it
#   SHA256SUMS                                   sha256sum -c SHA256SUMS checks them
# and gives CHANGELOG.md the version's section (the [Unreleased] notes move under "## [VERSION] - DATE"),
# which is left to commit. Each artifact is checked before it is counted: the package installs with
# `npm install -g` into a scratch prefix (no dependencies, no install scripts) and runs; the executable and
# the image print the version.
#   scripts/release.sh               this machine's architecture
#   RELEASE_ARCHES="amd64 arm64" scripts/release.sh   also an arm64 executable (its image needs an arm64 engine)
# RELEASE_ALLOW_DIRTY=1 skips the clean-checkout check (for trying the script).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
say() { printf 'release: %s\n' "$*" >&2; }
die() { printf 'release: error: %s\n' "$*" >&2; exit 1; }

if [ "${RELEASE_ALLOW_DIRTY:-}" != "1" ] && [ -n "$(git status --porcelain --untracked-files=normal)" ]; then
  die "the checkout has changes (git status): release from a clean checkout, or set RELEASE_ALLOW_DIRTY=1 to try"
fi
version=$(node -p "require('./package.json').version")
host=$(docker version --format '{{.Server.Arch}}' 2>/dev/null) || die "the Docker engine does not answer (scripts/setup.sh starts one)"
read -r -a arches <<<"${RELEASE_ARCHES:-$host}"
out="$here/release/$version"
rm -rf "$out"
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

say "buildx-step $version: installing dependencies and building"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent build >/dev/null

say "npm package"
# Built above: no second build by `prepare`.
npm pack --silent --ignore-scripts --pack-destination "$out" >/dev/null
tgz="$out/buildx-step-$version.tgz"
[ -f "$tgz" ] || die "npm pack wrote no $tgz"
# Installs as a user would, offline: it must need nothing from the registry and run no install script.
npm install -g --prefix "$scratch/prefix" --offline --no-audit --no-fund --loglevel=error "$tgz" >/dev/null ||
  die "npm install -g of $tgz failed"
[ "$("$scratch/prefix/bin/buildx-step" --version)" = "$version" ] || die "the installed package does not print $version"

say "single executable for ${arches[*]}"
bash scripts/build-sea.sh "${arches[@]}"
for arch in "${arches[@]}"; do cp "dist/sea/buildx-step-linux-$arch" "$out/"; done

say "plugin image for linux/$host"
image=$(bash scripts/build-image.sh "buildx-step:$version")
[ "$(docker run --rm "$image" --version)" = "$version" ] || die "$image does not print $version"
docker save -o "$out/buildx-step-$version-image-linux-$host.tar" "$image"

(cd "$out" && sha256sum -- * >SHA256SUMS)

if grep -q "^## \[$version\]" CHANGELOG.md; then
  say "CHANGELOG.md already has a section for $version"
else
  # The notes gathered under [Unreleased] become the version's; a new empty [Unreleased] stays on top.
  node -e '
    const fs = require("fs");
    const [version, date] = process.argv.slice(1);
    const text = fs.readFileSync("CHANGELOG.md", "utf8");
    if (!text.includes("\n## [Unreleased]\n")) throw new Error("CHANGELOG.md has no \"## [Unreleased]\" section");
    fs.writeFileSync("CHANGELOG.md", text.replace("\n## [Unreleased]\n", `\n## [Unreleased]\n\n## [${version}] - ${date}\n`));
  ' "$version" "$(date -u +%Y-%m-%d)"
  say "CHANGELOG.md: the [Unreleased] notes are now the $version section (commit it with the release tag)"
fi
say "release/$version:"
(cd "$out" && ls -l --block-size=K -- * | awk '{print "  " $5 "  " $9}' >&2)
