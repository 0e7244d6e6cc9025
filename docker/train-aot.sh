#!/bin/bash
# Trains the server image's start-up AOT cache during `docker build` (JEP 483/514): the server runs once on a
# private socket through the entrypoint (same JVM options as every later start), answers one /healthz and one
# /metrics request (the classes a running server loads besides start-up), and is stopped with SIGTERM once it
# is ready; the JVM writes the cache as it exits. The build runs with --network none, so the metrics port
# cannot collide with anything.
set -euo pipefail
out=${1:?usage: train-aot.sh CACHE}
work=$(mktemp -d)
VFU_AOT_TRAIN_OUTPUT="$out" /opt/vfu/entrypoint.sh --socket "$work/train.sock" --metrics-port 9464 \
  --metrics-host 127.0.0.1 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do
  grep -q '^vfu-server ready' "$work/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
# Rule: a server that never became ready trains nothing; the build fails and says why.
if ! grep -q '^vfu-server ready' "$work/out"; then
  cat "$work/out" "$work/err" >&2
  echo "train-aot: the server printed no ready line" >&2
  exit 1
fi
for path in /healthz /metrics; do
  exec 3<>/dev/tcp/127.0.0.1/9464
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
  while IFS= read -r -t 5 _ <&3; do :; done
  exec 3<&-
done
kill -TERM "$pid"
wait "$pid" || true
# Rule: the image ships a cache or the build fails; the JVM only warns when it cannot write one.
[ -s "$out" ] || { cat "$work/err" >&2; echo "train-aot: the JVM wrote no cache at $out" >&2; exit 1; }
chmod 0644 "$out"
rm -rf "$work"
