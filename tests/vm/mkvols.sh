#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The VM test's data volumes, as "snapshots": image files that the lazy
# volume simulator serves to the guest (each through a copy-on-write
# overlay, so the guest may write and the image stays as it was). Built
# once into CACHE/vols/ and kept; a changed script, or a changed image,
# builds them anew.
#
#   models  ext4, 384M: system files, 750 small files apart, then a
#           model (llm/) written last;
#           mounted at /srv/models by the guest's fstab
#   cold    the same model on another ext4, never hydrated: how long a
#           cold read of the model takes
#   xfs     xfs, 384M: 96M of files, mounted at /srv/data
#   reboot  ext4, 256M, not mounted: hydrated whole, interrupted by a power cut
#   hot     ext4, 192M, hot-plugged while the guest runs
#   gone    ext4, 384M, hot-plugged and pulled out while it is read
#   empty   256M of nothing: a new volume
#
# Every byte of the non-empty images is written (zeros where no file is),
# so every chunk is snapshot data: free space costs a fetch too, as on a
# used disk, and --used has something to leave out. For models, the chunks
# (of the simulator) holding the model go to models.model-chunks, those
# of all files to models.file-chunks and xfs.file-chunks: found with
# filefrag, not with blkhydrate; the chunks of xfs's log to xfs.meta-chunks
# (xfs_db).
#
# Each run must start from the volumes as built. mke2fs and mkfs.xfs zero
# parts of an image file by fallocate (unwritten extents), and SEEK_DATA,
# which the simulator asks to tell data from holes, calls an unwritten
# extent a hole unless its pages are in the host's page cache: the same
# image had 649 data chunks in one run and 768 in the next. So every
# non-empty image is written out whole once more (no unwritten extent
# left), and the build keeps each image's digest and map of data and
# holes in CACHE/vols/sums; a later call checks them and builds anew on
# any difference. "mkvols.sh --verify CACHE" only checks (status 1: changed).
#
# Usage: tests/vm/mkvols.sh [--verify] CACHE
set -euo pipefail

die() {
	echo "mkvols: $*" >&2
	exit 1
}

verify=
[ "${1:-}" = --verify ] && verify=1 && shift
cache=${1:?usage: mkvols.sh [--verify] CACHE}
self=$(readlink -f "$0")
. "$(dirname "$self")/lib.sh"
key=$(cat "$self" "$(dirname "$self")/lib.sh" | sha256sum | cut -c1-16)
out=$cache/vols

# sums DIR: "NAME SIZE SHA256 MAP" for each image in DIR, MAP the digest of
# its data and holes (SEEK_DATA/SEEK_HOLE): a hole filled with zeros, or
# zeros punched out, changes the map and not the bytes.
sums() {
	python3 - "$1" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
for name in sorted(n for n in os.listdir(d) if n.endswith(".img")):
    path = os.path.join(d, name)
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    data, segs, off = hashlib.sha256(), hashlib.sha256(), 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        segs.update(b"%d+%d\n" % (start, end - start))
        off = end
    os.lseek(fd, 0, os.SEEK_SET)
    with os.fdopen(fd, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            data.update(b)
    print(name, size, data.hexdigest(), segs.hexdigest())
PY
}
if [ -n "$verify" ]; then
	[ -s "$out/sums" ] && sums "$out" | cmp -s - "$out/sums" && exit 0
	sums "$out" | diff "$out/sums" - >&2
	exit 1
fi
if [ "$(cat "$out/stamp" 2>/dev/null)" = "$key" ]; then
	[ -s "$out/sums" ] && sums "$out" | cmp -s - "$out/sums" && exit 0
	echo "mkvols: the volumes changed since they were built: building them anew" >&2
fi
[ "$(id -u)" = 0 ] || die "needs root (loop devices)"

new=$cache/vols.new
mnt=$new/mnt
loopdev=
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
	rm -rf "$new"
}
trap cleanup EXIT
rm -rf "$new"
mkdir -p "$mnt"

# filled IMAGE SIZE_MIB: an image whose every block is written.
filled() {
	dd if=/dev/zero of="$1" bs=1M count="$2" status=none
}

# Files of random bytes (the page cache cannot fake them as zeros): a
# 4 MiB seed, repeated.
head -c 4M /dev/urandom >"$new/seed"
# put FILE SIZE_MIB
put() {
	local i
	mkdir -p "$(dirname "$1")"
	for ((i = 0; i < $2 / 4; i++)); do cat "$new/seed"; done >"$1"
}

# mount_image IMAGE: the image's file system at $mnt, through a loop device.
mount_image() {
	loopdev=$(losetup -f --show "$1")
	mount "$loopdev" "$mnt"
}
umount_image() {
	umount "$mnt"
	losetup -d "$loopdev"
	loopdev=
}

