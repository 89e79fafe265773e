#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: priority extents on real file systems. On ext4, xfs and btrfs
# (each on a loop device) and on ext4 in the second partition of a
# partitioned image, files written in pieces, a sparse file, an empty file
# and a file still in the page cache (delayed allocation) are planned; every
# 4 KiB block of each file carries a tag naming it, and reading the device at
# the planned ranges must find every tag (an oracle that does not ask
# FIEMAP). On btrfs the planned offsets must differ from FIEMAP's btrfs
# logical addresses. A file on tmpfs (no FIEMAP) and a file on another
# device are refused with a clear reason and plan exits 6. Preallocated
# (unwritten) extents plan nothing; on btrfs an inline file is read through
# the file and reflinked copies are the same blocks, read once. Hydrating with
# --only-priority reads exactly the planned bytes and the image is unchanged.
. "$(dirname "$0")/../lib/tap.sh"
need_root
need_tools python3 losetup

. "$top_srcdir/tests/lib/loop.sh"
tags="python3 $top_srcdir/tests/lib/blocktags.py"
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	mountpoint -q "$tmp/shm" && umount "$tmp/shm"
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT


# Files on the mounted file system: two written in interleaved pieces with
# a sync between pieces (fragmented), one sparse, one empty.
make_files() {
	local piece f i
	mkdir -p "$mnt/models/sub"
	# Fill btrfs's first data chunk (8 MiB, mapped at logical == physical) in
	# small pieces, so the files land in chunks where the two differ.
	for i in $(seq 12); do
		head -c 1M /dev/urandom >>"$mnt/filler"
		sync
	done
	for piece in 1 2 3 4; do
		for f in models/a.bin models/sub/b.bin other.bin; do
			$tags write "$mnt/$f" 128 --append
		done
	done
	truncate -s 8M "$mnt/models/sparse.bin"
	$tags write "$mnt/models/sparse.bin" 64 --append
	: >"$mnt/models/empty.bin"
	fallocate -l 2M "$mnt/models/prealloc.bin"
}

# file_field PLAN NAME FIELD: FIELD of the planned file whose path ends in NAME.
file_field() {
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(*[f[sys.argv[3]] for c in p["classes"] for f in c["files"] if f["path"].endswith(sys.argv[2])])' "$@"
}

# check_tags LABEL DEVICE PLAN: every tagged block of every planned file is
# found at its planned ranges, and nothing much beyond them is planned.
check_tags() {
	local label=$1 bad
	blockdev --flushbufs "$2"
	$tags check "$2" "$3" >"$tmp/tags" || { tap_result 1 "$label: tag check ran"; return; }
	bad=$(awk '$2 != $3 || $4 > 65536 { print }' "$tmp/tags")
	is "$label: every block of every file found at its planned ranges ($(wc -l <"$tmp/tags") files)" "$bad" ""
}

# The planned priority files with more than one extent.
fragmented() {
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(sum(1 for c in p["classes"] for f in c["files"] if f["extents"] > 1))' "$1"
}

