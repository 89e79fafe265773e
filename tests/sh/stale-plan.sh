#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a saved plan gone stale. The plan of four files is saved
# ("plan --save"); then one file is rewritten (a new copy renamed over it),
# one truncated, one deleted, one left alone. The volume, a simulated lazy
# volume with 4 KiB chunks (one chunk per file system block), is hydrated
# with --attach while its file system is mounted: the run says which files
# changed or went, and the simulator's record shows every block where the
# files live now (by filefrag after the changes, not by our plan) fetched
# before any of the blocks they left (by filefrag before) and before the
# rest. With the file system not mounted the saved places are all there is:
# they are read first. The image never changes.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
need_tools mkfs.ext4 filefrag python3

tags="python3 $top_srcdir/tests/lib/blocktags.py"
# comm(1) wants its input sorted as text, in one collation.
export LC_ALL=C
simvol_workdir
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock BLKHYDRATE_RUN_DIR=$tmp/run
export BLKHYDRATE_CONFIG=$tmp/blkhydrate.conf
: >"$BLKHYDRATE_CONFIG"

# blocks FILE: the file system blocks (4 KiB) holding FILE, one a line, per filefrag.
blocks() {
	filefrag -e -b4096 "$1" | awk -F: '$1 ~ /^ *[0-9]+$/ {
		split($3, p, /\.\./); for (b = p[1] + 0; b <= p[2] + 0; b++) print b }' | sort -u
}

simvol_ext4_random 64M || bail "cannot make the ext4 volume"
mkdir "$mnt/models"
head -c 8M /dev/urandom >"$mnt/filler"
for f in keep rewrite trunc gone; do $tags write "$mnt/models/$f.bin" 256; done
sync
for f in keep rewrite trunc gone; do blocks "$mnt/models/$f.bin" >"$tmp/$f.before"; done
"$BLKHYDRATE" plan --save --priority "$mnt/models" "$rw" >/dev/null 2>"$tmp/save.err"
is "plan --save exits 0" "$?" 0
uuid=$(blkid -o value -s UUID "$img")
ok "the plan is saved" [ -s "$BLKHYDRATE_STATE_DIR/plans/$uuid.plan" ]

# The changes after the plan was saved.
$tags write "$mnt/models/rewrite.new" 256
mv "$mnt/models/rewrite.new" "$mnt/models/rewrite.bin"
truncate -s $((64 * 4096)) "$mnt/models/trunc.bin"
rm "$mnt/models/gone.bin"
sync
for f in keep rewrite trunc; do blocks "$mnt/models/$f.bin" >"$tmp/$f.after"; done
: >"$tmp/gone.after"
is "the rewritten file lives elsewhere now" \
	"$(comm -12 "$tmp/rewrite.before" "$tmp/rewrite.after" | wc -l)" 0
