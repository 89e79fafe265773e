#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2034,SC2154 # globals of lib.sh
#
# scale.sh - what plans and state cost as they grow (issue 22), on ext4
# over loop devices, beside the file system's own calls.
#
#   bench/scale.sh [--full] [BUILD_DIR]
#
# Extents: for each N, a fresh ext4 (1 KiB blocks) holding one file of N
# extents of 1 KiB, each followed by a hole in the file and on the device
# (bench/frag.py). Per N: `plan -p FILE DEV`; tools/statmap on the file (a
# bare stat and FIEMAP to its last extent: the file system's own cost);
# `hydrate --only-priority -p FILE DEV`; a resume: the same at a rate that
# takes four seconds, stopped by SIGTERM after a second and a half of
# reading, then `--resume`
# (its set-up: its wall time less its reading, the state file's size, and
# whether the two runs read more than the file: reads twice); and
# `plan --used DEV` with the file system's GETFSMAP records (xfs_io fsmap).
#
# Directories: for each N, a fresh ext4 with N files of 4 KiB in one
# directory: `plan -p 'DIR/*'` and of half of them ('DIR/*[02468]') against
# statmap over the same files, the dentries warm for both.
#
# Each cell is wall seconds or peak RSS MiB (GNU time), one run; the last
# row of each table is the growth exponent fitted over the sizes (least
# squares of log time on log N; 1.0 is linear). Default: 2^15 to 2^18
# extents, 10^4 and 10^5 files; --full: 2^15 to 2^20, 10^4 to 10^6.
# SCALE_EXTENTS and SCALE_FILES (lists of sizes) override.

set -u
set -o pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "$0")" && pwd) || exit 2
srcdir=$(cd "$script_dir/.." && pwd)
# shellcheck source=lib.sh
. "$script_dir/lib.sh"
grid_args scale.sh "$@"

if [ "$full" = 1 ]; then
	extents=${SCALE_EXTENTS:-"32768 65536 131072 262144 524288 1048576"}
	nfiles=${SCALE_FILES:-"10000 100000 1000000"}
else
	extents=${SCALE_EXTENTS:-"32768 65536 131072 262144"}
	nfiles=${SCALE_FILES:-"10000 100000"}
fi

bench_setup "$srcdir" "$build"
cp "$build/tools/statmap" "$work/bin/statmap" || die "tools/statmap not built"
STATMAP=$work/bin/statmap
for c in mkfs.ext4 xfs_io python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is needed"
done
export BLKHYDRATE_STATE_DIR=$work/state BLKHYDRATE_LOCK_DIR=$work/lock
mnt=$work/mnt
mkdir -p "$mnt" "$BLKHYDRATE_STATE_DIR" "$BLKHYDRATE_LOCK_DIR"
prio_mnt=$mnt # bench_cleanup unmounts it

# fs_fresh SIZE MKFS_OPTIONS...: a fresh ext4 of SIZE on a new loop device
# ($dev), mounted on $mnt.
fs_fresh() {
	local size=$1

	shift
	rm -f "$work/fs.img"
	truncate -s "$size" "$work/fs.img" || die "truncate failed"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$@" "$work/fs.img" ||
		die "mkfs.ext4 failed"
	loop_attach --direct-io=on "$work/fs.img" || die "losetup failed"
	mount "$dev" "$mnt" || die "mount $dev failed"
}

