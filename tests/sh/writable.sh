#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: blkhydrate writes nothing, also where it could. On a loop
# device attached read-write (its ext4 mounted read-only, for GETFSMAP and
# FIEMAP) and on a regular file, every way of reading: --used, priority
# files, and a run stopped by SIGTERM then finished with --resume. After
# each, the device counted no sector written and the device's and the
# image's checksums are what they were. (The whole device on a writable loop
# device and on regular files: tests/sh/hydrate-loop.sh, hydrate-file.sh.)
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/loop.sh"
need_root
need_tools losetup mkfs.ext4

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	mountpoint -q "$mnt" && umount "$mnt"
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock
. "$top_srcdir/tests/lib/state.sh"
SIZE=67108864

# Random bytes under the file system, so that any block written shows.
img=$tmp/vol.img
head -c $SIZE /dev/urandom >"$img"
mkfs.ext4 -q -F -E nodiscard -b 4096 "$img"
loop_attach "$img" || skip_all "cannot attach a loop device"
mount "$dev" "$mnt"
mkdir "$mnt/models"
for m in a b; do head -c 8M /dev/urandom >"$mnt/models/$m.safetensors"; done
head -c 16M /dev/urandom >"$mnt/other"
umount "$mnt"
loop_detach "$dev"
sum_img=$(sha256sum <"$img")
file=$tmp/file.img
head -c $SIZE /dev/urandom >"$file"
sum_file=$(sha256sum <"$file")

loop_attach --direct-io=on "$img" || skip_all "cannot attach a loop device"
rw=$dev
ok "the loop device is writable" [ "$(cat "/sys/class/block/${rw#/dev/}/ro")" = 0 ]
mount -o ro,noload "$rw" "$mnt"
sum_dev=$(sha256sum <"$rw")

# sysfs stat field 7: sectors written.
written() {
	awk '{ print $7 }' "/sys/class/block/${rw#/dev/}/stat"
}
# untouched WHAT: nothing was written to the loop device or its image since
# the last call (each way of reading is judged on its own). A write left in
# the device's page cache is flushed first, so it shows.
untouched() {
	local now

	blockdev --flushbufs "$rw"
	now=$(written)
	is "$1: the device counted no sector written" "$now" "$w0"
	w0=$now
	now=$(sha256sum <"$rw")
	is "$1: the device's bytes are unchanged" "$now" "$sum_dev"
	sum_dev=$now
	now=$(sha256sum <"$img")
	is "$1: the image is unchanged" "$now" "$sum_img"
	sum_img=$now
}

# stop_and_resume TARGET WHAT: a paced run stopped by SIGTERM once it has
# saved progress, then --resume reads the rest.
stop_and_resume() {
	rm -rf "$BLKHYDRATE_STATE_DIR"
	"$BLKHYDRATE" hydrate --json --progress=never -r 8M "$1" >"$tmp/stop.json" 2>"$tmp/stop.err" &
	pid=$!
	wait_for has_state
	kill -TERM "$pid"
	wait "$pid"
	is "$2: stopped by SIGTERM, exit status 3" "$?" 3
	pid=
	saved=$(state_bytes "$(state_file)")
	ok "$2: progress saved for part of it ($saved bytes)" test "$saved" -gt 0 -a "$saved" -lt $SIZE
	"$BLKHYDRATE" hydrate --resume --json --progress=never "$1" >"$tmp/resume.json" 2>"$tmp/resume.err"
	is "$2: --resume exits 0" "$?" 0
	ok "$2: it says it resumes" grep -q "resuming: .* read before" "$tmp/resume.err"
	is "$2: it reads what was left" "$(json_get "$tmp/resume.json" bytes)" $((SIZE - saved))
}

w0=$(written)
"$BLKHYDRATE" hydrate --used --json --progress=never "$rw" >"$tmp/used.json" 2>"$tmp/err"
is "--used: exit 0" "$?" 0
is "--used: by the file system's use" "$(grep -o '"mode":"[a-z]*"' "$tmp/used.json")" '"mode":"used"'
untouched "--used"

"$BLKHYDRATE" hydrate --only-priority --json --progress=never -p "$mnt/models/*.safetensors" "$rw" \
	>"$tmp/prio.json" 2>"$tmp/err"
is "priority files: exit 0" "$?" 0
ok "priority files: their extents were read ($(json_get "$tmp/prio.json" priority_bytes) bytes)" \
	[ "$(json_get "$tmp/prio.json" priority_bytes)" -ge $((16 << 20)) ]
untouched "priority files"

stop_and_resume "$rw" "--resume, loop device"
untouched "--resume, loop device"

stop_and_resume "$file" "--resume, regular file"
is "--resume, regular file: the file is unchanged" "$(sha256sum <"$file")" "$sum_file"
tap_done
