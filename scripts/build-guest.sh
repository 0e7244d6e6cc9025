#!/usr/bin/env bash
# Builds the guest for QEMU tests with a real kernel, into $VFU_CACHE/guest (default /var/cache/vfu-java/guest):
#   vmlinuz              Debian trixie linux-image-6.12.*-amd64 kernel
#   modules/*.ko         vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci (the guest suite), crc32c_generic,
#                        virtio_blk and ext4 (the virtio-blk guest: virtio_pci is built in, virtio_blk and ext4
#                        are modules) and what they depend on, decompressed, listed in load order in modules/order
#   busybox              busybox-static from trixie
#   initramfs.cpio.gz    busybox + modules + /init: mounts proc/sys/dev, loads the modules, runs /test if it
#                        exists, prints "vfu-guest: done" and powers off
#   kernel.version       the kernel release (uname -r)
# A test adds its own /test by appending a second gzip'd cpio archive to a copy of initramfs.cpio.gz (the kernel
# unpacks concatenated archives in order). Needs the trixie root from scripts/provision.sh, which calls this.
# Idempotent; a finished build is published atomically with a stamp, and is booted once under TCG to check it.
set -euo pipefail

cache=${VFU_CACHE:-/var/cache/vfu-java}
root=$cache/qemu-root
qemu=$cache/bin/qemu-system-x86_64
guest=$cache/guest
# Bump when the recipe below changes.
recipe=2
kernel_series=6.12
# crc32c_generic comes before ext4 on purpose: ext4 and jbd2 ask the crypto API for "crc32c" at mount time (a
# modinfo softdep, which busybox insmod does not follow), so it must be loaded already.
wanted_modules=(vfio vfio_iommu_type1 vfio_pci_core vfio_pci crc32c_generic virtio_blk ext4)

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() { printf 'build-guest: FAILED: %s\n' "$*" >&2; exit 1; }

[ -f "$root/.vfu-provisioned" ] && [ -x "$qemu" ] || die "no provisioned QEMU root in $root; run scripts/provision.sh"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# The kernel package trixie's linux-image-amd64 points at (trixie-backports, at priority 100, is not chosen).
kernel_package() {
  in_root apt-cache depends linux-image-amd64 2>/dev/null \
    | awk -v s="linux-image-$kernel_series" '$1 == "Depends:" && index($2, s) == 1 { print $2; exit }'
}

# A guest built by this recipe is kept; the kernel it holds only changes when the recipe does (the root's
# package lists are refreshed only below, when a download fails).
stamp_text="recipe=$recipe"
if [ -f "$guest/.vfu-provisioned" ] && [ "$(head -n1 "$guest/.vfu-provisioned")" = "$stamp_text" ]; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "the guest in $guest is not built yet and building it needs root"
pkg=$(kernel_package)
[ -n "$pkg" ] || die "trixie's linux-image-amd64 does not depend on a linux-image-$kernel_series.* package"

work=/tmp/vfu-guest.$$
host_work=$root$work
rm -rf "$host_work"
mkdir -p "$host_work/deb"
trap 'rm -rf "$host_work" "$guest.tmp.$$"' EXIT
log "downloading $pkg and busybox-static inside the trixie root"
if ! in_root sh -c "cd $work/deb && apt-get -q download $pkg busybox-static" > "$cache/guest-download.log" 2>&1; then
  # The root's package lists may be older than the mirror; refresh them once and retry.
  in_root apt-get -q update >> "$cache/guest-download.log" 2>&1 || die "apt-get update in $root failed"
  pkg=$(kernel_package)
  in_root sh -c "cd $work/deb && apt-get -q download $pkg busybox-static" >> "$cache/guest-download.log" 2>&1 \
    || die "apt-get download $pkg busybox-static failed; see $cache/guest-download.log"
