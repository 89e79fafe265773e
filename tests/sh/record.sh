#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: record what a reader reads, and read it first next time. On
# ext4, xfs and btrfs loop devices, with the page cache of the file system
# cold (a fresh mount), "blkhydrate record --save" watches while a reader
# cats twenty small files and a model file, reads the first 4 MiB of a
# third file and 2 MiB from the middle of a fourth, opens a fifth for
# nothing, reads a sixth whose pages are then dropped while the recording
# goes on, reads a seventh page by page without read-ahead, leaving out its
# first page, 16 KiB, 512 KiB and its last page, and opens the first again;
# files it never opens are not recorded. Holes of up to 256 KiB in what was
# read are recorded too (the kernel drops pages before a sample sees them),
# the 512 KiB one is not. The saved plan is checked against oracles that do
# not ask FIEMAP: every 4 KiB block of the files carries a tag naming file and
# block (tests/lib/blocktags.py), and the device at the saved extents must
# hold every block the reader read, no block of a file it did not read,
# and of the partly read files little more than their read parts
# (read-ahead), nothing before them;
# on ext4 and xfs filefrag's extents of the read part must lie in the
# saved extents too. The files are saved in the order first opened. Then
# the image is served as a fresh lazy volume (tools/lazysim, 4 KiB chunks)
# and hydrated: every block that holds a read part (by the tags) is fetched
# before any block holding no recorded file's data. On ext4, a file
# rewritten after the recording is said and read where it now lives, one
# cut shorter too (the cut-off end not read first), and one deleted is
# said once and nothing read for it, the rest of the recording still first;
# --recorded after and off put the recording after the priority paths or
# leave it out; plan --save keeps the recording and record --save keeps the
# named classes. The image's bytes never change while it is hydrated.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
. "$top_srcdir/tests/lib/loop.sh"
why=$(simvol_need) || skip_all "$why"
for t in mkfs.ext4 mkfs.xfs mkfs.btrfs filefrag python3; do
	command -v $t >/dev/null || skip_all "$t not found"
done

