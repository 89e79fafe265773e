#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a target over 2 TiB. A sparse disk image of 2 TiB + 256 MiB
# on a loop device, a GPT partition starting right past 2^32 sectors of
# 512 bytes, ext4 in it, a tagged file written there. The planned ranges are
# the file's blocks (filefrag) plus the partition's start (sysfs), all past
# 2 TiB, and reading the disk there finds every tag; hydrate --only-priority
# reads exactly those bytes. A full run stopped by SIGTERM after the
# priority phase leaves a state file (text) whose "read" ranges hold those
# offsets, and --resume then reads none of them again. The image's data is
# unchanged.
. "$(dirname "$0")/../lib/tap.sh"
need_root
need_tools python3 sfdisk mkfs.ext4 filefrag
. "$top_srcdir/tests/lib/loop.sh"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock
export LC_ALL=C
tags="python3 $top_srcdir/tests/lib/blocktags.py"

TIB2=$((1 << 41))
START=$(((1 << 32) + 2048))	# sectors: right past 2^32
img=$tmp/big.img
truncate -s $((TIB2 + (256 << 20))) "$img" 2>"$tmp/err" ||
	skip_all "no sparse file over 2 TiB here: $(cat "$tmp/err")"
printf 'label: gpt\nstart=%s, size=128MiB\n' $START | sfdisk -q "$img" >/dev/null 2>"$tmp/err" ||
	skip_all "sfdisk failed: $(head -1 "$tmp/err")"
loop_attach -P "$img" || skip_all "no loop device"
disk=$dev part=${dev}p1
loop_wait_part "$disk" 1 || skip_all "no partition device for $disk"
is "the partition starts right past 2^32 sectors" \
	"$(cat "/sys/class/block/$(basename "$part")/start")" $START
mkfs.ext4 -q -F -E nodiscard -b 4096 "$part" && mount "$part" "$mnt" ||
	skip_all "cannot make ext4 on the partition"
head -c 4M /dev/urandom >"$mnt/filler"
$tags write "$mnt/model.bin" 256
sync
umount "$mnt"
loop_detach "$disk"
ok "the image is sparse ($(du -k "$img" | cut -f1) KiB used)" [ "$(du -k "$img" | cut -f1)" -lt 1048576 ]
sum=$(dd if="$img" bs=1M skip=$((TIB2 >> 20)) count=130 status=none | sha256sum)

loop_attach -r -P --direct-io=on "$img"
disk=$dev part=${dev}p1
loop_wait_part "$disk" 1 || diag "no partition device for $disk"
mount -o ro,noload "$part" "$mnt"
pstart=$(($(cat "/sys/class/block/$(basename "$part")/start") * 512))
# The file's byte ranges on the disk, by filefrag and sysfs.
filefrag -e -b4096 "$mnt/model.bin" | awk -F: -v s="$pstart" '$1 ~ /^ *[0-9]+$/ {
	split($3, p, /\.\./); printf "%.0f %.0f\n", s + p[1] * 4096, (p[2] - p[1] + 1) * 4096 }' >"$tmp/extents"
ok "the file's blocks lie past 2 TiB ($(head -1 "$tmp/extents"))" \
	awk -v t=$TIB2 'NF == 2 && $1 > t { n++ } NF == 2 && $1 <= t { bad++ } END { exit !(n && !bad) }' "$tmp/extents"

"$BLKHYDRATE" plan --json -p "$mnt/model.bin" "$disk" >"$tmp/plan.json" 2>"$tmp/err"
is "plan exits 0" "$?" 0
is "the planned ranges are the file's blocks on the disk" \
	"$(python3 -c 'import json,sys; [print(o, l) for c in json.load(open(sys.argv[1]))["classes"] for f in c["files"] for o, l in f["ranges"]]' "$tmp/plan.json")" \
	"$(cat "$tmp/extents")"
blockdev --flushbufs "$disk"
is "reading the disk at the planned ranges finds every tag" \
	"$($tags check "$disk" "$tmp/plan.json" | awk '{ print $2, $3 }')" "256 256"

"$BLKHYDRATE" hydrate --json --progress=never --only-priority -p "$mnt/model.bin" "$disk" \
	>"$tmp/only.json" 2>"$tmp/err"
is "hydrate --only-priority exits 0" "$?" 0
is "it read the file's bytes" "$(json_get "$tmp/only.json" bytes)" $((256 * 4096))

# A full run, slowed, stopped after the priority phase.
"$BLKHYDRATE" hydrate --json --progress=never -r 32M -p "$mnt/model.bin" "$disk" \
	>"$tmp/full.json" 2>"$tmp/full.err" &
pid=$!
wait_for grep -q 'priority files read' "$tmp/full.err"
sleep 0.3
kill -TERM "$pid"
wait "$pid"
is "SIGTERM: exit status 3" "$?" 3
state=$(ls "$BLKHYDRATE_STATE_DIR"/progress/*.state 2>/dev/null | head -n 1)
ok "a state file was left" [ -n "$state" ]
# Every extent of the file lies inside one "read" range of the state file.
is "the state file's read ranges hold the file's offsets past 2 TiB" \
	"$(awk 'FNR == NR { if ($1 == "read") { o[++n] = $2; l[n] = $3 } next }
		{ in_ = 0; for (i = 1; i <= n; i++) if ($1 >= o[i] && $1 + $2 <= o[i] + l[i]) in_ = 1
		  if (!in_) miss++ } END { print miss + 0 }' "$state" "$tmp/extents")" 0
ok "the state file has a read range past 2^32 sectors" \
	awk -v t=$TIB2 '$1 == "read" && $2 > t { f = 1 } END { exit !f }' "$state"
cp "$state" "$tmp/saved.state"
"$BLKHYDRATE" hydrate --resume --json --progress=never --only-priority -p "$mnt/model.bin" "$disk" \
	>"$tmp/resume.json" 2>"$tmp/err"
is "--resume --only-priority exits 0" "$?" 0
is "... and reads nothing of the file again" "$(json_get "$tmp/resume.json" bytes)" 0
umount "$mnt"
loop_detach "$disk"
is "the image's data is unchanged" \
	"$(dd if="$img" bs=1M skip=$((TIB2 >> 20)) count=130 status=none | sha256sum)" "$sum"
tap_done
