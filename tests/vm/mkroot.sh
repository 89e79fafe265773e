#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the VM test's guest once and keep it: a Debian 12 root file system
# from Debian's archive (debootstrap, minbase plus systemd, udev, the kernel,
# the file system tools, blkhydrate's libraries and the guest agent), its
# kernel and a small initramfs, in CACHE/base/. A second run finds the stamp
# and returns at once; a changed script (or package list) builds it anew.
#
# Usage: tests/vm/mkroot.sh CACHE
# VM_MIRROR names the archive (default: the one apt uses here).
set -euo pipefail

die() {
	echo "mkroot: $*" >&2
	exit 1
}

cache=${1:?usage: mkroot.sh CACHE}
self=$(readlink -f "$0")
packages=systemd,systemd-sysv,udev,dbus,e2fsprogs,xfsprogs,liburing2,libblkid1,libudev1,libsystemd0
packages+=,kmod,linux-image-amd64,initramfs-tools,qemu-guest-agent,procps,util-linux
key=$(cat "$self" | sha256sum | cut -c1-16)
base=$cache/base
if [ "$(cat "$base/stamp" 2>/dev/null)" = "$key" ] && [ -s "$base/vmlinuz" ] &&
	[ -s "$base/initrd.img" ] && [ -d "$base/rootfs/etc" ]; then
	exit 0
fi
[ "$(id -u)" = 0 ] || die "needs root (debootstrap)"
command -v debootstrap >/dev/null || die "debootstrap not found"

# The archive this machine's apt uses: the only one reachable in CI.
mirror=${VM_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }')
fi
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
fi
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$cache"
new=$cache/base.new
# debootstrap mounts /proc and /sys in its target: never leave one behind.
cleanup() {
	local m
	for m in $(awk -v d="$new/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$new"
}
trap cleanup EXIT
cleanup
mkdir -p "$new"
root=$new/rootfs
echo "mkroot: debootstrap bookworm from $mirror (a few minutes, once)"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
	>"$new/debootstrap.log" 2>&1 || { tail -n 30 "$new/debootstrap.log" >&2; die "debootstrap failed"; }

kver=$(ls "$root/lib/modules")
[ "$(echo "$kver" | wc -w)" = 1 ] || die "expected one kernel, found: $kver"

# Smaller is faster: every byte of the root disk is read through the
# simulated lazy volume, and the guest boots under TCG. No documentation,
# no apt cache, no kernel modules for sound, graphics, networks or USB.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale "$root"/usr/share/info
(cd "$root/lib/modules/$kver/kernel" &&
	rm -rf sound drivers/gpu drivers/media drivers/net drivers/infiniband drivers/staging \
		drivers/iio drivers/usb drivers/comedi drivers/hwmon drivers/bluetooth drivers/isdn \
		drivers/mtd net/wireless net/bluetooth net/mac80211)
chroot "$root" depmod -a "$kver"
# The initramfs needs only the root disk's drivers (virtio or NVMe, ext4).
printf '%s\n' virtio_pci virtio_blk nvme ext4 crc32c_generic >"$root/etc/initramfs-tools/modules"
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
chroot "$root" update-initramfs -u -k "$kver" >"$new/initramfs.log" 2>&1 ||
	{ cat "$new/initramfs.log" >&2; die "update-initramfs failed"; }

echo blkhydrate-vm >"$root/etc/hostname"
chroot "$root" passwd -d root >/dev/null
# The journal survives the test's reset, so a boot can be read in the next.
mkdir -p "$root/var/log/journal"
# Nothing periodic or slow in the test's boots.
for u in e2scrub_reap.service e2scrub_all.timer fstrim.timer apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done

cp "$root/boot/vmlinuz-$kver" "$new/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$new/initrd.img"
echo "$key" >"$new/stamp"
rm -rf "$base"
mv "$new" "$base"
trap - EXIT
echo "mkroot: $base ($(du -sh "$base/rootfs" | cut -f1), kernel $kver)"