tags="python3 $top_srcdir/tests/lib/blocktags.py"
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
cleanup() {
	[ -n "${recpid:-}" ] && kill "$recpid" 2>/dev/null
	mountpoint -q "$mnt" && umount "$mnt"
	loop_detach_all
	simvol_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock BLKHYDRATE_RUN_DIR=$tmp/run
export BLKHYDRATE_CONFIG=$tmp/blkhydrate.conf
: >"$BLKHYDRATE_CONFIG"
PART=1024	# blocks of part.bin read: 4 MiB of 16 MiB
MID=2048 MIDLEN=512	# blocks of mid.bin read: 2 MiB from 8 MiB on

# The oracle. "scan IMAGE": "BLOCK NAME INDEX" for every tagged 4 KiB block of
# the image. "saved PLAN": "PATH OFF LEN" for each recorded extent, files in
# the plan's order.
cat >"$tmp/oracle.py" <<'PY'
import sys
cmd = sys.argv[1]
if cmd == "scan":
    with open(sys.argv[2], "rb") as f:
        blk = 0
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            for i in range(0, len(b), 4096):
                if b[i:i + 7] == b"BLKTAG:":
                    end = b.index(b"\n", i)
                    name, idx = b[i + 7:end].decode().rsplit(":", 1)
                    print(blk + i // 4096, name, int(idx))
            blk += len(b) // 4096
elif cmd == "saved":
    rec = False
    for line in open(sys.argv[2]):
        k, _, v = line.rstrip("\n").partition("=")
        if k in ("class", "recorded"):
            rec = k == "recorded"
        elif rec and k == "file":
            path = v
        elif rec and k == "extent":
            off, ln = v.split("+")
            print(path, off, ln)
PY
oracle="python3 $tmp/oracle.py"

# The reader: what a boot does. It reads sys-*.bin and model.bin whole,
# part.bin in part, opens touch.bin without reading it, never opens unread.bin.
# The model first, though it was written after the sys files: the order first
# opened is not the device's order.
reader() {
	local i
	cat "$mnt/model.bin" >/dev/null
	for i in $(seq 20); do cat "$mnt/sys/sys-$i.bin" >/dev/null; done
	dd if="$mnt/part.bin" of=/dev/null bs=64K count=$((PART / 16)) status=none
	dd if="$mnt/mid.bin" of=/dev/null bs=64K skip=$((MID / 16)) count=$((MIDLEN / 16)) status=none
	: <"$mnt/touch.bin"
	# Read, then evicted while the recording goes on: still recorded.
	cat "$mnt/evict.bin" >/dev/null
	sleep 1
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$mnt/evict.bin"
	# Page by page, without read-ahead: holes at blocks 0, 60-63, 300-427, 1023.
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
for b in [*range(1, 60), *range(64, 300), *range(428, 1023)]:
    os.pread(fd, 4096, b * 4096)' "$mnt/hole.bin"
	# Opened again: still one file, where it was first opened.
	cat "$mnt/sys/sys-1.bin" >/dev/null
}

make_files() {
	local i
	mkdir -p "$mnt/sys"
	head -c 6M /dev/urandom >"$mnt/filler"
	for i in $(seq 20); do $tags write "$mnt/sys/sys-$i.bin" 16; done
	$tags write "$mnt/model.bin" 4096
	$tags write "$mnt/part.bin" 4096
	$tags write "$mnt/mid.bin" 4096
	$tags write "$mnt/touch.bin" 256
	$tags write "$mnt/evict.bin" 256
	$tags write "$mnt/hole.bin" 1024
	$tags write "$mnt/unread.bin" 1024
	sync
}

# record_run DEV: record --save while the reader runs; stopped by SIGINT.
record_run() {
	# Emptied here, not by the job's redirection: the job may start after
	# wait_for has read the last case's "recording opens".
	: >"$tmp/rec.err"
	"$BLKHYDRATE" record --save "$1" >"$tmp/rec.out" 2>"$tmp/rec.err" &
	recpid=$!
	wait_for grep -q "recording opens" "$tmp/rec.err"
	reader
	kill -INT "$recpid"
	wait "$recpid"
	rc=$?
	recpid=
}

fs_case() {
	local fs=$1 mopts=$2 size=$3 img uuid plan
	shift 3
	img=$tmp/$fs.img
	truncate -s "$size" "$img"
	mkfs."$fs" "$@" "$img" >/dev/null 2>&1 || { skip "$fs: mkfs failed" 14; return; }
	loop_attach "$img"
	# Read-ahead of 128 KiB, as on an EBS NVMe volume (loop devices here get more).
	blockdev --setra 256 "$dev"
	mount "$dev" "$mnt"
	make_files
	# A fresh mount: nothing of the files is in the page cache.
	umount "$mnt"
	mount "$dev" "$mnt"
	# btrfs has its own read-ahead (at least 4 MiB): 128 KiB too.
	uuid=$(blkid -o value -s UUID "$img")
	[ ! -e "/sys/fs/btrfs/$uuid/bdi/read_ahead_kb" ] || echo 128 >"/sys/fs/btrfs/$uuid/bdi/read_ahead_kb"
	record_run "$dev"
	is "$fs: record exits 0 on SIGINT" "$rc" 0
	plan=$BLKHYDRATE_STATE_DIR/plans/$uuid.plan
	ok "$fs: the recording is saved for UUID $uuid" grep -q "^recorded=" "$plan"
	ok "$fs: record shows the recorded class" grep -q "^  1. recorded: 25 files" "$tmp/rec.out"
	grep -q "^  1. recorded: 25 files" "$tmp/rec.out" || sed 's/^/# /' "$tmp/rec.out" "$tmp/rec.err"

	$oracle saved "$plan" >"$tmp/saved"
	awk '{ print $1 }' "$tmp/saved" | uniq | sed 's|.*/||' >"$tmp/order"
	{ echo model.bin; for i in $(seq 20); do echo "sys-$i.bin"; done; echo part.bin; echo mid.bin; echo evict.bin; echo hole.bin; } >"$tmp/want-order"
	ok "$fs: the files saved are the ones read, in the order first opened" \
		cmp -s "$tmp/order" "$tmp/want-order"
	# What the device holds at the saved extents (whole file system: offsets are device offsets).
	umount "$mnt"
	$oracle scan "$img" >"$tmp/scan"
	mount -o "$mopts" "$dev" "$mnt"
	awk 'FNR == NR { tag[$1] = $2 " " $3; next }
	     { for (b = $2 / 4096; b < ($2 + $3) / 4096; b++) if (b in tag) print tag[b] }' \
		"$tmp/scan" "$tmp/saved" | sort -u >"$tmp/found"
	{ for i in $(seq 20); do for b in $(seq 0 15); do echo "sys-$i.bin $b"; done; done
	  for b in $(seq 0 4095); do echo "model.bin $b"; done
	  for b in $(seq 0 $((PART - 1))); do echo "part.bin $b"; done
	  for b in $(seq $MID $((MID + MIDLEN - 1))); do echo "mid.bin $b"; done
	  for b in $(seq 0 255); do echo "evict.bin $b"; done
	  for b in $(seq 1 59) $(seq 64 299) $(seq 428 1022); do echo "hole.bin $b"; done; } | sort -u >"$tmp/read"
	is "$fs: every block the reader read is at the saved extents" \
		"$(comm -23 "$tmp/read" "$tmp/found" | wc -l)" 0
	comm -23 "$tmp/read" "$tmp/found" | head -5 | sed 's/^/# missing: /'
	small=$(awk '$1 == "hole.bin" && ($2 == 0 || ($2 >= 60 && $2 < 64) || $2 == 1023)' "$tmp/found" | wc -l)
	big=$(awk '$1 == "hole.bin" && $2 >= 300 && $2 < 428' "$tmp/found" | wc -l)
	ok "$fs: of hole.bin, the holes of 4 and 16 KiB are taken ($small of 6 blocks), the 512 KiB one not ($big of 128)" \
		[ "$small" -eq 6 -a "$big" -eq 0 ]
	is "$fs: no block of a file it did not read (touch.bin, unread.bin)" \
		"$(grep -c -e '^touch.bin ' -e '^unread.bin ' "$tmp/found")" 0
	extra=$(awk '$1 == "part.bin" && $2 >= '$PART "$tmp/found" | wc -l)
	ok "$fs: of part.bin, the read part and at most 1 MiB of read-ahead ($extra blocks more)" \
		[ "$extra" -le 256 ]
	# FIEMAP may answer with a whole extent that starts before the bytes asked for (btrfs).
	before=$(awk '$1 == "mid.bin" && $2 < '$MID "$tmp/found" | wc -l)
	extra=$(awk '$1 == "mid.bin" && $2 >= '$((MID + MIDLEN)) "$tmp/found" | wc -l)
	ok "$fs: of mid.bin, nothing before the part read ($before blocks) and at most 1 MiB after ($extra)" \
		[ "$before" -eq 0 -a "$extra" -le 256 ]
	if [ "$fs" != btrfs ]; then
		# filefrag: the device blocks of the read part of part.bin and of model.bin.
		{ filefrag -e -b4096 "$mnt/part.bin" | awk -F'[:. ]+' -v n=$PART '$2 ~ /^[0-9]+$/ && NF > 6 {
			for (l = $3; l <= $4 && l < n; l++) print $5 + l - $3 }'
		  filefrag -e -b4096 "$mnt/model.bin" | awk -F'[:. ]+' '$2 ~ /^[0-9]+$/ && NF > 6 {
			for (l = $3; l <= $4; l++) print $5 + l - $3 }'; } | sort -n >"$tmp/ff"
		awk '{ for (b = $2 / 4096; b < ($2 + $3) / 4096; b++) print b }' "$tmp/saved" | sort -n >"$tmp/savedblocks"
		ok "$fs: filefrag's blocks of the read parts ($(wc -l <"$tmp/ff")) are in the saved extents" \
			bash -c '[ "$(wc -l <"$1")" -ge 5120 ] && [ -z "$(comm -23 <(sort "$1") <(sort "$2"))" ]' _ \
			"$tmp/ff" "$tmp/savedblocks"
	else
		ok "$fs: btrfs offsets were carried to the device (the tags are there)" [ -s "$tmp/found" ]
	fi
	umount "$mnt"
	loop_detach "$dev"

	# Replay on a fresh lazy volume made from the image.
	sum=$(sha256sum <"$img")
	simvol_start "$img" --latency 0 --chunk-size 4K --bandwidth 0 || { skip "$fs: no simulator" 4; return; }
	# hydrate finds the saved plan by the UUID libblkid reads: warm what
	# that probe reads first, so that the engine's reads are all that follow.
	blkid -p -o udev "$SIMVOL_DEV" >/dev/null
	before=$(simvol_chunks | wc -l)
	# Full reads (the order is tested, not the mode): with 4 KiB chunks and no
	# latency the granularity probe of --read-mode auto cannot tell.
	"$BLKHYDRATE" hydrate --json --progress=never --read-mode full "$SIMVOL_DEV" >"$tmp/hyd.json" 2>"$tmp/hyd.err"
	is "$fs: hydrate of the fresh volume exits 0" "$?" 0
	# Blocks that hold a read part, and blocks that hold any data of the recorded files.
	awk 'FNR == NR { want[$0] = 1; next } ($2 " " $3) in want { print $1 }' "$tmp/read" "$tmp/scan" |
		sort -u >"$tmp/read-blocks"
	awk '$2 ~ /^(sys-|model|part|mid|evict|hole)/ { print $1 }' "$tmp/scan" | sort -u >"$tmp/rec-blocks"
	# "POSITION BLOCK" of every fetch, the probe's before hydrate's at positions <= 0.
	simvol_chunks | awk -v n="$before" '{ print NR - n, $2 }' >"$tmp/fetch"
	verdict=$(awk 'FILENAME == ARGV[1] { r[$1] = 1; next } FILENAME == ARGV[2] { q[$1] = 1; next }
		($2 in r) { if ($1 > lastr) lastr = $1; nr++ }
		$1 > 0 && !($2 in q) && !first { first = $1 }
		END { print nr + 0, lastr + 0, first + 0 }' "$tmp/read-blocks" "$tmp/rec-blocks" "$tmp/fetch")
	read -r nread lastread firstother <<<"$verdict"
	ok "$fs: every block read while recording ($nread of $(wc -l <"$tmp/read-blocks")) was fetched before any block holding no recorded data (last at $lastread, first other at $firstother)" \
		[ "$nread" -eq "$(wc -l <"$tmp/read-blocks")" -a "$lastread" -lt "$firstother" ]
	simvol_stop
	replay_order "$fs"
	is "$fs: the image is unchanged" "$(sha256sum <"$img")" "$sum"
}

# replay_order FS: on a fresh volume, two reads at a time, the recording is
# read in the order first opened: the model's blocks before the sys files',
# which lie before it on the device (median fetch positions).
replay_order() {
	local verdict
	simvol_start "$img" --latency 0 --chunk-size 4K --bandwidth 0 || { skip "$1: no simulator" 1; return; }
	blkid -p -o udev "$SIMVOL_DEV" >/dev/null
	before=$(simvol_chunks | wc -l)
	"$BLKHYDRATE" hydrate --progress=never -q -d 2 --read-mode full "$SIMVOL_DEV" 2>"$tmp/ord.err"
	simvol_chunks | awk -v n="$before" 'NR > n { print NR - n, $2 }' >"$tmp/ord.fetch"
	simvol_stop
	# shellcheck disable=SC2016 # awk's own
	verdict=$(awk 'FILENAME == ARGV[1] { kind[$1] = $2 ~ /^sys-/ ? "sys" : $2 == "model.bin" ? "model" : ""; next }
		kind[$2] != "" && !(($2) in seen) { seen[$2] = 1; pos[kind[$2], ++n[kind[$2]]] = $1 }
		END { print pos["model", int((n["model"] + 1) / 2)] + 0, pos["sys", int((n["sys"] + 1) / 2)] + 0, n["model"] + 0, n["sys"] + 0 }' \
		"$tmp/scan" "$tmp/ord.fetch")
	read -r mpos spos nm ns <<<"$verdict"
	ok "$1: replayed in the order first opened: the model's blocks (median fetch $mpos of $nm) before the sys files' ($spos of $ns)" \
		[ "$nm" -gt 0 -a "$ns" -gt 0 -a "$mpos" -lt "$spos" ]
}

for fs in ${RECORD_FS:-ext4 xfs btrfs}; do
	case $fs in
	ext4) fs_case ext4 ro,noload 320M -q -F -b 4096 -E nodiscard ;;
	xfs) fs_case xfs ro,norecovery 320M -q -f ;;
	btrfs) fs_case btrfs ro 320M -q -f ;;
	esac
