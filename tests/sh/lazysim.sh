#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/sh/lazysim.sh - TAP test of tools/lazysim, the lazy-volume simulator the
# other tests stand on.  It checks, through a direct-I/O loop device as
# blkhydrate will see it, that cold chunks cost a fetch and warm ones do
# not, that holes are free, that the data is the image's, that the counters
# and the chunk record are right, that fault injection works and that a
# deep queue reaches real fetch concurrency.
#
# Needs root, /dev/fuse and loop devices; otherwise it is skipped (exit 77).

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
	# automake runs tests from the top build dir or from tests/
	top_builddir=$PWD
	if [ ! -x "$PWD/tools/lazysim" ] && [ -x "$PWD/../tools/lazysim" ]; then
		top_builddir=$(cd .. && pwd)
	fi
fi
LAZYSIM=${LAZYSIM:-$top_builddir/tools/lazysim}
export top_srcdir top_builddir LAZYSIM

. "$top_srcdir/tests/lib/simvol.sh"

if ! why=$(simvol_need); then
	echo "1..0 # SKIP $why"
	exit 77
fi

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}
# check DESCRIPTION COMMAND...: one TAP row from a command's status
check() {
	local what=$1

	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $*"
}
diag() {
	echo "# $*"
}
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

work=$(mktemp -d "${TMPDIR:-/tmp}/t-lazysim.XXXXXX") || exit 99
cleanup() {
	simvol_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

K=1024
CS=$((512 * K))
img=$work/img
# 64 MiB = 128 chunks; data only in chunks 0-1, 10 (4K of it), 20-29 and
# the tail of 127, the rest is holes: 14 data chunks.
truncate -s 64M "$img"
put() {	# put OFFSET_KIB SIZE_KIB
	dd if=/dev/urandom of="$img" bs=1K seek="$1" count="$2" \
		conv=notrunc status=none
}
put 0 1024
put $((10 * 512 + 8)) 4
put $((20 * 512)) $((10 * 512))
put $((64 * 1024 - 64)) 64
data_chunks=14
sparse=1
if [ "$(du -k "$img" | cut -f1)" -ge $((64 * 1024)) ]; then
	sparse=0	# no holes on this file system: every chunk is data
	data_chunks=128
fi

# rdchunk N FILE: read chunk N of the loop device with direct I/O
rdchunk() {
	dd if="$SIMVOL_DEV" of="$2" bs=$CS skip="$1" count=1 iflag=direct \
		status=none 2>"$work/dd.err"
}
imgchunk() {
	dd if="$img" bs=$CS skip="$1" count=1 status=none
}
stat_is() {	# stat_is KEY VALUE
	local v

	v=$(simvol_stat "$1")
	[ "$v" = "$2" ] && return 0
	diag "$1 is '$v', expected '$2'"
	return 1
}

# --- command line -----------------------------------------------------------
check "--help prints usage and exits 0" \
	bash -c '"$LAZYSIM" --help | grep -q "^Usage: lazysim"'
"$LAZYSIM" --no-such-option "$img" "$work" >/dev/null 2>"$work/err"
rc=$?
check "an unknown option exits 1 with a hint" \
	test "$rc" = 1 -a "$(grep -c "Try 'lazysim --help'" "$work/err")" = 1
"$LAZYSIM" --chunk-size 1000 "$img" "$work" >/dev/null 2>"$work/err"
rc=$?
check "a bad --chunk-size exits 1 naming the option" \
	test "$rc" = 1 -a "$(grep -c -- "--chunk-size" "$work/err")" = 1
"$LAZYSIM" --eio 999 "$img" "$work" >/dev/null 2>"$work/err"
rc=$?
check "an --eio chunk beyond the image exits 1" \
	test "$rc" = 1 -a "$(grep -c "out of range" "$work/err")" = 1

# --- a cold volume --------------------------------------------------------------
if ! simvol_start "$img" --latency 5; then
	notok "simulated volume starts"
	echo "1..$n"
	exit 1
fi
ok "simulated volume starts ($SIMVOL_DEV)"
check "disk.img has the image's size" \
	test "$(stat -c %s "$SIMVOL_MNT/disk.img")" = "$(stat -c %s "$img")"
check "loop device has the image's size and direct I/O" \
	test "$(blockdev --getsize64 "$SIMVOL_DEV")" = $((64 * K * K)) -a \
	"$(losetup --list -n -O DIO "$SIMVOL_DEV" | tr -d ' ')" = 1
check "chunks = 128" stat_is chunks 128
if [ $sparse = 1 ]; then
	check "data_chunks counts only chunks with data" stat_is data_chunks 14
else
	skip "no holes on this file system"
fi
check "a cold volume has no fetched chunk" stat_is warm_data 0
check "holes are warm from the start" stat_is warm $((128 - data_chunks))

# --- one chunk ---------------------------------------------------------------
rdchunk 21 "$work/c21"
check "reading one chunk fetches exactly that chunk" \
	test "$(simvol_chunks | awk '{ print $2 }' | tr '\n' ' ')" = "21 "
same_chunk() {	# same_chunk N FILE
	imgchunk "$1" | cmp -s - "$2"
}
check "its bytes are the image's" same_chunk 21 "$work/c21"
record_ok() {
	simvol_chunks | awk 'NF == 4 && $1 == 1 && $2 == 21 && $3 < $4 { f = 1 }
			     END { exit !f }'
}
check "the chunk record line is 'SEQ CHUNK START END'" record_ok
if [ $sparse = 1 ]; then
	rdchunk 50 "$work/c50"
	hole_ok() {
		head -c $CS /dev/zero | cmp -s - "$work/c50" &&
			stat_is fetches 1
	}
	check "a hole chunk reads as zeroes without a fetch" hole_ok
else
	skip "no holes on this file system"
fi

# --- a full pass ----------------------------------------------------------------
dd if="$SIMVOL_DEV" bs=1M iflag=direct status=none | cmp -s - "$img"
check "the whole device reads back as the image" test "${PIPESTATUS[*]}" = "0 0"
check "a full pass leaves every chunk warm" stat_is warm 128
check "every data chunk was fetched exactly once" \
	test "$(simvol_stat fetches)" = $data_chunks -a \
	"$(simvol_chunks | awk '{ print $2 }' | sort -u | wc -l)" = $data_chunks
check "bytes_read counts what readers got" \
	test "$(simvol_stat bytes_read)" -ge $((64 * K * K))
write_fails() {
	! dd if=/dev/zero of="$SIMVOL_MNT/disk.img" bs=4K count=1 \
		conv=notrunc status=none 2>/dev/null
}
check "writes to disk.img are refused" write_fails
mnt=$SIMVOL_MNT dev=$SIMVOL_DEV
simvol_stop
gone() {
	! _simvol_mounted "$mnt" && [ ! -e "$mnt" ] &&
		! losetup -n -O BACK-FILE "$dev" 2>/dev/null | grep -q "$mnt"
}
check "simvol_stop removes loop device, mount and mount point" gone

# --- latency and injected errors --------------------------------------------
# 400ms of latency makes "cold is slow, warm is fast" robust on a busy box.
if simvol_start "$img" --latency 400 --eio 1 --eio-count 1; then
	t0=$(now_ms)
	rdchunk 20 "$work/c20"
	t1=$(now_ms)
	rdchunk 20 "$work/c20"
	t2=$(now_ms)
	diag "cold read $((t1 - t0)) ms, warm read $((t2 - t1)) ms"
	check "a cold chunk costs at least the latency" test $((t1 - t0)) -ge 395
	check "a warm chunk is served at once" test $((t2 - t1)) -lt 200
	if rdchunk 1 "$work/c1"; then r1=0; else r1=1; fi
	check "an --eio chunk fails with an I/O error" \
		test $r1 = 1 -a "$(grep -c "Input/output error" "$work/dd.err")" = 1
	check "errors_injected counts it" stat_is errors_injected 1
	retry_ok() {
		rdchunk 1 "$work/c1" && same_chunk 1 "$work/c1"
	}
	check "with --eio-count 1 the retry succeeds with the right bytes" \
		retry_ok
	simvol_stop
else
	notok "simulated volume starts with --eio"
fi

# --- reset ----------------------------------------------------------------------
# simvol_start hands the volume over cold (SIGUSR1) whatever probed it first.
if simvol_start "$img" --latency 1; then
	check "handed over cold, after one reset" stat_is resets 1
	rdchunk 0 "$work/c0"
	check "a read warms a chunk" stat_is warm_data 1
	kill -USR1 "$SIMVOL_PID"
	check "SIGUSR1 makes it cold again and clears the record" \
		eval 'stat_is resets 2 && stat_is warm_data 0 && stat_is fetches 0 && [ ! -s "$SIMVOL_MNT/chunks" ]'
	rdchunk 0 "$work/c0"
	check "then the same chunk costs a fetch again" stat_is fetches 1
	simvol_stop
else
	notok "simulated volume starts for the reset checks"
fi

# --- vanishing ----------------------------------------------------------------
if simvol_start "$img" --latency 1 --vanish-after 2; then
	pid=$SIMVOL_PID
	rdchunk 0 "$work/c0" && rdchunk 1 "$work/c1"
	check "the first --vanish-after fetches work" test $? = 0
	rdchunk 20 "$work/c20"
	check "the next fetch fails" test $? != 0
	for ((i = 0; i < 500; i++)); do
		_simvol_alive "$pid" || break
		sleep 0.01
	done
	check "and the simulator exits, taking its mount away" \
		eval '! _simvol_alive "$pid" && ! _simvol_mounted "$SIMVOL_MNT"'
	simvol_stop
else
	notok "simulated volume starts with --vanish-after"
fi

# --- concurrency under a deep queue -----------------------------------------
if command -v fio >/dev/null 2>&1; then
	full=$work/full
	dd if=/dev/urandom of="$full" bs=1M count=64 status=none
	if simvol_start "$full" --latency 20 --bandwidth 0 --concurrency 32; then
		fio --name=t --filename="$SIMVOL_DEV" --rw=read --bs=1M \
			--ioengine=libaio --iodepth=32 --direct=1 --readonly \
			--output="$work/fio.out" >/dev/null 2>&1
		mi=$(simvol_stat max_inflight)
		diag "fio iodepth 32: max_inflight $mi"
		check "fio with iodepth 32 gets at least 8 fetches in flight" \
			test "${mi:-0}" -ge 8
		check "and leaves every chunk warm" stat_is warm 128
		simvol_stop
	else
		notok "simulated volume starts for fio"
	fi
else
	skip "fio not installed"
	skip "fio not installed"
fi

echo "1..$n"
[ $failed = 0 ]
