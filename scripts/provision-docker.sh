#!/usr/bin/env bash
# Provisions the Docker side of the guest tests (scripts/provision.sh runs it; see docker/README.md):
#   - the Docker engine from bookworm (docker.io 20.10), never from a newer suite;
#   - a running dockerd: an existing one is reused; otherwise one is started detached with its data under
#     $VFU_CACHE/docker and its PID in $VFU_CACHE/dockerd.pid, which bin/vfu-test stops at the end of its run;
#   - local/base:trixie, a debootstrap'd Debian trixie minbase imported with `docker import` (no registry here);
#   - the QEMU runner image from docker/Dockerfile.qemu, tagged with a hash of its inputs, built only when missing.
# Prints the runner image name on stdout (everything else goes to stderr).
# Usage: provision-docker.sh MIRROR
set -euo pipefail

cache=${VFU_CACHE:-/var/cache/vfu-java}
mirror=${1:?usage: provision-docker.sh MIRROR}
top=$(cd "$(dirname "$0")/.." && pwd)
base_image=local/base:trixie

log() { printf 'provision-docker: %s\n' "$*" >&2; }
die() { printf 'provision-docker: FAILED: %s\n' "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root; run as root once"; }

# --- 1. the engine -----------------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1; then
  need_root "installing docker.io"
  log "installing docker.io from bookworm"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -t bookworm \
    --no-install-recommends docker.io >"$cache/docker-install.log" 2>&1 \
    || die "apt-get install docker.io failed; see $cache/docker-install.log"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH after installing docker.io"

# --- 2. a running daemon -------------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  need_root "starting dockerd"
  mkdir -p "$cache/docker"
  log "starting dockerd (data in $cache/docker, log in $cache/dockerd.log)"
  # setsid + closed fds: the daemon must not hold provision.sh's lock (fd 9) or the caller's pipes.
  # --iptables=false leaves the host's firewall alone; builds then use --network host.
  setsid dockerd --data-root "$cache/docker" --storage-driver overlay2 --iptables=false --ip-forward=false \
    --pidfile "$cache/dockerd.pid" </dev/null >"$cache/dockerd.log" 2>&1 9>&- &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || die "dockerd did not come up in 30 s; see $cache/dockerd.log"
  # Marks the daemon as ours: bin/vfu-test stops it by this PID when its run ends.
  cp "$cache/dockerd.pid" "$cache/dockerd.started-by-vfu"
fi

# --- 3. the base image (docker import of a debootstrap'd root) ----------------------------------------------
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
  need_root "building $base_image"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (provision.sh installs it)"
  tmp="$cache/base-rootfs.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  log "debootstrap --variant=minbase trixie for $base_image"
  debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$cache/base-debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $cache/base-debootstrap.log"
  tar -C "$tmp" -c . | docker import -c 'CMD ["bash"]' - "$base_image" >/dev/null \
    || die "docker import of $base_image failed"
  rm -rf "$tmp"
  trap - EXIT
fi

# --- 4. the QEMU runner image ----------------------------------------------------------------------------------
base_id=$(docker image inspect -f '{{.Id}}' "$base_image")
tag=$(cat "$top/docker/Dockerfile.qemu" <(printf '%s\n' "$base_id") | sha256sum | cut -c1-12)
image=local/vfu-qemu:$tag
if ! docker image inspect "$image" >/dev/null 2>&1; then
  log "building $image from docker/Dockerfile.qemu"
  docker build --network host --build-arg BASE="$base_image" -t "$image" -f "$top/docker/Dockerfile.qemu" \
    "$top/docker" >"$cache/docker-build-qemu.log" 2>&1 \
    || die "docker build of $image failed; see $cache/docker-build-qemu.log"
  docker run --rm --network host "$image" --version | grep -q "QEMU emulator version 11\." \
    || die "$image does not run QEMU 11"
  docker images --format '{{.Repository}}:{{.Tag}}' local/vfu-qemu | grep -vxF "$image" | xargs -r docker rmi >&2 || true
fi
printf '%s\n' "$image"