fi
for deb in "$host_work"/deb/*.deb; do dpkg-deb -x "$deb" "$host_work/x"; done

out=$guest.tmp.$$
rm -rf "$out"
mkdir -p "$out/modules"
vmlinuz=$(ls "$host_work"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "$pkg has no boot/vmlinuz-*"
release=${vmlinuz##*/vmlinuz-}
cp "$vmlinuz" "$out/vmlinuz"
echo "$release" > "$out/kernel.version"
cp "$host_work/x/usr/bin/busybox" "$out/busybox" || die "busybox-static has no usr/bin/busybox"
moddir=$host_work/x/lib/modules/$release
[ -d "$moddir" ] || moddir=$host_work/x/usr/lib/modules/$release
[ -d "$moddir" ] || die "$pkg has no lib/modules/$release"

# Finds a module file by name (file names may use '-' where module names use '_').
module_file() {
  local n=$1 f
  f=$(find "$moddir/kernel" \( -name "$n.ko*" -o -name "${n//_/-}.ko*" \) -print -quit)
  [ -n "$f" ] || die "module $n not found in $pkg"
  printf '%s\n' "$f"
}

# Adds a module after everything it depends on (the depends= field of its .modinfo), once.
order=()
add_module() {
  # Module names treat '-' and '_' alike (depends= may spell vfio-pci-core); keep the '_' form.
  local n=${1//-/_} f deps d
  for d in "${order[@]}"; do [ "$d" = "$n" ] && return 0; done
  f=$(module_file "$n")
  case "$f" in
    *.ko.xz) xz -dc "$f" > "$out/modules/$n.ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$out/modules/$n.ko" ;;
    *.ko) cp "$f" "$out/modules/$n.ko" ;;
    *) die "unknown module compression: $f" ;;
  esac
  deps=$(tr '\0' '\n' < "$out/modules/$n.ko" | sed -n 's/^depends=//p' | head -n1)
  for d in ${deps//,/ }; do add_module "$d"; done
  order+=("$n")
}
for m in "${wanted_modules[@]}"; do add_module "$m"; done
printf '%s\n' "${order[@]}" > "$out/modules/order"

# The initramfs: busybox, the modules and an /init that a test extends with /test.
tree=$host_work/initramfs
mkdir -p "$tree"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$out/busybox" "$tree/bin/busybox"
cp "$out"/modules/*.ko "$out/modules/order" "$tree/lib/modules/"
cat > "$tree/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vfu-guest: up, kernel $(uname -r)"
for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m.ko" || echo "vfu-guest: insmod $m failed"
done
echo "vfu-guest: modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
if [ -x /test ]; then
  /test
  echo "vfu-guest: test exit $?"
fi
echo "vfu-guest: done"
poweroff -f
INIT
chmod 0755 "$tree/init"
(cd "$tree" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -9n > "$out/initramfs.cpio.gz"

# Boot it once under TCG: the kernel must reach /init, load every module and power off.
log "booting kernel $release under TCG to check the guest"
t0=$(date +%s%N)
boot=$(timeout 120 "$qemu" -machine q35 -accel tcg -m 256 -smp 1 -nodefaults -display none -monitor none \
  -serial stdio -no-reboot -kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet" < /dev/null 2>&1) || die "guest boot failed: $(printf '%s' "$boot" | tail -n 20)"
t1=$(date +%s%N)
printf '%s\n' "$boot" | grep -q '^vfu-guest: done' || die "guest did not reach the end of /init: $(printf '%s' "$boot" | tail -n 20)"
printf '%s\n' "$boot" | grep -q 'insmod .* failed' && die "a module did not load: $(printf '%s' "$boot" | grep vfu-guest)"
log "guest booted to poweroff in $(( (t1 - t0) / 1000000 )) ms; $(printf '%s\n' "$boot" | grep '^vfu-guest: modules')"

{ echo "$stamp_text"; echo "kernel=$pkg"; echo "release=$release"; echo "boot_ms=$(( (t1 - t0) / 1000000 ))"; echo "built=$(date -u +%FT%TZ)"; } \
  > "$out/.vfu-provisioned"
rm -rf --one-file-system "$guest"
mv "$out" "$guest"
log "guest ready in $guest"
