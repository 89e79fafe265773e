#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: --used on xfs and btrfs, each on a simulated lazy volume filled
# with random bytes first (free space holds snapshot data). On xfs
# (GETFSMAP) no chunk that xfs_db's free-space btrees call free (not our own
# GETFSMAP) is fetched, every chunk holding used blocks is, and the bytes
# read are the device less xfs_db's free space. On btrfs (no GETFSMAP) the
# run says it reads the file system whole and does: every chunk is fetched,
# once. The images never change.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"
command -v python3 >/dev/null || skip_all "python3 not found"

# comm(1) wants its input sorted as text, in one collation.
export LC_ALL=C
simvol_workdir
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock
CHUNK=524288
SIZE=$((320 << 20))

# make_fs FS IMG MKFS_ARGS...: random bytes, a file system, files written and
# some deleted again (free space that still holds old data).
make_fs() {
	local fs=$1 img=$2 i
	shift 2
	head -c $SIZE /dev/urandom >"$img"
	"mkfs.$fs" "$@" "$img" >/dev/null 2>&1 || return 1
	rw=$(losetup -f --show "$img") || return 1
	mount "$rw" "$mnt" || return 1
	mkdir "$mnt/usr"
	for i in 1 2 3 4 5 6; do head -c 24M /dev/urandom >"$mnt/usr/f-$i"; sync; done
	rm "$mnt/usr/f-2" "$mnt/usr/f-5"
	umount "$mnt"
	losetup -d "$rw"
	rw=
}

# Chunks (of CHUNK bytes) the simulator fetched after record line $1.
fetched_after() {
	simvol_chunks | awk -v n="$1" 'NR > n { print $2 }' | sort -u
}

# --- xfs: GETFSMAP -------------------------------------------------------------
if ! command -v mkfs.xfs >/dev/null || ! command -v xfs_db >/dev/null; then
	skip "xfs" "mkfs.xfs or xfs_db not found"
elif ! make_fs xfs "$tmp/xfs.img" -q -f -K; then
	tap_result 1 "xfs: the file system is made"
else
	img=$tmp/xfs.img
	sum=$(sha256sum <"$img")
	# Free extents per xfs_db (the on-disk free-space btree), as device
	# bytes, less the blocks on each AG's free list (AGFL): freesp counts
	# them, GETFSMAP calls them the AG's own metadata, and they are read.
	agblocks=$(xfs_db -r -c 'sb 0' -c 'p agblocks' "$img" | awk '{ print $3 }')
	agcount=$(xfs_db -r -c 'sb 0' -c 'p agcount' "$img" | awk '{ print $3 }')
	bsize=$(xfs_db -r -c 'sb 0' -c 'p blocksize' "$img" | awk '{ print $3 }')
	for ((a = 0; a < agcount; a++)); do
		xfs_db -r -c "agfl $a" -c 'p bno' "$img" |
			tr ' ' '\n' | awk -F: -v a=$a '$2 ~ /^[0-9]+$/ { print a, $2 }'
	done >"$tmp/xfs-agfl"
	xfs_db -r -c 'freesp -d' "$img" |
		awk -v ag="$agblocks" -v bs="$bsize" '
			FNR == NR { fl[$1 " " $2] = 1; next }
			$1 == "agno" { on = 1; next }
			$1 == "from" { on = 0 }
			on && NF == 3 {
				for (b = $2; b < $2 + $3; b++)
					if (!((($1 " " b) in fl)))
						print ($1 * ag + b) * bs, bs
			}' "$tmp/xfs-agfl" - >"$tmp/xfs-free"
	ok "xfs: the AG free lists hold blocks ($(wc -l <"$tmp/xfs-agfl"))" [ -s "$tmp/xfs-agfl" ]
	free_bytes=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/xfs-free")
	ok "xfs: xfs_db finds free space ($free_bytes bytes)" [ "$free_bytes" -gt $((40 << 20)) ]
	# Chunks entirely free, and chunks holding a used block.
	python3 - "$tmp/xfs-free" $SIZE $CHUNK "$tmp/xfs-freechunks" "$tmp/xfs-usedchunks" <<'PY'
