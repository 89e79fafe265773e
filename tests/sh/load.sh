#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: eight volumes hydrated at once by eight processes, as eight
# attaches would start them, each with --rate and -d 16, and beside them two
# with the default (auto) depth and one with -d 1. Every process finishes
# complete. Sampled every 0.2 s while it runs: its open files and resident
# memory do not grow, and its peak memory (VmHWM) stays within its buffers
# (queue depth times block size) plus a fixed allowance; with auto depth the
# buffers (its peak less that of the -d 1 run) stay within the documented
# 56 MiB and, in a build without sanitizers, the whole process under 64 MiB.
# Its average rate by the wall clock (not its own) does not pass the cap by
# more than 5%, and its own clock does not claim a longer run than the wall
# clock saw. LOAD_SECONDS sets the length (5 under make check, so that two
# checkpoints fall in it; 60 under make check-load, which also sets
# LOAD_STRICT=1 to require each rate to be within 5% of the cap from below
# too). The images are unchanged.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/loop.sh"
need_root

seconds=${LOAD_SECONDS:-5}
strict=${LOAD_STRICT:-0}
N=8		# -d 16
NAUTO=2		# auto depth, then one at -d 1
NALL=$((N + NAUTO + 1))
RATE=$((8 * 1048576))
DEPTH=16
BLOCK=524288
ALLOWANCE=$((24 * 1048576))	# program, libraries, ring, plan: measured well under this
AUTO_BUFFERS=$((56 * 1048576))	# README: auto depth keeps its buffers within 56 MiB
AUTO_PROCESS=$((64 * 1048576))	# ... and the whole process under 64 MiB
size=$((RATE * seconds))
# ASan and UBSan runtimes add their own memory: the whole-process bound is
# for the plain build.
sanitized=0
grep -q '^SAN_CFLAGS = .*-fsanitize' "$top_builddir/Makefile" 2>/dev/null && sanitized=1
# Under ASan the last samples, at exit, grew by MiBs of the runtime's own:
# LeakSanitizer's scan, the exit path's allocations, which cannot reuse what
# the quarantine holds, and the shadow of freed buffers (an eighth of them)
# poisoned. Leaks and overflows are ASan's job in the other tests; here the
# heap is left as glibc's would be, so what grows is blkhydrate's.
[ $sanitized = 0 ] ||
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:quarantine_size_mb=0:poison_heap=0"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
pids=()
wrappers=()
cleanup() {
	local p

	for p in "${pids[@]}" "${wrappers[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

for ((i = 0; i < NALL; i++)); do
	# Mostly holes (fast to read), with some data in each, so the bytes can be checked.
	truncate -s $size "$tmp/vol$i.img"
	head -c 1048576 /dev/urandom | dd of="$tmp/vol$i.img" bs=1M seek=$((i % (size / 1048576))) \
		conv=notrunc status=none
	sum[i]=$(sha256sum <"$tmp/vol$i.img")
	loop_attach -r --direct-io=on "$tmp/vol$i.img" || skip_all "no free loop device"
done

# launch I ARGS...: blkhydrate ARGS in the background, its pid (soon) in
# $tmp/pidI, the wall clock (EPOCHREALTIME) before it starts and after it
# ends in $tmp/wallI; launched[I] the time it was launched, in microseconds.
launch() {
	local i=$1

	shift
	(
	start=$EPOCHREALTIME
	"$BLKHYDRATE" "$@" >"$tmp/out$i.json" 2>"$tmp/err$i" &
	echo $! >"$tmp/pid$i"
	wait $!
	rc=$?
	echo "$start $EPOCHREALTIME" >"$tmp/wall$i"
	exit $rc
	) &
	wrappers[i]=$!
	launched[i]=${EPOCHREALTIME/./}
}

for ((i = 0; i < NALL; i++)); do
	if [ $i -lt $N ]; then
		args=(-d $DEPTH -b $BLOCK)
	elif [ $i -lt $((N + NAUTO)) ]; then
		args=()
	else
		args=(-d 1)
	fi
	launch $i hydrate --json --progress=never -r $RATE "${args[@]}" "${loop_devs[i]}"
done
for ((i = 0; i < NALL; i++)); do
	wait_for [ -s "$tmp/pid$i" ]
	pids[i]=$(cat "$tmp/pid$i")
done

# sample PID: "FDS VMRSS VMHWM" (kB) of a running process, by builtins only,
# so that eleven processes are sampled every 0.2 s even on a busy machine.
sample() {
	local fds=(/proc/$1/fd/*) k v rss= hwm=

	while read -r k v _; do
		case $k in
		VmRSS:) rss=$v ;;
		VmHWM:) hwm=$v ;;
		esac
	done <"/proc/$1/status" 2>/dev/null
	[ -n "$rss" ] && [ -n "$hwm" ] && [ -e "${fds[0]}" ] && echo "${#fds[@]} $rss $hwm"
}

# Sample every process every 0.2 s while it runs, after its first 0.4 s (it
# is still opening things), until all have finished.
for ((i = 0; i < NALL; i++)); do
	: >"$tmp/samples$i"
done
for ((t = 0; t < seconds * 20 + 200; t++)); do
	alive=0
	now=${EPOCHREALTIME/./}
	for ((i = 0; i < NALL; i++)); do
		[ -d /proc/${pids[i]} ] || continue
		alive=1
		[ $((now - launched[i])) -ge 400000 ] || continue
		sample "${pids[i]}" >>"$tmp/samples$i"
	done
	[ $alive = 1 ] || break
	sleep 0.2
done
for ((i = 0; i < NALL; i++)); do
	wait "${wrappers[i]}"
	rc[i]=$?
done
pids=()
wrappers=()

# The -d 1 run's peak: the program without (nearly) any buffers.
base_hwm=$(awk 'NF == 3 { if ($3 > m) m = $3 } END { print m * 1024 }' "$tmp/samples$((NALL - 1))")

for ((i = 0; i < NALL; i++)); do
	if [ $i -lt $N ]; then
		n="volume $i"
	elif [ $i -lt $((N + NAUTO)) ]; then
		n="volume $i (auto depth)"
	else
		n="volume $i (-d 1)"
	fi
	is "$n: exit status 0" "${rc[i]}" 0
	is "$n: complete" "$(json_get "$tmp/out$i.json" complete)" true
	samples=$(awk 'NF == 3' "$tmp/samples$i" | wc -l)
	# The rate cap holds every run to $seconds s (less a block's burst).
	ok "$n: sampled every 0.2 s while it ran ($samples samples)" \
		[ "$samples" -ge $((seconds * 2)) ]
	hwm=$(awk 'NF == 3 { if ($3 > m) m = $3 } END { print m * 1024 }' "$tmp/samples$i")
	if [ $i -lt $N ]; then
		ok "$n: peak memory $((hwm / 1048576)) MiB <= buffers $((DEPTH * BLOCK / 1048576)) MiB + $((ALLOWANCE / 1048576)) MiB" \
			[ "$hwm" -le $((DEPTH * BLOCK + ALLOWANCE)) ]
	elif [ $i -lt $((N + NAUTO)) ]; then
		# The -d 1 run has one buffer: allow it, and 1 MiB for a deeper ring.
		bufs=$((hwm - base_hwm))
		ok "$n: buffers $((bufs / 1024)) KiB (peak less the -d 1 run's) <= $((AUTO_BUFFERS / 1048576)) MiB" \
			[ "$bufs" -le $((AUTO_BUFFERS + 1048576)) ]
		if [ $sanitized = 0 ]; then
			ok "$n: peak memory $((hwm / 1024)) KiB < $((AUTO_PROCESS / 1048576)) MiB" \
				[ "$hwm" -lt $AUTO_PROCESS ]
		else
			diag "$n: a sanitizer build: the whole-process bound is for the plain build (peak $((hwm / 1024)) KiB)"
		fi
	fi
	# A sample may catch the process closing its files at exit (fewer is
	# fine) or writing its checkpoint (one file at a time, for a moment that
	# fsync on a busy disk stretches over several samples): a leak is two
	# files more, or one more for seven samples (1.4 s) running.
	ok "$n: open files did not grow over $samples samples ($(awk 'NF == 3 { printf "%s ", $1 }' "$tmp/samples$i"))" \
		awk 'NF == 3 { if (!n++) f = $1; if ($1 >= f + 2) g = 1
			       run = $1 > f ? run + 1 : 0; if (run >= 7) g = 1 }
		     END { exit !n || g }' "$tmp/samples$i"
	# From its fifth sample (about 1 s in: on a busy machine the first may
	# come while its buffers are still being faulted in) to its last.
	growth=$(awk 'NF == 3 && ++n >= 5 { if (n == 5) f = $2; l = $2 } END { print (l - f) * 1024 }' \
		"$tmp/samples$i")
	ok "$n: resident memory did not grow ($growth bytes)" [ "$growth" -le 1048576 ]
	# The rate by the wall clock: from before the process started to after
	# it ended, a little longer than the run, never shorter.
	bytes=$(json_get "$tmp/out$i.json" bytes)
	secs=$(json_get "$tmp/out$i.json" seconds)
	read -r w0 w1 <"$tmp/wall$i"
	wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f\n", b - a }')
	pct=$(awk -v b="${bytes:-0}" -v s="$wall" -v r=$RATE \
		'BEGIN { x = 999; if (s > 0) x = 100 * b / s / r; printf "%.1f\n", x }')
	is "$n: read the whole volume" "$bytes" $size
	ok "$n: average rate $pct% of the cap over $wall s by the wall clock, not over 105%" \
		awk -v p="$pct" 'BEGIN { exit !(p + 0 <= 105) }'
	ok "$n: its own clock ($secs s) is not longer than the wall clock's ($wall s)" \
		awk -v s="${secs:-999}" -v w="$wall" 'BEGIN { exit !(s <= w + 0.001) }'
	if [ "$strict" = 1 ]; then
		ok "$n: and not under 95%" awk -v p="$pct" 'BEGIN { exit !(p + 0 >= 95) }'
	fi
done
loop_detach_all
for ((i = 0; i < NALL; i++)); do
	is "volume $i: the image is unchanged" "$(sha256sum <"$tmp/vol$i.img")" "${sum[i]}"
done
tap_done