# The model volume and its cold twin: the same files, other UUIDs.
model_volume() {
	local img=$new/$1.img
	filled "$img" 384
	mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
		-U "$2" -L "$1" "$img"
	mount_image "$img"
	put "$mnt/srv/lib/base.tar" 64
	put "$mnt/srv/lib/tools.tar" 32
	# 1500 small files, every other one deleted again: free space in some
	# 750 pieces, so that GETFSMAP answers in more than one batch (512
	# records a call) and the guest's kernel is asked to go on where the
	# last batch ended.
	mkdir "$mnt/srv/frag"
	head -c 16K "$new/seed" >"$new/small"
	for ((i = 1; i <= 1500; i++)); do cp "$new/small" "$mnt/srv/frag/$i"; done
	sync
	rm -f "$mnt"/srv/frag/*[02468]
	mkdir "$mnt/llm"
	put "$mnt/llm/model-00001-of-00002.safetensors" 8
	put "$mnt/llm/model-00002-of-00002.safetensors" 4
	put "$mnt/llm/tokenizer.json" 4
	sync
	if [ "$1" = models ]; then
		vm_chunks_of "$mnt"/llm/* >"$new/models.model-chunks"
		vm_chunks_of "$mnt"/llm/* "$mnt"/srv/lib/* "$mnt"/srv/frag/* >"$new/models.file-chunks"
	fi
	umount_image
	[ "$(e2freefrag "$img" | awk '/^Num. free extent:/ { print $4 }')" -ge 700 ] ||
		die "$1: its free space is not in pieces"
}
model_volume models 0d5c1e6e-4b0a-4c39-8a1b-6d0f6a1e0001
model_volume cold 0d5c1e6e-4b0a-4c39-8a1b-6d0f6a1e0002

filled "$new/xfs.img" 384
mkfs.xfs -q -f -K -m uuid=0d5c1e6e-4b0a-4c39-8a1b-6d0f6a1e0003 -L data "$new/xfs.img"
mount_image "$new/xfs.img"
put "$mnt/table-1.parquet" 64
put "$mnt/table-2.parquet" 32
sync
vm_chunks_of "$mnt"/*.parquet >"$new/xfs.file-chunks"
umount_image
# The chunks of xfs's internal log (64 MiB at least), by xfs_db: metadata
# that GETFSMAP calls used, so --used reads it.
logstart=$(xfs_db -r -c 'sb 0' -c 'p logstart' "$new/xfs.img" | awk '{ print $3 }')
logblocks=$(xfs_db -r -c 'sb 0' -c 'p logblocks' "$new/xfs.img" | awk '{ print $3 }')
logbyte=$(xfs_db -r -c "convert fsb $logstart byte" "$new/xfs.img" | sed -n 's/.*(\([0-9]*\)).*/\1/p')
if [ -z "$logbyte" ] || [ "${logblocks:-0}" -le 0 ]; then
	die "xfs: cannot find the log"
fi
awk -v a="$logbyte" -v n="$logblocks" -v c="$VM_CHUNK" \
	'BEGIN { for (k = int(a / c); k <= int((a + n * 4096 - 1) / c); k++) print k }' >"$new/xfs.meta-chunks"

for v in reboot:256:0004 gone:384:0005 hot:192:0006; do
	IFS=: read -r name size tail <<<"$v"
	filled "$new/$name.img" "$size"
	# Not mounted in the guest: no inode tables or journal to zero, which
	# mke2fs would do by punching holes, and every chunk stays data.
	mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 \
		-U "0d5c1e6e-4b0a-4c39-8a1b-6d0f6a1e$tail" -L "$name" "$new/$name.img"
done
# Written out whole: no unwritten extent, whose data SEEK_DATA would see
# or not as the host's page cache has it.
for name in models cold xfs reboot gone hot; do
	dd if="$new/$name.img" of="$new/$name.new" bs=1M conv=fsync status=none
	mv "$new/$name.new" "$new/$name.img"
	! filefrag -v "$new/$name.img" | grep -q unwritten || die "$name.img has unwritten extents"
done
truncate -s 256M "$new/empty.img"
for name in models cold xfs reboot gone hot; do
	[ "$(du -k "$new/$name.img" | cut -f1)" -ge $(($(stat -c %s "$new/$name.img") / 1024)) ] ||
		die "$name.img has holes"
done

[ "$(wc -l <"$new/models.model-chunks")" -ge 32 ] || die "the model spans too few chunks"
rm -rf "$new/seed" "$new/small" "$mnt"
sums "$new" >"$new/sums"
echo "$key" >"$new/stamp"
rm -rf "$out"
mv "$new" "$out"
trap - EXIT