import sys
size, chunk = int(sys.argv[2]), int(sys.argv[3])
free = [0] * (size // chunk)
for line in open(sys.argv[1]):
    off, ln = map(int, line.split())
    for c in range(off // chunk, (off + ln - 1) // chunk + 1):
        free[c] += min(off + ln, (c + 1) * chunk) - max(off, c * chunk)
open(sys.argv[4], "w").write("".join("%d\n" % c for c, f in enumerate(free) if f == chunk))
open(sys.argv[5], "w").write("".join("%d\n" % c for c, f in enumerate(free) if f < chunk))
PY
	ok "xfs: some chunks are wholly free ($(wc -l <"$tmp/xfs-freechunks"))" \
		[ "$(wc -l <"$tmp/xfs-freechunks")" -ge 64 ]
	if simvol_start "$img" --latency 1 --concurrency 16 --bandwidth 0 &&
	   mount -o ro,norecovery "$SIMVOL_DEV" "$mnt"; then
		before=$(simvol_chunks | wc -l)
		"$BLKHYDRATE" hydrate --json --progress=never --used "$SIMVOL_DEV" \
			>"$tmp/xfs.json" 2>"$tmp/xfs.err"
		is "xfs: hydrate --used exits 0" "$?" 0
		is "xfs: JSON mode used" "$(json_get "$tmp/xfs.json" mode)" used
		ok "xfs: no note that GETFSMAP is missing" \
			bash -c '! grep -q "GETFSMAP" "$1"' _ "$tmp/xfs.err"
		is "xfs: bytes read are the device less xfs_db's free space" \
			"$(json_get "$tmp/xfs.json" bytes)" $((SIZE - free_bytes))
		fetched_after "$before" >"$tmp/xfs-fetched"
		simvol_chunks | awk '{ print $2 }' | sort -u >"$tmp/xfs-all"
		is "xfs: no wholly free chunk was fetched" \
			"$(comm -12 "$tmp/xfs-fetched" <(sort -u "$tmp/xfs-freechunks") | wc -l)" 0
		is "xfs: every chunk holding used blocks was fetched" \
			"$(comm -23 <(sort -u "$tmp/xfs-usedchunks") "$tmp/xfs-all" | wc -l)" 0
		umount "$mnt"
	else
		tap_result 1 "xfs: the simulated volume starts and mounts"
	fi
	simvol_stop
	is "xfs: the image is unchanged" "$(sha256sum <"$img")" "$sum"
fi

# --- btrfs: no GETFSMAP, read whole --------------------------------------------
if ! command -v mkfs.btrfs >/dev/null; then
	skip "btrfs" "mkfs.btrfs not found"
elif ! make_fs btrfs "$tmp/btrfs.img" -q -f -K; then
	tap_result 1 "btrfs: the file system is made"
else
	img=$tmp/btrfs.img
	sum=$(sha256sum <"$img")
	# btrfs's own account: it has unallocated or unused space that GETFSMAP
	# would have let us skip, so reading it whole is the fallback, not a
	# coincidence of a full file system.
	if command -v btrfs >/dev/null; then
		unalloc=$(btrfs inspect-internal dump-super "$img" |
			awk '$1 == "total_bytes" { t = $2 } $1 == "bytes_used" { u = $2 } END { print t - u }')
		ok "btrfs: dump-super shows space not in use ($unalloc bytes)" [ "${unalloc:-0}" -gt $((40 << 20)) ]
	fi
	if simvol_start "$img" --latency 1 --concurrency 16 --bandwidth 0 &&
	   mount -o ro "$SIMVOL_DEV" "$mnt"; then
		"$BLKHYDRATE" hydrate --json --progress=never --used "$SIMVOL_DEV" \
			>"$tmp/btrfs.json" 2>"$tmp/btrfs.err"
		is "btrfs: hydrate --used exits 0" "$?" 0
		ok "btrfs: it says there is no GETFSMAP and reads it whole" \
			grep -qx -- "blkhydrate: --used: no file system with GETFSMAP is mounted from $SIMVOL_DEV: reading it whole" "$tmp/btrfs.err"
		is "btrfs: bytes read are the whole device" "$(json_get "$tmp/btrfs.json" bytes)" $SIZE
		is "btrfs: every chunk is warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
		is "btrfs: each data chunk was fetched once" "$(simvol_stat fetches)" "$(simvol_stat data_chunks)"
		umount "$mnt"
	else
		tap_result 1 "btrfs: the simulated volume starts and mounts"
	fi
	simvol_stop
	is "btrfs: the image is unchanged" "$(sha256sum <"$img")" "$sum"
fi
tap_done
