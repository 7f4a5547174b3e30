#!/usr/bin/env bash
# Build, scan, then push exactly what was scanned, from a plain shell script on a runner host.
#
#   REPO=registry.example.com/team/app TAG=1.4.2 ./build-scan-push.sh [CONTEXT]
#
# Needs: buildx-step on PATH (or BUILDX_STEP="node /path/to/dist/bin/buildx-step.js"), a Docker engine with
# buildx, and a scanner. REGISTRY_USERNAME/REGISTRY_PASSWORD log in to the registry of REPO when set (the
# password goes through the environment, never the command line).
set -euo pipefail

: "${REPO:?set REPO to the image repository, e.g. registry.example.com/team/app}"
TAG=${TAG:-latest}
CONTEXT=${1:-.}
BUILDX_STEP=${BUILDX_STEP:-buildx-step}
# The scanner gets the tarball's path as its last argument and must exit non-zero to stop the push.
SCANNER=${SCANNER:-trivy image --exit-code 1 --severity HIGH,CRITICAL --input}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="$work/image.tar"

if [ -n "${REGISTRY_PASSWORD:-}" ]; then
  export PLUGIN_REGISTRY=${REPO%%/*} PLUGIN_USERNAME=${REGISTRY_USERNAME:-} PLUGIN_PASSWORD=$REGISTRY_PASSWORD
fi

# 1. Build only: the image goes to a tarball (and, on the engine's own builder, into the engine too).
built=$($BUILDX_STEP build "$CONTEXT" --repo "$REPO" --tag "$TAG" --dry-run --tar "$tarball" --json)
digest=$(printf '%s' "$built" | sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p')
echo "built $REPO:$TAG at $digest" >&2

# 2. Scan the tarball: the very bytes that will be pushed.
$BUILDX_STEP inspect "$tarball" >&2
$SCANNER "$tarball"

# 3. Push exactly that tarball, and refuse anything but the digest that was built and scanned.
$BUILDX_STEP push "$tarball" --repo "$REPO" --tag "$TAG" --expected-digest "$digest" --json
