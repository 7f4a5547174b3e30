#!/usr/bin/env bash
# Benchmark of compressed and piped input (issue 12): a 1 GiB image (random bytes, so gzip keeps it
# ~1 GiB) pushed by buildx-step and by skopeo, the closest peer, to the registry on 127.0.0.1:5000:
#   1. app.tar.gz:   buildx-step push app.tar.gz      vs  gunzip -c app.tar.gz > FILE; skopeo copy docker-archive:FILE
#   2. pipe:         docker save | buildx-step push -  vs  docker save > FILE; skopeo copy docker-archive:FILE
# skopeo 1.9.3 reads neither docker-archive:/dev/stdin from a pipe nor this app.tar.gz directly (both end
# in "archive/tar: invalid tar header"), so its closest equivalent is a plain file written first; that
# write is counted in its time, as buildx-step's own temporary copy is in buildx-step's.
# Each run goes to a new repository, so every blob is uploaded. Wall time and peak RSS of the pushing
# process come from GNU time. Needs scripts/setup.sh (engine, registry, skopeo) and `npm run build`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/var/tmp/buildx-step-bench-inputs}
size_mib=${BENCH_SIZE_MIB:-1024}
registry=127.0.0.1:5000
cli="$here/dist/bin/buildx-step.js"
image="buildx-step-bench/inputs:1"
run=$(date +%s)
mkdir -p "$work/ctx"

if [ ! -f "$work/app.tar.gz" ]; then
  head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/ctx/blob"
  printf 'FROM scratch\nCOPY blob /blob\n' >"$work/ctx/Dockerfile"
  docker buildx build -q --output "type=docker,dest=$work/app.tar" -t "$image" "$work/ctx" >/dev/null
  gzip -1 -c "$work/app.tar" >"$work/app.tar.gz"
fi
docker image inspect "$image" >/dev/null 2>&1 || docker load -q -i "$work/app.tar" >/dev/null
ls -l "$work/app.tar" "$work/app.tar.gz" | awk '{print "# " $5 " bytes  " $9}'

# `measure NAME COMMAND`: wall seconds and the peak RSS of the process GNU time runs (the last in a pipe).
measure() {
  local name=$1; shift
  runs=$((runs + 1))
  local log="$work/time-$runs.log"
  local start end
  start=$(date +%s.%N)
  bash -c "$*" 2>"$log.err" >/dev/null || { cat "$log.err" >&2; echo "$name failed" >&2; return 1; }
  end=$(date +%s.%N)
  local rss
  rss=$(grep -h "Maximum resident set size" "$log.err" | awk '{print $NF}' | tail -1)
  printf '%-48s %6.1f s  peak RSS %4d MB\n' "$name" "$(echo "$end - $start" | bc)" "$((rss / 1024))"
}
T="/usr/bin/time -v"
runs=0

measure "buildx-step push app.tar.gz" \
  "$T node $cli push --repo $registry/bench/gz-bxs-$run -t v1 --insecure $work/app.tar.gz"
measure "gunzip -c > FILE; skopeo copy docker-archive:FILE" \
  "gunzip -c $work/app.tar.gz > $work/plain.tar && $T skopeo copy -q --dest-tls-verify=false docker-archive:$work/plain.tar docker://$registry/bench/gz-skopeo-$run:v1; rm -f $work/plain.tar"
measure "docker save | buildx-step push -" \
  "docker save $image | $T node $cli push - --repo $registry/bench/pipe-bxs-$run -t v1 --insecure"
measure "docker save > FILE; skopeo copy docker-archive:FILE" \
  "docker save -o $work/saved.tar $image && $T skopeo copy -q --dest-tls-verify=false docker-archive:$work/saved.tar docker://$registry/bench/pipe-skopeo-$run:v1; rm -f $work/saved.tar"
measure "buildx-step push app.tar (plain, for reference)" \
  "$T node $cli push --repo $registry/bench/plain-bxs-$run -t v1 --insecure $work/app.tar"