fs_done() {
	umount "$mnt" || die "umount $mnt failed"
	loop_detach_all
	rm -f "$work/fs.img" "$BLKHYDRATE_STATE_DIR"/progress/* 2>/dev/null
}

# fit "N T" lines on stdin: the exponent b of T = a N^b (least squares on logs).
fit() {
	awk '$2 > 0 { x = log($1); y = log($2); n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
	     END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "-"; else printf "%.2f", (n * sxy - sx * sy) / d }'
}

# exponents ROWS FROM TO: the "exponent" row's cells for columns FROM to TO
# of ROWS (column 1 is N), no newline.
exponents() {
	local col

	printf '%9s' exponent
	for ((col = $2; col <= $3; col++)); do
		printf ' %8s' "$(awk -v c="$col" '{ print $1, $c }' "$1" | fit)"
	done
}

# resume_run FILE BYTES: a priority hydration stopped after a second, then
# resumed: sets res_wall, res_rss, res_setup (the resume's wall less its
# reading), res_state (KiB), res_twice (bytes read beyond the file's).
resume_run() {
	local file=$1 bytes=$2 pid first second state

	rm -f "$BLKHYDRATE_STATE_DIR"/progress/* 2>/dev/null
	drop_caches # else the file's pages, in the page cache, count as read
	"$BLKHYDRATE" hydrate --only-priority -p "$file" --rate $((bytes / 4)) --json \
		--progress=never "$dev" >"$work/stop.json" 2>"$work/stop.err" &
	pid=$!
	# Past planning (as long as plan took), then a second and a half of reading.
	sleep "$(awk -v p="$p_wall" 'BEGIN { print p + 1.5 }')"
	kill -TERM "$pid"
	wait "$pid"
	[ $? = 3 ] || fail "the stopped run of $file was not interrupted: $(tail -n 2 "$work/stop.err" | tr '\n' ' ')"
	state=$(find "$BLKHYDRATE_STATE_DIR/progress" -type f -name '*.state' 2>/dev/null | head -n 1)
	res_state=$(awk -v s="$(stat -c %s "$state" 2>/dev/null || echo 0)" 'BEGIN { printf "%.0f", s / 1024 }')
	drop_caches
	timed "$work/resume" "$BLKHYDRATE" hydrate --only-priority -p "$file" --resume --json \
		--progress=never "$dev"
	res_wall=$r_wall res_rss=$r_rss
	[ "$r_rc" = 0 ] && [ "$(json_val "$work/resume.out" complete)" = true ] ||
		fail "resume of $file: exit $r_rc, not complete"
	first=$(json_val "$work/stop.json" bytes)
	second=$(json_val "$work/resume.out" bytes)
	res_setup=$(awk -v w="$r_wall" -v s="$(json_val "$work/resume.out" seconds)" \
		'BEGIN { printf "%.2f", w - s }')
	res_twice=$((${first:-0} + ${second:-0} - bytes))
}

extents_table() {
	local n file bytes recs

	printf '\nFragmented files (ext4, 1 KiB extents, each with a hole after it):\n'
	printf '%9s %8s %8s %8s %8s %8s %8s %8s %8s %6s %9s %8s\n' extents plan_s plan_M statmap \
		hyd_s hyd_M res_set res_M state_K twice fsmap_rec used_s
	for n in $extents; do
		fs_fresh $((4 * n * 1024 + 256 * MiB)) -b 1024
		file=$mnt/model.bin
		python3 "$script_dir/frag.py" "$file" "$n" 1024 || die "frag.py failed"
		sync
		bytes=$((n * 1024))
		timed "$work/plan" "$BLKHYDRATE" plan -p "$file" "$dev"
		grep -q "in $n extents" "$work/plan.out" || fail "plan of $n extents: $(grep -o 'in [0-9]* extents' "$work/plan.out")"
		p_wall=$r_wall p_rss=$r_rss
		timed "$work/statmap" "$STATMAP" "$mnt" model.bin
		s_wall=$r_wall
		grep -q " $n\$" "$work/statmap.out" || fail "statmap of $n extents: $(cat "$work/statmap.out")"
		drop_caches
		timed "$work/hyd" "$BLKHYDRATE" hydrate --only-priority -p "$file" --json --progress=never "$dev"
		h_wall=$r_wall h_rss=$r_rss
		[ "$(json_val "$work/hyd.out" bytes)" = "$bytes" ] ||
			fail "hydrate --only-priority of $n extents: $(json_val "$work/hyd.out" bytes) bytes, not $bytes"
		resume_run "$file" "$bytes"
		recs=$(xfs_io -r -c fsmap "$mnt" 2>/dev/null | grep -c '^[[:space:]]*[0-9]*:')
		timed "$work/used" "$BLKHYDRATE" plan --used "$dev"
		printf '%9s %8s %8s %8s %8s %8s %8s %8s %8s %6s %9s %8s\n' "$n" "$p_wall" "$p_rss" "$s_wall" \
			"$h_wall" "$h_rss" "$res_setup" "$res_rss" "$res_state" "$res_twice" "$recs" "$r_wall" |
			tee -a "$work/extents.rows"
		fs_done
	done
	exponents "$work/extents.rows" 2 9
	printf ' %6s %9s %8s\n' - - "$(awk '{ print $11, $12 }' "$work/extents.rows" | fit)"
}

dirs_table() {
	local n

	printf '\nOne directory of N files of 4 KiB (ext4): plan -p of all and of half, statmap of the same:\n'
	printf '%9s %8s %8s %8s %8s %8s %8s %8s %8s\n' files all_s all_M statmap ratio half_s half_M \
		statmap ratio
	for n in $nfiles; do
		fs_fresh $((n * 12 * 1024 + 512 * MiB)) -N $((n + 4096))
		mkdir "$mnt/d"
		python3 - "$mnt/d" "$n" <<'EOF' || die "could not make the files"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
block = os.urandom(4096)
for i in range(n):
    fd = os.open("%s/f%07d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, block)
    os.close(fd)
EOF
		sync
		"$STATMAP" "$mnt/d" >/dev/null # dentries and inodes warm for both
		timed "$work/sall" "$STATMAP" "$mnt/d"
		sa=$r_wall
		timed "$work/pall" "$BLKHYDRATE" plan -p "$mnt/d/*" "$dev"
		pa=$r_wall pam=$r_rss
		grep -q "^  1. priority .*: $n files" "$work/pall.out" || fail "plan of $n files: $(grep -m1 priority "$work/pall.out")"
		timed "$work/shalf" "$STATMAP" "$mnt/d" '*[02468]'
		sh=$r_wall
		timed "$work/phalf" "$BLKHYDRATE" plan -p "$mnt/d/*[02468]" "$dev"
		ph=$r_wall phm=$r_rss
		printf '%9s %8s %8s %8s %8s %8s %8s %8s %8s\n' "$n" "$pa" "$pam" "$sa" "$(ratio "$pa" "$sa")" \
			"$ph" "$phm" "$sh" "$(ratio "$ph" "$sh")" | tee -a "$work/dirs.rows"
		fs_done
	done
	exponents "$work/dirs.rows" 2 9
	printf '\n'
}

echo "blkhydrate scale benchmark: $BLKHYDRATE (built $built_at), $(nproc) CPUs, $(uname -r)"
extents_table
dirs_table
if [ ${#failures[@]} -gt 0 ]; then
	printf '\nFAILED:\n'
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