done

# --- ext4: the recording beside named priority paths, and gone stale -------
case " ${RECORD_FS:-ext4} " in *" ext4 "*) ;; *) tap_done ;; esac
img=$tmp/ext4.img
uuid=$(blkid -o value -s UUID "$img")
plan=$BLKHYDRATE_STATE_DIR/plans/$uuid.plan
loop_attach "$img"
blockdev --setra 256 "$dev"
mount "$dev" "$mnt"
# classes PLAN.json: "recorded" or the pattern of each class, in order, on one line.
classes() {
	python3 -c 'import json, sys
print(" ".join("recorded" if c["recorded"] else c["pattern"] for c in json.load(open(sys.argv[1]))["classes"]))' "$1"
}
"$BLKHYDRATE" plan --json -p "$mnt/unread.bin" "$dev" >"$tmp/p.json"
is "plan: the recording first, then the priority paths" "$(classes "$tmp/p.json")" "recorded $mnt/unread.bin"
"$BLKHYDRATE" plan --json --recorded after -p "$mnt/unread.bin" "$dev" >"$tmp/p.json"
is "plan --recorded after: the priority paths first" "$(classes "$tmp/p.json")" "$mnt/unread.bin recorded"
"$BLKHYDRATE" plan --json --recorded off -p "$mnt/unread.bin" "$dev" >"$tmp/p.json"
is "plan --recorded off: no recording" "$(classes "$tmp/p.json")" "$mnt/unread.bin"
echo "recorded = after" >"$BLKHYDRATE_CONFIG"
"$BLKHYDRATE" plan --json -p "$mnt/unread.bin" "$dev" >"$tmp/p.json"
is "configuration recorded = after: the same" "$(classes "$tmp/p.json")" "$mnt/unread.bin recorded"
: >"$BLKHYDRATE_CONFIG"
"$BLKHYDRATE" plan -p "$mnt/unread.bin" "$dev" >"$tmp/p.txt"
ok "plan shows the recorded class, its files in the order first opened" \
	bash -c 'grep -q "^  1. recorded: 25 files, .* in the order first opened" "$1" &&
		[ "$(grep -o "[a-z]*-*[0-9]*\.bin:" "$1" | head -3 | tr -d "\n")" = "model.bin:sys-1.bin:sys-2.bin:" ]' _ "$tmp/p.txt"
