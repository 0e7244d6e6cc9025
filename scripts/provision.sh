#!/usr/bin/env bash
# Provisions everything the vfu-java tests need, into caches outside the repository:
#   - host packages (bookworm only): debootstrap, prometheus, and the tools the guest build uses;
#   - a Debian trixie root holding QEMU 11 from trixie-backports (the only QEMU with vfio-user-pci);
#   - $VFU_CACHE/bin/qemu-system-x86_64, a wrapper that runs that QEMU without chroot or mounts;
#   - $VFU_CACHE/guest, a Debian kernel, its vfio modules and a busybox initramfs (scripts/build-guest.sh);
#   - Docker: the engine, a running dockerd, a base image and the QEMU runner image (scripts/provision-docker.sh);
#   - $VFU_CACHE/env.properties, which the integration tests read to find all of the above.
# Idempotent: a second run checks stamps and versions and returns in well under a second. Anything that cannot
# be provided stops the run with a message naming what is missing; nothing is skipped silently.
# See scripts/README.md for the layout and the reasons.
set -euo pipefail

cache=${VFU_CACHE:-/var/cache/vfu-java}
# Bump when the recipe below changes, so existing caches are rebuilt instead of trusted.
recipe=2
suite=trixie
qemu_major=11
# systemd: systemd-analyze checks the shipped unit (SystemdUnitTest); e2fsprogs: e2fsck checks the virtio-blk image.
host_packages=(debootstrap prometheus xz-utils cpio e2fsprogs systemd)

log() { printf 'provision: %s\n' "$*" >&2; }
die() { printf 'provision: FAILED: %s\n' "$*" >&2; exit 1; }

