# The plugin image: buildx-step as a Drone/Harness plugin, run as they run plugins
#   docker run --rm -e PLUGIN_REPO=... -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD":/drone/src -w /drone/src buildx-step
# It holds the single executable, the docker CLI and its buildx plugin, the shared libraries those three
# load, and the CA bundle: nothing else (no shell, no package manager). The engine is the host's (the socket)
# or the pipeline's own (DOCKER_HOST).
# Build it with `npm run build:image` (scripts/build-image.sh): the executable comes from the build context,
# dist/sea/buildx-step-linux-$TARGETARCH, which `npm run build:sea` makes.
ARG BASE_IMAGE=debian:trixie-slim

FROM ${BASE_IMAGE} AS parts
ARG TARGETARCH
# Debian 13's docker-cli and docker-buildx (26.1 and 0.13): the same the tests run against.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-cli docker-buildx ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY dist/sea/buildx-step-linux-${TARGETARCH} /usr/local/bin/buildx-step
COPY dist/sea/THIRD-PARTY-LICENSES.txt /usr/share/doc/buildx-step/THIRD-PARTY-LICENSES.txt
# The final image's files, at their paths: the programs, every library they load (as ldd resolves it, so
# the same lines work on any architecture), the CA bundle, the licences, and an empty /tmp and $HOME.
RUN set -eu; \
    mkdir -p /rootfs/tmp /rootfs/root; chmod 1777 /rootfs/tmp; \
    for program in /usr/local/bin/buildx-step /usr/bin/docker /usr/libexec/docker/cli-plugins/docker-buildx; do \
      cp --parents "$program" /rootfs; \
      for lib in $(ldd "$program" | grep -o '/[^ ]*'); do cp -L --parents "$lib" /rootfs; done; \
    done; \
    cp --parents /etc/ssl/certs/ca-certificates.crt /usr/share/doc/buildx-step/THIRD-PARTY-LICENSES.txt \
      /usr/share/doc/docker-cli/copyright /usr/share/doc/docker-buildx/copyright /rootfs

FROM scratch
ARG VERSION=dev
COPY --from=parts /rootfs/ /
# HOME: the docker CLI keeps its configuration and buildx its builders under it.
ENV PATH=/usr/local/bin:/usr/bin HOME=/root SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /drone/src
LABEL org.opencontainers.image.title="buildx-step" \
      org.opencontainers.image.description="The buildx-backed Build and Push step as a Drone/Harness plugin" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# No command: plugin mode, settings from PLUGIN_* variables. Arguments run a command (build, push, inspect, config).
ENTRYPOINT ["/usr/local/bin/buildx-step"]