"$BLKHYDRATE" plan --save -p "$mnt/unread.bin" "$dev" >/dev/null 2>&1
ok "plan --save keeps the recording beside its class" \
	bash -c 'grep -q "^recorded=" "$1" && grep -qx "class=$2" "$1"' _ "$plan" "$mnt/unread.bin"
"$BLKHYDRATE" plan --json "$dev" >"$tmp/p.json"
is "without --attach, of the saved plan only the recording is read first" "$(classes "$tmp/p.json")" recorded
umount "$mnt"
mount "$dev" "$mnt"
record_run "$dev"
ok "record --save keeps the named class" \
	bash -c '[ "$3" = 0 ] && grep -q "^recorded=" "$1" && grep -qx "class=$2" "$1"' _ "$plan" "$mnt/unread.bin" "$rc"
# model.bin rewritten after the recording: a new copy renamed over it;
# then part.bin deleted and sys-5.bin cut to its first 8 blocks (after the
# rewrite, so that the new copy cannot take the blocks they leave).
$tags write "$mnt/model.new" 4096
mv "$mnt/model.new" "$mnt/model.bin"
sync
rm "$mnt/part.bin"
truncate -s 32K "$mnt/sys/sys-5.bin"
sync
umount "$mnt"
loop_detach "$dev"
$oracle scan "$img" >"$tmp/scan"
sum=$(sha256sum <"$img")
simvol_start "$img" --latency 0 --chunk-size 4K --bandwidth 0 || skip_all "no simulator"
mount -o ro,noload "$SIMVOL_DEV" "$mnt"
blkid -p -o udev "$SIMVOL_DEV" >/dev/null
before=$(simvol_chunks | wc -l)
"$BLKHYDRATE" hydrate --json --progress=never --read-mode full "$SIMVOL_DEV" >"$tmp/hyd.json" 2>"$tmp/hyd.err"
is "stale: hydrate exits 0" "$?" 0
ok "stale: it says the rewritten file changed" grep -qx \
	"blkhydrate: recorded: $mnt/model.bin has changed since it was recorded: reading it where it now lives" "$tmp/hyd.err"
