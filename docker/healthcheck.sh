#!/bin/bash
# The server image's HEALTHCHECK: GET /healthz on the metrics port over bash's /dev/tcp (no curl or second JVM
# in the image); healthy only on a 200 status line. The port is the one the server was started with: a
# --metrics-port in PID 1's command line, else VFU_METRICS_PORT (set it when a --config file names the port).
# The endpoint must listen on 127.0.0.1 or 0.0.0.0 (--metrics-host).
set -euo pipefail
port=${VFU_METRICS_PORT:-9464}
mapfile -d '' args </proc/1/cmdline
for i in "${!args[@]}"; do
  case ${args[i]} in
    --metrics-port) port=${args[i + 1]:-$port} ;;
    --metrics-port=*) port=${args[i]#--metrics-port=} ;;
  esac
done
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 3 status <&3
[[ $status == HTTP/1.[01]' 200 '* ]]