fs_case() {
	local fs=$1 ro_opts=$2 size=$3 img=$tmp/$1.img rw rw_opts sum ro planned bytes
	shift 3
	if ! command -v "mkfs.$fs" >/dev/null; then
		skip "$fs" "mkfs.$fs not found"
		return
	fi
	truncate -s "$size" "$img"
	"mkfs.$fs" "$@" "$img" >/dev/null 2>&1 || { tap_result 1 "$fs: mkfs"; return; }
	loop_attach "$img" || { tap_result 1 "$fs: attach"; return; }
	rw=$dev
	# xfs grows speculative preallocation past EOF for a file appended to
	# again and again, and may keep it on close: interleaved pieces then
	# land in one extent. allocsize keeps it to a block.
	rw_opts=defaults
	[ "$fs" != xfs ] || rw_opts=allocsize=4k
	if ! mount -o "$rw_opts" "$rw" "$mnt" 2>"$tmp/err"; then
		tap_result 1 "$fs: mount ($(head -1 "$tmp/err"))"
		return
	fi
	make_files
	if [ "$fs" = btrfs ]; then
		head -c 100 /dev/urandom >"$mnt/tiny.bin"
		cp --reflink=always "$mnt/models/a.bin" "$mnt/clone.bin"
		cp --reflink=always "$mnt/models/a.bin" "$mnt/clone2.bin"
	fi
	# Still in the page cache: FIEMAP_FLAG_SYNC must give it a place first.
	$tags write "$mnt/models/fresh.bin" 256 --nosync
	"$BLKHYDRATE" plan --json -p "$mnt/models/fresh.bin" "$rw" >"$tmp/fresh.json" 2>"$tmp/err"
	is "$fs: plan of a file being written exits 0" "$?" 0
	check_tags "$fs (delayed allocation)" "$rw" "$tmp/fresh.json"
	umount "$mnt"
	loop_detach "$rw"

	sum=$(sha256sum <"$img")
	loop_attach -r --direct-io=on "$img"
	ro=$dev
	mount -o "$ro_opts" "$ro" "$mnt" || { tap_result 1 "$fs: read-only mount"; return; }
	extra=()
	[ "$fs" != btrfs ] || extra=(-p "$mnt/tiny.bin" -p "$mnt/clone*.bin")
	"$BLKHYDRATE" plan --json -p "$mnt/models/**/*.bin" -p "$mnt/other.bin" "${extra[@]}" "$ro" \
		>"$tmp/plan.json" 2>"$tmp/err"
	is "$fs: plan exits 0" "$?" 0
	check_tags "$fs" "$ro" "$tmp/plan.json"
	ok "$fs: files written in pieces have several extents ($(fragmented "$tmp/plan.json"))" \
		[ "$(fragmented "$tmp/plan.json")" -ge 2 ]
	is "$fs: the empty file plans no bytes" "$(file_field "$tmp/plan.json" empty.bin bytes)" 0
	is "$fs: a preallocated file plans no bytes" "$(file_field "$tmp/plan.json" prealloc.bin bytes)" 0
	ok "$fs: ... its extents are counted unwritten" \
		[ "$(file_field "$tmp/plan.json" prealloc.bin unwritten)" -ge 1 ]
	ok "$fs: the sparse file plans its data, not its hole" python3 -c '
import json, sys
f = [f for c in json.load(open(sys.argv[1]))["classes"] for f in c["files"] if f["path"].endswith("sparse.bin")][0]
sys.exit(not (64 * 4096 <= f["bytes"] <= 64 * 4096 + 65536))' "$tmp/plan.json"
	if [ "$fs" = btrfs ]; then
		ok "btrfs: a small file stored inline is read through the file" \
			[ "$(file_field "$tmp/plan.json" tiny.bin through_file)" -ge 1 ]
		is "btrfs: ... and plans no device bytes" "$(file_field "$tmp/plan.json" tiny.bin bytes)" 0
		ok "btrfs: a reflinked copy's extents are shared" \
			[ "$(file_field "$tmp/plan.json" /clone.bin shared)" -ge 1 ]
		ok "btrfs: ... two copies are the same blocks, and a class that follows the original reads none of them" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
files = {f["path"].rsplit("/", 1)[1]: f for c in p["classes"] for f in c["files"]}
blocks = lambda f: {(o + i) for o, l in f["ranges"] for i in range(0, l, 4096)}
same = blocks(files["clone.bin"]) == blocks(files["clone2.bin"]) == blocks(files["a.bin"])
ph = [ph for ph in p["targets"][0]["phases"] if ph["kind"] == "priority" and ph["pattern"].endswith("clone*.bin")]
sys.exit(not (same and files["a.bin"]["bytes"] > 0 and ph and ph[0]["bytes"] == 0))' "$tmp/plan.json"
		# FIEMAP's own answer (btrfs logical addresses) against the plan's.
		ok "btrfs: planned offsets are device offsets, not FIEMAP's logical ones" python3 -c '
import json, re, subprocess, sys
p = json.load(open(sys.argv[1]))
f = [f for c in p["classes"] for f in c["files"] if f["path"].endswith("a.bin")][0]
out = subprocess.run(["filefrag", "-v", "-b4096", f["path"]], capture_output=True, text=True).stdout
logical = {int(m.group(1)) * 4096 for m in re.finditer(r"^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.", out, re.M)}
planned = {off for off, _ in f["ranges"]}
sys.exit(not logical or bool(logical & planned))' "$tmp/plan.json"
	fi
	planned=$(python3 -c 'import json,sys; print(sum(p["bytes"] for p in json.load(open(sys.argv[1]))["targets"][0]["phases"] if p["kind"] == "priority"))' "$tmp/plan.json")
	"$BLKHYDRATE" hydrate --json --progress=never --only-priority \
		-p "$mnt/models/**/*.bin" -p "$mnt/other.bin" "$ro" >"$tmp/hyd.json" 2>"$tmp/err"
	is "$fs: hydrate --only-priority exits 0" "$?" 0
	bytes=$(json_get "$tmp/hyd.json" bytes)
	is "$fs: hydrate --only-priority read the planned bytes" "$bytes" "$planned"
	is "$fs: priority_bytes is all of it" "$(json_get "$tmp/hyd.json" priority_bytes)" "$planned"
	umount "$mnt"
	loop_detach "$ro"
	is "$fs: the image is unchanged" "$(sha256sum <"$img")" "$sum"
}