is "gone: it says once that the deleted file is gone, nothing read for it" \
	"$(grep -cx "blkhydrate: recorded: $mnt/part.bin is gone (deleted since it was recorded): nothing read for it first" "$tmp/hyd.err")" 1
ok "truncated: it says the shortened file changed" grep -qx \
	"blkhydrate: recorded: $mnt/sys/sys-5.bin has changed since it was recorded: reading it where it now lives" "$tmp/hyd.err"
ok "stale: nothing said of the files left alone" \
	bash -c '! grep -v "sys-5.bin" "$1" | grep -q "sys-\|mid.bin\|evict.bin"' _ "$tmp/hyd.err"
simvol_chunks | awk -v n="$before" 'NR > n { print NR - n, $2 }' >"$tmp/fetch"
awk '$2 == "model.new" { print $1 }' "$tmp/scan" | sort -u >"$tmp/new"
awk '$2 == "model.bin" { print $1 }' "$tmp/scan" | sort -u >"$tmp/old"
# Mounted, the file system's own metadata is read while planning: compare
# with the data of the files not recorded instead.
awk '$2 ~ /^(touch|unread)/ { print $1 }' "$tmp/scan" | sort -u >"$tmp/other-blocks"
verdict=$(awk 'FILENAME == ARGV[1] { nw[$1] = 1; next } FILENAME == ARGV[2] { od[$1] = 1; next }
	FILENAME == ARGV[3] { other[$1] = 1; next }
	($2 in nw) { if ($1 > lastnew) lastnew = $1; nnew++ }
	($2 in od) && !firstold { firstold = $1 }
	($2 in other) && !first { first = $1 }
	END { print nnew + 0, lastnew + 0, firstold + 0, first + 0 }' "$tmp/new" "$tmp/old" "$tmp/other-blocks" "$tmp/fetch")
read -r nnew lastnew firstold firstother <<<"$verdict"
ok "stale: the rewritten file, where it now lives ($nnew blocks), came before any block of the files not recorded (last $lastnew, first of those $firstother)" \
	[ "$nnew" -eq 4096 -a "$lastnew" -lt "$firstother" ]
ok "stale: the blocks it left were not read first (first at $firstold)" [ "$firstold" -gt "$lastnew" ]
# The rest of the recording: the blocks read of the files left alone, and
# the 8 blocks sys-5.bin keeps. What part.bin and the cut-off end of
# sys-5.bin held is not read first: after all of the rest, if at all.
awk '$1 != "model.bin" && $1 != "part.bin" && !($1 == "sys-5.bin" && $2 >= 8)' "$tmp/read" >"$tmp/rest-read"
awk 'FNR == NR { want[$0] = 1; next } ($2 " " $3) in want { print $1 }' "$tmp/rest-read" "$tmp/scan" |
	sort -u >"$tmp/rest"
awk '$2 == "part.bin" || ($2 == "sys-5.bin" && $3 >= 8) { print $1, $2 }' "$tmp/scan" | sort -u >"$tmp/dropped"
verdict=$(awk 'FILENAME == ARGV[1] { r[$1] = 1; next } FILENAME == ARGV[2] { d[$1] = $2; next }
	FILENAME == ARGV[3] { other[$1] = 1; next }
	($2 in r) { if ($1 > lastrest) lastrest = $1; nrest++ }
	($2 in d) && d[$2] == "part.bin" && !firstpart { firstpart = $1 }
	($2 in d) && d[$2] == "sys-5.bin" && !firstcut { firstcut = $1 }
	($2 in other) && !first { first = $1 }
	END { print nrest + 0, lastrest + 0, firstpart + 0, firstcut + 0, first + 0 }' \
	"$tmp/rest" "$tmp/dropped" "$tmp/other-blocks" "$tmp/fetch")
read -r nrest lastrest firstpart firstcut firstother <<<"$verdict"
ok "gone: the rest of the recording ($nrest of $(wc -l <"$tmp/rest") blocks) still came before any block of the files not recorded (last $lastrest, first of those $firstother)" \
	[ "$nrest" -eq "$(wc -l <"$tmp/rest")" -a "$lastrest" -lt "$firstother" ]
ok "gone: nothing of the deleted file was read first (its first block at $firstpart, after $lastrest)" \
	[ "$firstpart" -eq 0 -o "$firstpart" -gt "$lastrest" ]
ok "truncated: what was cut off was not read first (its first block at $firstcut, after $lastrest)" \
	[ "$firstcut" -eq 0 -o "$firstcut" -gt "$lastrest" ]
umount "$mnt"
simvol_stop
is "stale: the image is unchanged" "$(sha256sum <"$img")" "$sum"

# --- the command line ------------------------------------------------------
"$BLKHYDRATE" record --for 1 --until-unit x.service "$img" >/dev/null 2>"$tmp/err"
is "--for with --until-unit: exit 1" "$?" 1
ok "... saying so" grep -q "exclude each other" "$tmp/err"
"$BLKHYDRATE" record --for 1x "$img" >/dev/null 2>"$tmp/err"
is "--for 1x: exit 1" "$?" 1
"$BLKHYDRATE" record --for 1 "$img" >/dev/null 2>"$tmp/err"
is "a disk image: exit 1" "$?" 1
ok "... it is not a block device" grep -q "not a block device" "$tmp/err"
loop_attach "$img"
"$BLKHYDRATE" record --for 1 "$dev" >/dev/null 2>"$tmp/err"
is "nothing of the device mounted: exit 1" "$?" 1
ok "... saying so" grep -q "no file system of it is mounted" "$tmp/err"
mount -o ro,noload "$dev" "$mnt"
t0=$EPOCHREALTIME
"$BLKHYDRATE" record --for 1500ms "$dev" >"$tmp/out" 2>"$tmp/err"
rc=$?
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
ok "--for 1500ms: exit 0 after 1.5 s or a little more ($secs s)" \
	awk -v r="$rc" -v s="$secs" 'BEGIN { exit !(r == 0 && s >= 1.5 && s < 10) }'
if [ -d /run/systemd/system ]; then
	skip "booted with systemd: --until-unit without a bus not tested" 2
else
	"$BLKHYDRATE" record --until-unit x.service "$dev" >/dev/null 2>"$tmp/err"
	is "--until-unit without systemd: exit 4" "$?" 4
	ok "... saying it cannot ask systemd" grep -q "cannot ask systemd" "$tmp/err"
fi
umount "$mnt"
tap_done
