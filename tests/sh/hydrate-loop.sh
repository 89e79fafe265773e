#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: hydrating real block devices (loop devices over images). The
# device's own I/O counters show every sector was read and none written, even
# when the loop device itself is writable; the image's bytes are unchanged;
# a partition (losetup -P) is hydrated on its own.
. "$(dirname "$0")/../lib/tap.sh"
need_root
command -v losetup >/dev/null || skip_all "losetup not found"

. "$top_srcdir/tests/lib/loop.sh"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
cleanup() {
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT

# sysfs stat: field 3 sectors read, field 7 sectors written.
sectors() {
	awk -v f="$2" '{ print $f }' "/sys/class/block/$(basename "$1")/stat"
}

head -c 50331648 /dev/urandom >"$tmp/disk.img"
sum_before=$(sha256sum <"$tmp/disk.img")

loop_attach -r --direct-io=on "$tmp/disk.img" || skip_all "cannot attach a loop device"
ro=$dev
r0=$(sectors "$ro" 3)
"$BLKHYDRATE" hydrate --json --progress=never "$ro" >"$tmp/ro.json" 2>"$tmp/err"
is "read-only loop device: exit 0" "$?" 0
is "read-only loop device: JSON bytes is the device size" "$(json_get "$tmp/ro.json" bytes)" 50331648
r1=$(sectors "$ro" 3)
ok "the device counted at least its size in sectors read ($((r1 - r0)))" [ $((r1 - r0)) -ge $((50331648 / 512)) ]

loop_attach --direct-io=on "$tmp/disk.img"
rw=$dev
w0=$(sectors "$rw" 7)
"$BLKHYDRATE" hydrate --json --progress=never -d 7 -b 64K -s 3 "$rw" >"$tmp/rw.json" 2>"$tmp/err"
is "writable loop device: exit 0" "$?" 0
is "writable loop device: nothing written" "$(sectors "$rw" 7)" "$w0"
is "the image is unchanged" "$(sha256sum <"$tmp/disk.img")" "$sum_before"

# A partitioned image: the partition is a target of its own.
truncate -s 64M "$tmp/parted.img"
printf 'label: gpt\nstart=2048, size=32768\nstart=34816, size=65536\n' |
	sfdisk -q "$tmp/parted.img" >/dev/null
is "sfdisk wrote a partition table" "$?" 0
loop_attach -r -P "$tmp/parted.img"
pl=$dev
if loop_wait_part "$pl" 2; then
	"$BLKHYDRATE" hydrate --json --progress=never "${pl}p2" >"$tmp/p2.json" 2>"$tmp/err"
	is "partition 2: exit 0" "$?" 0
	is "partition 2: its own size, 32 MiB" "$(json_get "$tmp/p2.json" bytes)" $((65536 * 512))
else
	skip "partition 2: exit 0" "the kernel made no partition device"
	skip "partition 2: its own size" "the kernel made no partition device"
fi
tap_done
