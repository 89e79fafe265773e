#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: eight volumes hydrated at once by eight processes, as eight
# attaches would start them, each with --rate. Every process finishes
# complete; its peak memory (VmHWM) stays within its buffers (queue depth
# times block size) plus a fixed allowance; its open files and resident
# memory do not grow while it runs; and its average rate does not pass the
# cap by more than 5%. LOAD_SECONDS sets the length (3 under make check; 60
# under make check-load, which also sets LOAD_STRICT=1 to require each rate
# to be within 5% of the cap from below too). The images are unchanged.
. "$(dirname "$0")/lib/tap.sh"
. "$top_srcdir/tests/lib/loop.sh"
need_root

seconds=${LOAD_SECONDS:-3}
strict=${LOAD_STRICT:-0}
N=8
RATE=$((8 * 1048576))
DEPTH=16
BLOCK=524288
ALLOWANCE=$((24 * 1048576))	# program, libraries, ring, plan: measured well under this
size=$((RATE * seconds))

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
pids=()
cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	loop_detach_all
	rm -rf "$tmp"
}
trap cleanup EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

for ((i = 0; i < N; i++)); do
	# Mostly holes (fast to read), with some data in each, so the bytes can be checked.
	truncate -s $size "$tmp/vol$i.img"
	head -c 1048576 /dev/urandom | dd of="$tmp/vol$i.img" bs=1M seek=$((i % (size / 1048576))) \
		conv=notrunc status=none
	sum[i]=$(sha256sum <"$tmp/vol$i.img")
	loop_attach -r --direct-io=on "$tmp/vol$i.img" || skip_all "no free loop device"
done

# status PID FIELD: a value in kB from /proc/PID/status.
status() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

for ((i = 0; i < N; i++)); do
	"$BLKHYDRATE" hydrate --json --progress=never -r $RATE -d $DEPTH -b $BLOCK "${loop_devs[i]}" \
		>"$tmp/out$i.json" 2>"$tmp/err$i" &
	pids+=($!)
done

# Sample every process once a second while all run: open files and memory.
for ((i = 0; i < N; i++)); do
	: >"$tmp/samples$i"
done
for ((t = 0; t < seconds * 20 + 100; t++)); do
	alive=0
	for ((i = 0; i < N; i++)); do
		p=${pids[i]}
		[ -d /proc/$p ] || continue
		alive=1
		# Skip the first second: the process is still opening things.
		[ $t -ge 10 ] && [ $((t % 10)) = 0 ] || continue
		fds=$(ls /proc/$p/fd 2>/dev/null | wc -l)
		echo "$fds $(status $p VmRSS) $(status $p VmHWM)" >>"$tmp/samples$i"
	done
	[ $alive = 1 ] || break
	sleep 0.1
done
for ((i = 0; i < N; i++)); do
	wait "${pids[i]}"
	rc[i]=$?
done
pids=()

for ((i = 0; i < N; i++)); do
	n="volume $i"
	is "$n: exit status 0" "${rc[i]}" 0
	is "$n: complete" "$(json_get "$tmp/out$i.json" complete)" true
	samples=$(awk 'NF == 3' "$tmp/samples$i" | wc -l)
	if [ "$samples" -ge 1 ]; then
		hwm=$(awk 'NF == 3 { if ($3 > m) m = $3 } END { print m * 1024 }' "$tmp/samples$i")
		ok "$n: peak memory $((hwm / 1048576)) MiB <= buffers $((DEPTH * BLOCK / 1048576)) MiB + $((ALLOWANCE / 1048576)) MiB" \
			[ "$hwm" -le $((DEPTH * BLOCK + ALLOWANCE)) ]
		# A sample may catch the process closing its files at exit (fewer is
		# fine) or writing its checkpoint (one file for a moment): a leak is a
		# count that stays up, two samples running or at the end.
		ok "$n: open files did not grow over $samples samples ($(awk 'NF == 3 { printf "%s ", $1 }' "$tmp/samples$i"))" \
			awk 'NF == 3 { if (!n++) f = $1; up = $1 > f; if (up && prev) g = 1; prev = up }
			     END { exit g || up }' "$tmp/samples$i"
		growth=$(awk 'NF == 3 { if (!f) f = $2; l = $2 } END { print (l - f) * 1024 }' "$tmp/samples$i")
		ok "$n: resident memory did not grow ($growth bytes)" [ "$growth" -le 1048576 ]
	else
		# A run shorter than a second leaves nothing to sample.
		skip "$n: peak memory" "run too short to sample"
		skip "$n: open files constant" "run too short to sample"
		skip "$n: resident memory did not grow" "run too short to sample"
	fi
	bytes=$(json_get "$tmp/out$i.json" bytes)
	secs=$(json_get "$tmp/out$i.json" seconds)
	pct=$(awk -v b="${bytes:-0}" -v s="${secs:-0}" -v r=$RATE \
		'BEGIN { x = 999; if (s > 0) x = 100 * b / s / r; printf "%.1f\n", x }')
	ok "$n: average rate $pct% of the cap over $secs s, not over 105%" \
		awk -v p="$pct" 'BEGIN { exit !(p + 0 <= 105) }'
	if [ "$strict" = 1 ]; then
		ok "$n: and not under 95%" awk -v p="$pct" 'BEGIN { exit !(p + 0 >= 95) }'
	fi
done
loop_detach_all
for ((i = 0; i < N; i++)); do
	is "volume $i: the image is unchanged" "$(sha256sum <"$tmp/vol$i.img")" "${sum[i]}"
done
tap_done