fs_case ext4 ro,noload 320M -q -F -b 4096 -E nodiscard
fs_case xfs ro,norecovery 320M -q -f
fs_case btrfs ro 320M -q -f

# Another device, the target for files that are not on it.
loop_attach -r "$tmp/ext4.img"
other=$dev

# ext4 in the second partition of a partitioned image: the planned ranges
# are offsets of the whole disk (the partition's start added).
if command -v sfdisk >/dev/null; then
	img=$tmp/part.img
	truncate -s 400M "$img"
	printf 'label: gpt\nsize=64M\nsize=+\n' | sfdisk -q "$img" >/dev/null
	loop_attach -P "$img"
	disk=$dev part=${dev}p2
	loop_wait_part "$disk" 2 || diag "no partition device for $disk"
	mkfs.ext4 -q -F -E nodiscard "$part" && mount "$part" "$mnt"
	make_files
	umount "$mnt"
	loop_detach "$disk"
	sum=$(sha256sum <"$img")
	loop_attach -r -P --direct-io=on "$img"
	disk=$dev part=${dev}p2
	loop_wait_part "$disk" 2 || diag "no partition device for $disk"
	mount -o ro,noload "$part" "$mnt"
	start=$(($(cat "/sys/class/block/$(basename "$part")/start") * 512))
	"$BLKHYDRATE" plan --json -p "$mnt/models/**/*.bin" "$disk" >"$tmp/plan.json" 2>"$tmp/err"
	is "partition 2: plan on the whole disk exits 0" "$?" 0
	check_tags "partition 2, whole-disk target" "$disk" "$tmp/plan.json"
	ok "partition 2: planned ranges start past the partition's start ($start)" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
offs = [r[0] for c in p["classes"] for f in c["files"] for r in f["ranges"]]
sys.exit(not offs or min(offs) < int(sys.argv[2]))' "$tmp/plan.json" "$start"
	"$BLKHYDRATE" plan --json -p "$mnt/models/**/*.bin" "$part" >"$tmp/plan-part.json" 2>"$tmp/err"
	is "partition 2: plan on the partition itself exits 0" "$?" 0
	check_tags "partition 2, partition target" "$part" "$tmp/plan-part.json"

	# A file on another device than the target: refused, naming both.
	"$BLKHYDRATE" plan -p "$mnt/models/a.bin" "$other" >/dev/null 2>"$tmp/err"
	is "file on another device: plan exits 6" "$?" 6
	ok "file on another device: the reason names both devices ($(head -1 "$tmp/err"))" \
		grep -q "$(basename "$part").*not on the target $other" "$tmp/err"
	"$BLKHYDRATE" hydrate --progress=never --only-priority -p "$mnt/models/a.bin" "$other" \
		>/dev/null 2>"$tmp/err"
	ok "file on another device: hydrate --only-priority reads nothing of it" \
		grep -q 'not on the target' "$tmp/err"
	umount "$mnt"
	loop_detach "$disk"
	is "partitioned image is unchanged" "$(sha256sum <"$img")" "$sum"
else
	skip "partitioned image" "sfdisk not found"
fi

# tmpfs has no FIEMAP.
mkdir "$tmp/shm"
mount -t tmpfs -o size=8M tmpfs "$tmp/shm"
head -c 1M /dev/urandom >"$tmp/shm/model.bin"
"$BLKHYDRATE" plan -p "$tmp/shm/model.bin" "$other" >/dev/null 2>"$tmp/err"
is "tmpfs file: plan exits 6" "$?" 6
ok "tmpfs file: the reason says there is no FIEMAP ($(head -1 "$tmp/err"))" \
	grep -q "model.bin: .*no FIEMAP" "$tmp/err"
umount "$tmp/shm"
tap_done
