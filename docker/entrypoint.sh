#!/bin/bash
# The server image's entrypoint: the one place that holds the JVM options, for the server and for the AOT
# training run at image build (train-aot.sh), so the cache is made under the options it is used with.
#   - The heap is a share of the container's memory limit (the JVM reads the cgroup limit), never a fixed -Xmx:
#     the same image fits a 256 MiB and a 4 GiB container. Half, because the rest of the limit is needed
#     outside the heap: metaspace, code cache, thread stacks, the metrics server and the guest-memory pages the
#     server is first to touch when it DMAs into a shared memfd (the kernel charges those to this container).
#   - The start-up AOT cache (JEP 483/514) made by train-aot.sh is used unless VFU_AOT=off; a cache the JVM
#     cannot use is a warning on stderr, never a failed start.
#   - JVM output goes to stderr: stdout carries only the server's own lines (the first is the ready line). That
#     is warnings (-Xlog) and everything the VM prints itself, such as a SIGQUIT thread dump (`docker kill -s
#     QUIT`), which HotSpot writes to stdout unless told otherwise (-XX:+DisplayVMOutputToStderr).
# exec: java is PID 1, so `docker stop`'s SIGTERM reaches the server, which removes its sockets.
set -euo pipefail
cache=/opt/vfu/vfu-server.aot
opts=(-XX:+UseSerialGC -XX:MaxRAMPercentage=50 -Xlog:disable -Xlog:all=warning:stderr
      -XX:+DisplayVMOutputToStderr --enable-native-access=ALL-UNNAMED)
if [ -n "${VFU_AOT_TRAIN_OUTPUT:-}" ]; then
  opts+=(-XX:AOTCacheOutput="$VFU_AOT_TRAIN_OUTPUT")
elif [ "${VFU_AOT:-on}" != off ]; then
  opts+=(-XX:AOTCache="$cache")
fi
exec /opt/vfu/runtime/bin/java "${opts[@]}" -jar /opt/vfu/vfu-server.jar "$@"