is "the truncated file keeps 64 of its blocks" "$(wc -l <"$tmp/trunc.after")" 64
umount "$mnt"
losetup -d "$rw"
rw=
sum=$(sha256sum <"$img")
# Blocks where the files live now, and blocks they left (and no file holds).
cat "$tmp"/*.after | sort -u >"$tmp/now"
cat "$tmp"/*.before | sort -u | comm -23 - "$tmp/now" >"$tmp/left"
ok "the changes left blocks behind ($(wc -l <"$tmp/left"))" [ "$(wc -l <"$tmp/left")" -ge 576 ]

# hydrate NAME: --attach on the simulated volume; NAME.order: "POSITION
# BLOCK" for each block (= chunk) it had the simulator fetch, in order;
# NAME.fetched: the blocks warm afterwards.
hydrate() {
	local before
	before=$(simvol_chunks | wc -l)
	"$BLKHYDRATE" hydrate --attach --json --progress=never --read-mode full "$SIMVOL_DEV" \
		>"$tmp/$1.json" 2>"$tmp/$1.err"
	rc=$?
	simvol_chunks | awk -v n="$before" 'NR > n { print NR - n, $2 }' >"$tmp/$1.order"
	# Fetched at all, by this run or (say, a probe) before it.
	simvol_chunks | awk '{ print $2 }' | sort -u >"$tmp/$1.fetched"
}

# first_last NAME BLOCKS: "FIRST LAST", the first and last fetch positions of BLOCKS.
first_last() {
	awk 'FNR == NR { want[$1] = 1; next } ($2 in want) {
		if (!f || $1 < f) f = $1; if ($1 > l) l = $1 } END { print f + 0, l + 0 }' \
		"$2" "$tmp/$1.order"
}

# 1. Mounted: the files are read where they live now.
simvol_start "$img" --latency 0 --chunk-size 4K --bandwidth 0 || skip_all "cannot start the simulator"
mount -o ro,noload "$SIMVOL_DEV" "$mnt" || skip_all "cannot mount the simulated volume"
hydrate mounted
is "mounted: exit status 0" "$rc" 0
ok "mounted: it uses the saved plan" grep -q "using the saved plan for UUID $uuid" "$tmp/mounted.err"
ok "mounted: it says the rewritten file changed" \
	grep -qx "blkhydrate: saved plan: $mnt/models/rewrite.bin has changed since the plan was saved: reading it where it now lives" "$tmp/mounted.err"
ok "mounted: it says the truncated file changed" \
	grep -q "saved plan: $mnt/models/trunc.bin has changed since the plan was saved" "$tmp/mounted.err"
ok "mounted: it says the deleted file is gone" \
	grep -qx "blkhydrate: saved plan: $mnt/models/gone.bin is gone since the plan was saved: not read first" "$tmp/mounted.err"
ok "mounted: nothing said of the file left alone" bash -c '! grep -q "keep.bin" "$1"' _ "$tmp/mounted.err"
read -r left_first _ <<<"$(first_last mounted "$tmp/left")"
ok "mounted: the blocks the files left were fetched (in the rest, at $left_first)" [ "$left_first" -gt 0 ]
# Warm before any block they left: fetched by this run before it, or before the run.
{ awk -v l="$left_first" '$1 < l { print $2 }' "$tmp/mounted.order"
  awk '{ print $2 }' "$tmp/mounted.order" | sort -u | comm -13 - "$tmp/mounted.fetched"; } |
	sort -u >"$tmp/early"
for f in keep rewrite trunc; do
	is "mounted: every block where $f.bin lives now came before any block the files left" \
		"$(comm -23 "$tmp/$f.after" "$tmp/early" | wc -l)" 0
done
is "mounted: priority_bytes are the files as they are now" \
	"$(json_get "$tmp/mounted.json" priority_bytes)" $(($(wc -l <"$tmp/now") * 4096))
umount "$mnt"
simvol_stop

# 2. Not mounted: nothing tells the plan is stale; its saved places are read.
# The first run recorded the volume as hydrated: forget that.
rm -rf "$BLKHYDRATE_STATE_DIR/ledger"
simvol_start "$img" --latency 0 --chunk-size 4K --bandwidth 0 || skip_all "cannot restart the simulator"
hydrate unmounted
ok "not mounted: it uses the saved plan" grep -q "using the saved plan for UUID $uuid" "$tmp/unmounted.err"
is "not mounted: exit status 0" "$rc" 0
ok "not mounted: nothing said of changes" bash -c '! grep -q "since the plan was saved" "$1"' _ "$tmp/unmounted.err"
cat "$tmp"/*.before | sort -u >"$tmp/saved"
read -r _ saved_last <<<"$(first_last unmounted "$tmp/saved")"
read -r new_first _ <<<"$(first_last unmounted "$tmp/rewrite.after")"
ok "not mounted: the saved places were read first, before where the rewritten file lives now (last $saved_last, first $new_first)" \
	[ "$saved_last" -gt 0 -a "$saved_last" -lt "$new_first" ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum"
tap_done
