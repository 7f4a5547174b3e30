#!/usr/bin/env bash
# Builds the plugin image (Dockerfile) for this machine's architecture into the local engine, idempotently:
# makes the base image when it cannot be pulled (scripts/base-image.sh), and the single executable when it is
# missing or older than the bundle (scripts/build-sea.sh). Expects `npm run build` to have run.
#   scripts/build-image.sh [TAG]      default buildx-step:VERSION (package.json), also tagged buildx-step:latest
# Prints the image name.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$here/package.json').version")
image=${1:-buildx-step:$version}
say() { printf 'build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }

arch=$(docker version --format '{{.Server.Arch}}' 2>/dev/null) || die "the Docker engine does not answer"
base=$(sed -n 's/^ARG BASE_IMAGE=//p' "$here/Dockerfile")
bash "$here/scripts/base-image.sh" "$base" >&2
sea="$here/dist/sea/buildx-step-linux-$arch"
if [ ! -x "$sea" ] || [ "$here/dist/sea/buildx-step.cjs" -nt "$sea" ]; then
  bash "$here/scripts/build-sea.sh" "$arch" >&2
fi
say "building $image for linux/$arch"
# The default builder (the engine's own BuildKit) sees the locally made base image; --load keeps the
# result in the engine for `docker run` and `docker save`.
docker buildx build --quiet --platform "linux/$arch" --build-arg "VERSION=$version" \
  -t "$image" -t "${image%:*}:latest" --load "$here" >/dev/null || die "docker buildx build failed"
say "$image: $(docker image inspect --format '{{.Size}}' "$image") bytes"
echo "$image"
