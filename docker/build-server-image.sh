#!/usr/bin/env bash
# Builds the server image from docker/Dockerfile.server: a jlink'd runtime of the host's Java 25 (only the
# modules the jar needs, per jdeps) plus server/target/vfu-server.jar and the image's scripts (entrypoint,
# AOT training, health probe), on BASE (default local/base:trixie, made by scripts/provision-docker.sh;
# debian:trixie where a registry is reachable). The build trains the AOT cache, so it takes a few seconds more.
# The tag is a hash of the jar, the Dockerfile, the scripts and the base, so an unchanged server is not
# rebuilt. Prints the image name on stdout.
# Usage: docker/build-server-image.sh [JAR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jar=${1:-$top/server/target/vfu-server.jar}
base=${BASE:-local/base:trixie}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -f "$jar" ] || { echo "build-server-image: no server jar at $jar (mvn -pl server -am package)" >&2; exit 1; }
base_id=$(docker image inspect -f '{{.Id}}' "$base")
scripts=(entrypoint.sh train-aot.sh healthcheck.sh)
tag=$(cat "$jar" "$top/docker/Dockerfile.server" "${scripts[@]/#/$top/docker/}" <(printf '%s\n' "$base_id") \
  | sha256sum | cut -c1-12)
image=local/vfu-server:$tag
if ! docker image inspect "$image" >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  modules=$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 "$jar")
  "$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --output "$ctx/runtime" >&2
  cp "$jar" "$ctx/vfu-server.jar"
  cp "$top/docker/Dockerfile.server" "$ctx/Dockerfile"
  cp -p "${scripts[@]/#/$top/docker/}" "$ctx/"
  # Rule: no network in the build; the image needs none, and the AOT training run's port stays private.
  docker build --network none --build-arg BASE="$base" -t "$image" "$ctx" >&2
  # Older server images (other jars) are dropped, so repeated builds do not fill the disk.
  docker images --format '{{.Repository}}:{{.Tag}}' local/vfu-server | grep -vxF "$image" | xargs -r docker rmi >&2 || true
fi
printf '%s\n' "$image"