case "$cache" in
  /*) ;;
  *) die "VFU_CACHE must be an absolute path, got '$cache'" ;;
esac
case "$cache" in
  *[!A-Za-z0-9/._-]*) die "VFU_CACHE may hold only [A-Za-z0-9/._-], got '$cache'" ;;
esac

# The Debian mirror is whatever the host already uses (first deb822 stanza for the bookworm main suite, or a
# one-line sources.list entry). It is never written into the repository.
debian_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources uri=
  if [ -r "$f" ]; then
    uri=$(awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^| )bookworm( |$)/) { print u; exit } u = ""; s = ""; next }
      /^URIs:/ { u = $2 }
      /^Suites:/ { s = ""; for (i = 2; i <= NF; i++) s = s " " $i; s = s " " }
      END { if (u != "" && s ~ /(^| )bookworm( |$)/) print u }' "$f" | head -n1)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find the Debian mirror: no URIs line for bookworm in $f or /etc/apt/sources.list"
  printf '%s\n' "${uri%/}"
}

need_root() {
  # Anything missing is installed here or the run fails; it is never skipped.
  [ "$(id -u)" -eq 0 ] || die "$1 is not provisioned yet and installing it needs root; run as root once"
}

apt_host() {
  # -t bookworm keeps every dependency on the host's own release; newer suites are never added to the host.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

mkdir -p "$cache" 2>/dev/null || need_root "the cache folder $cache"
# One provisioning at a time per cache (several checkouts may share it).
# (A user who cannot write the cache can still check a provisioned one; any install below needs root anyway.)
if { exec 9>> "$cache/.lock"; } 2>/dev/null; then
  flock -w 1800 9 || die "timed out waiting for another provisioning run holding $cache/.lock"
fi

# --- 1. host packages --------------------------------------------------------------------------------------
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "host packages (${missing[*]})"
  log "installing host packages: ${missing[*]}"
  apt_host update -q >/dev/null || die "apt-get update failed"
  # Packages must not start services (prometheus would listen on :9090): without a policy-rc.d of the host's
  # own, one that denies every start is in place for this install only.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Temporary, from vfu-java scripts/provision.sh: no service starts during its install.\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt_host install -y -q -t bookworm --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install -t bookworm ${missing[*]} failed"
  if grep -q 'vfu-java scripts/provision.sh' "$policy" 2>/dev/null; then
    rm -f "$policy"
    trap - EXIT
  fi
fi
prometheus_bin=$(command -v prometheus) || die "prometheus is not on PATH after installing it"
prometheus_version=$("$prometheus_bin" --version 2>&1 | awk 'NR == 1 { print $3 }')
[ -n "$prometheus_version" ] || die "cannot read the version of $prometheus_bin"

# --- 2. trixie root with QEMU 11 ---------------------------------------------------------------------------
root=$cache/qemu-root
stamp=$root/.vfu-provisioned
wrapper=$cache/bin/qemu-system-x86_64

# Lists mount points at or below a path (a bind mount left there would make rm -rf reach the host's files).
mounts_under() { awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts; }

unmount_under() {
  local m
  for m in $(mounts_under "$1" | sort -r); do umount "$m" || umount -l "$m" || die "cannot unmount $m"; done
}

remove_tree() {
  [ -e "$1" ] || return 0
  unmount_under "$1"
  [ -z "$(mounts_under "$1")" ] || die "refusing to delete $1: something is still mounted under it"
  rm -rf --one-file-system "$1"
}

# Writes a wrapper (arg 2) that runs the QEMU of a root (arg 1) through that root's own dynamic loader and
# libraries: no chroot, no mounts, and host paths stay identical. Rewrites it only when its text changes.
write_wrapper() {
  local r=$1 dest=$2 text
  text=$(cat <<WRAP
#!/bin/sh
# Generated by scripts/provision.sh: runs the QEMU in $r with that root's loader and libraries.
root='$r'
# Debian builds qtest, display and audio back ends as modules; they are loaded from the root.
QEMU_MODULE_DIR=\$root/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
# -L twice: QEMU's compiled-in firmware path points at the host's /usr/share, where nothing is installed.
exec "\$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
  --library-path "\$root/lib/x86_64-linux-gnu:\$root/usr/lib/x86_64-linux-gnu" \\
  --argv0 qemu-system-x86_64 \\
  "\$root/usr/bin/qemu-system-x86_64" -L "\$root/usr/share/qemu" -L "\$root/usr/share/seabios" "\$@"
WRAP
)
  replace_if_changed "$dest" "$text" 0755
}

# Writes text (arg 2) to a file (arg 1) with a mode (arg 3) through a temporary file and rename, only when the
# content differs, so a provisioned cache is never touched (and needs no write access) on a warm run.
replace_if_changed() {
  local dest=$1 text=$2 mode=$3 tmp=$1.tmp.$$
  if [ -f "$dest" ] && [ "$(cat "$dest")" = "$text" ] && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  printf '%s\n' "$text" > "$tmp" || die "cannot write $tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
}

# Checks a QEMU (run through a wrapper) is major version 11 and has vfio-user-pci; prints the version.
check_qemu() {
  local w=$1 v
  v=$("$w" --version 2>&1 | awk 'NR == 1 && $1 == "QEMU" { print $4 }') || true
  [ -n "$v" ] || die "$w --version did not print a QEMU version: $("$w" --version 2>&1 | head -n3)"
  [ "${v%%.*}" = "$qemu_major" ] || die "expected QEMU $qemu_major.x from $suite-backports, got $v"
  "$w" -device help 2>&1 | grep -q '"vfio-user-pci"' || die "QEMU $v at $w does not list vfio-user-pci"
  printf '%s\n' "$v"
}

# Checks a q35 machine starts under qtest (firmware and the qtest module are found): reads the host bridge's
# vendor/device ID, then resets through port 0xcf9, which -no-reboot turns into a clean exit.
check_qtest() {
  local w=$1 out
  out=$(printf 'outl 0xcf8 0x80000000\ninl 0xcfc\noutb 0xcf9 0x6\n' | timeout 20 "$w" -machine q35 -accel qtest \
        -qtest stdio -qtest-log none -display none -nodefaults -monitor none -no-reboot 2>&1) || true
  printf '%s\n' "$out" | grep -qx 'OK 0x29c08086' || die "QEMU at $w cannot run a q35 machine under qtest: $out"
}

stamp_text="recipe=$recipe suite=$suite source=$suite-backports package=qemu-system-x86"
qemu_version=
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$stamp_text" ]; then
  write_wrapper "$root" "$wrapper"
  qemu_version=$(check_qemu "$wrapper")
else
  need_root "QEMU $qemu_major ($suite root at $root)"
  mirror=$(debian_mirror)
  mkdir -p "$cache"
  for old in "$cache"/qemu-root.tmp.*; do remove_tree "$old"; done
  rm -f "$cache"/bin/*.tmp.* "$cache"/bin/*.check.*
  tmp=$cache/qemu-root.tmp.$$
  trap 'unmount_under "$tmp"; rm -f "$cache"/bin/*.check.$$' EXIT
  log "debootstrap $suite into $tmp (mirror from the host's apt sources)"
  t0=$(date +%s)
  debootstrap --variant=minbase "$suite" "$tmp" "$mirror" > "$cache/debootstrap.log" 2>&1 \
    || die "debootstrap $suite failed; see $cache/debootstrap.log"
  t1=$(date +%s)
  log "debootstrap took $((t1 - t0)) s; installing qemu-system-x86 from $suite-backports"
  # Newer suites are enabled only inside the root, never on the host.
  rm -f "$tmp/etc/apt/sources.list"
  cat > "$tmp/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates $suite-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  mount -t proc proc "$tmp/proc"
  in_root() { chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
  in_root apt-get -q update > "$cache/qemu-install.log" 2>&1 || die "apt-get update in the $suite root failed; see $cache/qemu-install.log"
  in_root apt-get -q install -y --no-install-recommends -t "$suite-backports" qemu-system-x86 \
    >> "$cache/qemu-install.log" 2>&1 || die "installing qemu-system-x86 in the $suite root failed; see $cache/qemu-install.log"
  in_root apt-get clean
  unmount_under "$tmp"
  t2=$(date +%s)
  log "qemu install took $((t2 - t1)) s"
  # Verify through a wrapper pointing at the temporary root before it is published.
  check=$cache/bin/qemu-system-x86_64.check.$$
  write_wrapper "$tmp" "$check"
  qemu_version=$(check_qemu "$check")
  check_qtest "$check"
  rm -f "$check"
  qemu_package=$(in_root dpkg-query -W -f='${Version}' qemu-system-x86)
  { echo "$stamp_text"; echo "qemu=$qemu_package"; echo "built=$(date -u +%FT%TZ)"; } > "$tmp/.vfu-provisioned"
  # Publish atomically: a root without the stamp is never treated as done.
  remove_tree "$root"
  mv "$tmp" "$root"
  trap - EXIT
  write_wrapper "$root" "$wrapper"
  qemu_version=$(check_qemu "$wrapper")
  log "QEMU $qemu_version ready in $root"
fi
qemu_package=$(awk -F= '$1 == "qemu" { print $2 }' "$stamp")

# --- 3. the guest (kernel, vfio modules, busybox initramfs) -----------------------------------------------
"$(dirname "$0")/build-guest.sh" || die "building the guest failed"
guest=$cache/guest
guest_release=$(cat "$guest/kernel.version")

# --- 4. Docker: engine, daemon, base image and the QEMU runner image -----------------------------------------
qemu_image=$("$(dirname "$0")/provision-docker.sh" "$(debian_mirror)") || die "provisioning Docker failed"

# --- 5. the file the tests read ----------------------------------------------------------------------------
env_file=$cache/env.properties
replace_if_changed "$env_file" "# Written by scripts/provision.sh; read by the integration tests. Values never contain spaces or quotes.
vfu.cache=$cache
qemu.binary=$wrapper
qemu.root=$root
qemu.version=$qemu_version
qemu.package=$qemu_package
prometheus.binary=$prometheus_bin
prometheus.version=$prometheus_version
guest.dir=$guest
guest.kernel=$guest/vmlinuz
guest.kernel.release=$guest_release
guest.initramfs=$guest/initramfs.cpio.gz
guest.modules=$guest/modules
docker.qemu.image=$qemu_image" 0644
log "ready: QEMU $qemu_version, prometheus $prometheus_version, guest kernel $guest_release; settings in $env_file"
