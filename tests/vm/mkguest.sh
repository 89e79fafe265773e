#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The VM test's root disk, as an AMI build would make it: the cached Debian
# root file system (mkroot.sh) on a fresh ext4 image, a model under
# /opt/models, the stand-in model server with the contrib drop-in, then the
# AMI recipe run in it as Packer runs it (contrib/ami/verify-model-volume.sh
# --install the project's .deb --mode used), which installs blkhydrate,
# writes /etc/blkhydrate.conf and saves the model's plan; last the test's
# own settings (tests/vm/guest/), and the stand-in workload of a recorded
# boot with its files under /opt/app. Kept in CACHE/guest/ until the package or
# any of these files changes. The chunks holding the model go to
# root.model-chunks (filefrag's view, not blkhydrate's).
#
# Usage: tests/vm/mkguest.sh CACHE DEB TOP_SRCDIR
set -euo pipefail

die() {
	echo "mkguest: $*" >&2
	exit 1
}

cache=${1:?usage: mkguest.sh CACHE DEB TOP_SRCDIR}
deb=${2:?usage: mkguest.sh CACHE DEB TOP_SRCDIR}
top=${3:?usage: mkguest.sh CACHE DEB TOP_SRCDIR}
here=$top/tests/vm
. "$here/lib.sh"
recipe=$top/contrib/ami/verify-model-volume.sh
dropin=$top/contrib/systemd/model-server.service.d/10-blkhydrate.conf
ROOT_UUID=6b1c3f52-3d3e-4c43-9a51-1f1e1d1c1b1a
# The model volume is the guest's only NVMe disk at boot.
MODEL_DISK=nvme0n1

[ -f "$deb" ] || die "$deb: no such package"
[ -f "$cache/base/stamp" ] || die "no base root file system (run mkroot.sh)"
key=$(cat "$cache/base/stamp" "$deb" "$0" "$here"/lib.sh "$here"/guest/* "$recipe" "$dropin" | sha256sum | cut -c1-16)
out=$cache/guest
[ "$(cat "$out/stamp" 2>/dev/null)" = "$key" ] && exit 0
[ "$(id -u)" = 0 ] || die "needs root (loop devices, chroot)"

new=$cache/guest.new
root=$new/mnt
loopdev=
cleanup() {
	local m
	for m in $(awk -v d="$root" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
	rm -rf "$new"
}
trap cleanup EXIT
rm -rf "$new"
mkdir -p "$root"

img=$new/root.img
mkfs.ext4 -q -F -b 4096 -U "$ROOT_UUID" -L root -E nodiscard -d "$cache/base/rootfs" "$img" 2G
loopdev=$(losetup -f --show "$img")
mount "$loopdev" "$root"
# A chroot like a build instance's: the recipe finds the disk under the
# model through /proc, /sys and /dev.
for d in dev proc sys; do
	mount --bind "/$d" "$root/$d"
done

# The model, random bytes, written after the system (as an image build would).
mkdir -p "$root/opt/models/llm"
head -c 4M /dev/urandom >"$new/seed"
for f in model-00001-of-00002.safetensors:20 model-00002-of-00002.safetensors:20 config.json:4; do
	for ((i = 0; i < ${f#*:} / 4; i++)); do cat "$new/seed"; done >"$root/opt/models/llm/${f%:*}"
done

# The stand-in model server, after the model volume's hydration.
install -m 0755 "$here/guest/model-server" "$root/usr/local/sbin/model-server"
install -m 0644 "$here/guest/model-server.service" "$root/etc/systemd/system/model-server.service"
mkdir -p "$root/etc/systemd/system/model-server.service.d" "$root/etc/systemd/system/multi-user.target.wants"
sed "s/nvme1n1/$MODEL_DISK/g" "$dropin" >"$root/etc/systemd/system/model-server.service.d/10-blkhydrate.conf"
ln -sf ../model-server.service "$root/etc/systemd/system/multi-user.target.wants/model-server.service"
install -m 0644 "$here/guest/fstab" "$root/etc/fstab"
# The stand-in workload of a recorded boot (S8), not enabled, and its files.
install -m 0755 "$here/guest/record-standin" "$root/usr/local/sbin/record-standin"
install -m 0644 "$here/guest/record-standin.service" "$root/etc/systemd/system/record-standin.service"
mkdir -p "$root/opt/app"
for f in lib-1.so:256K lib-2.so:512K lib-3.so:128K lib-4.so:1M data.bin:8M unread.bin:1M; do
	head -c "${f#*:}" /dev/urandom >"$root/opt/app/${f%:*}"
done
mkdir -p "$root/srv/models" "$root/srv/data" "$root/mnt/cold"

# The AMI recipe, as contrib/ami/blkhydrate.pkr.hcl runs it.
cp "$deb" "$root/tmp/blkhydrate.deb"
cp "$recipe" "$root/tmp/verify-model-volume.sh"
# A clean environment: none of the test suite's BLKHYDRATE_* settings.
chroot "$root" env -i DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	bash /tmp/verify-model-volume.sh --install /tmp/blkhydrate.deb --mode used '/opt/models/**' \
	>"$new/recipe.log" 2>&1 || { cat "$new/recipe.log" >&2; die "the AMI recipe failed"; }
rm -f "$root/tmp/blkhydrate.deb" "$root/tmp/verify-model-volume.sh"
[ -s "$root/var/lib/blkhydrate/plans/$ROOT_UUID.plan" ] ||
	{ cat "$new/recipe.log" >&2; die "the AMI recipe saved no plan for $ROOT_UUID"; }
grep -v '^#' "$here/guest/blkhydrate.conf" >>"$root/etc/blkhydrate.conf"

# filefrag's view of where the model lies, in chunks of the simulator.
vm_chunks_of "$root"/opt/models/llm/* >"$new/root.model-chunks"
cp "$root/etc/blkhydrate.conf" "$new/blkhydrate.conf"
cp "$cache/base/vmlinuz" "$cache/base/initrd.img" "$new/"

for d in sys proc dev; do
	umount "$root/$d"
done
umount "$root"
losetup -d "$loopdev"
loopdev=
rm -rf "$root" "$new/seed"
echo "$key" >"$new/stamp"
rm -rf "$out"
mv "$new" "$out"
trap - EXIT
