#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: read faults on a simulated lazy volume. Chunks that always
# fail are retried, split down to the logical block size and reported as bad
# ranges (offset, length, errno) in the log and the JSON summary, with exit
# status 2, while everything else is read, and kept in the state file so that
# --resume asks for nothing else; chunks that fail only the first
# times are read after a retry; very slow chunks are waited for; a volume
# that vanishes (the simulator exits, or every read fails) stops the run with
# one message and exit status 5, no error storm. The image is unchanged
# after every run.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT
export BLKHYDRATE_STATE_DIR=$tmp/state BLKHYDRATE_LOCK_DIR=$tmp/lock

img=$tmp/vol.img
head -c 16777216 /dev/urandom >"$img"
sum_before=$(sha256sum <"$img")
K512=524288

# run NAME [blkhydrate options]: hydrate the simulated volume, JSON in NAME.json.
run() {
	local name=$1
	shift
	"$BLKHYDRATE" hydrate --json --progress=never --read-mode full "$@" "$SIMVOL_DEV" \
		>"$tmp/$name.json" 2>"$tmp/$name.err"
	rc=$?
}

unchanged() {
	is "$1: the image is unchanged" "$(sha256sum <"$img")" "$sum_before"
}

# --- chunks that always fail --------------------------------------------------
if simvol_start "$img" --latency 1 --eio 5,9; then
	run eio
	is "always-EIO chunks: exit status 2" "$rc" 2
	is "JSON: exactly the two chunks are bad ranges, errno 5" \
		"$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/eio.json")" \
		"\"bad_ranges\":[{\"offset\":$((5 * K512)),\"length\":$K512,\"errno\":5,\"error\":\"Input/output error\"},{\"offset\":$((9 * K512)),\"length\":$K512,\"errno\":5,\"error\":\"Input/output error\"}]"
	is "JSON: everything else was read" "$(json_get "$tmp/eio.json" bytes)" $((16777216 - 2 * K512))
	is "JSON: failed_bytes is the two chunks" "$(json_get "$tmp/eio.json" failed_bytes)" $((2 * K512))
	is "JSON: not complete" "$(json_get "$tmp/eio.json" complete)" false
	ok "JSON: the failed reads were retried first" \
		[ "$(json_get "$tmp/eio.json" retries)" -ge 6 ]
	ok "log: the first bad range with its offset, length and error" \
		grep -qx "blkhydrate: $SIMVOL_DEV: unreadable: offset $((5 * K512)), $K512 bytes: Input/output error" "$tmp/eio.err"
	ok "log: the second bad range" \
		grep -qx "blkhydrate: $SIMVOL_DEV: unreadable: offset $((9 * K512)), $K512 bytes: Input/output error" "$tmp/eio.err"
	is "every other chunk is warm" "$(simvol_stat warm)" 30
	is "the state file keeps the bad ranges with their errno (for status)" \
		"$(grep '^bad ' "$BLKHYDRATE_STATE_DIR"/progress/*.state | tr '\n' ,)" \
		"bad $((5 * K512)) $K512 5,bad $((9 * K512)) $K512 5,"
	served=$(simvol_stat bytes_read)
	injected=$(simvol_stat errors_injected)
	run eio-again --resume
	is "--resume afterwards: exit status 2 again" "$rc" 2
	is "--resume afterwards: nothing else is read" \
		"$(json_get "$tmp/eio-again.json" bytes) $(json_get "$tmp/eio-again.json" failed_bytes)" \
		"0 $((2 * K512))"
	# Only failures left: probes of the first block (one per 16 failures) tell
	# bad sectors from a lost volume; none of the 15 MiB read before is read.
	served=$(($(simvol_stat bytes_read) - served))
	ok "--resume afterwards: the simulator served only probes ($served bytes < one chunk)" \
		[ $served -lt $K512 ]
	# The bad ranges are tried again: the simulator fails them anew.
	injected=$(($(simvol_stat errors_injected) - injected))
	ok "--resume afterwards: the bad ranges were read again ($injected more errors injected)" \
		[ $injected -ge 2 ]
	simvol_stop
else
	tap_result 1 "simulator starts with --eio"
fi
unchanged "always-EIO"

# --- one bad 4 KiB chunk inside a 512 KiB read: the split isolates it ----------
if simvol_start "$img" --latency 0 --chunk-size 4K --eio 100; then
	run split
	is "small bad chunk: exit status 2" "$rc" 2
	is "JSON: the bad range is just that 4 KiB" \
		"$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/split.json")" \
		"\"bad_ranges\":[{\"offset\":409600,\"length\":4096,\"errno\":5,\"error\":\"Input/output error\"}]"
	is "JSON: the rest of its 512 KiB block was read" \
		"$(json_get "$tmp/split.json" bytes)" $((16777216 - 4096))
	simvol_stop
else
	tap_result 1 "simulator starts with --chunk-size 4K --eio"
fi
unchanged "split"

# --- chunks that fail only the first two times --------------------------------
if simvol_start "$img" --latency 1 --eio 3,12 --eio-count 2; then
	run transient
	is "transient EIO: exit status 0" "$rc" 0
	is "JSON: complete" "$(json_get "$tmp/transient.json" complete)" true
	is "JSON: no bad ranges" "$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/transient.json")" '"bad_ranges":[]'
	ok "JSON: reads were retried ($(json_get "$tmp/transient.json" retries))" \
		[ "$(json_get "$tmp/transient.json" retries)" -ge 4 ]
	is "the simulator failed them 4 times in all" "$(simvol_stat errors_injected)" 4
	is "every chunk is warm" "$(simvol_stat warm)" 32
	simvol_stop
else
	tap_result 1 "simulator starts with --eio-count"
fi
unchanged "transient"

# --- tail latency -------------------------------------------------------------
if simvol_start "$img" --latency 1 --slow 0,20 --slow-ms 1500; then
	start=$(date +%s%N)
	run slow
	took=$((($(date +%s%N) - start) / 1000000))
	is "slow chunks: exit status 0" "$rc" 0
	# They were slow: the run, timed from outside, and their fetch records.
	ok "slow chunks: the run took at least 1.5 s ($took ms)" [ $took -ge 1500 ]
	is "slow chunks: chunks 0 and 20, and only they, took 1.5 s to fetch" \
		"$(simvol_chunks | awk '$4 - $3 >= 1500000 { print $2 }' | sort -n | tr '\n' ' ')" "0 20 "
	is "JSON: complete, nothing retried" \
		"$(json_get "$tmp/slow.json" complete) $(json_get "$tmp/slow.json" retries)" "true 0"
	is "every chunk is warm" "$(simvol_stat warm)" 32
	simvol_stop
else
	tap_result 1 "simulator starts with --slow"
fi
unchanged "slow"

# --- the volume vanishes ------------------------------------------------------
big=$tmp/big.img
head -c 67108864 /dev/urandom >"$big"
big_before=$(sha256sum <"$big")
# --vanish-ms may strike before the first read on a slow machine; then no
# read ever works, and that too is a volume that went away.
for how in "exit --vanish-after 20" "eio --vanish-after 30" "eio --vanish-ms 300"; do
	set -- $how
	mode=$1
	shift
	if simvol_start "$big" --latency 2 --bandwidth 32M --vanish-mode "$mode" "$@"; then
		start=$(date +%s%N)
		run "vanish-$mode-$2"
		took=$((($(date +%s%N) - start) / 1000000))
		diag "vanish ($mode $*): the run took $took ms"
		is "vanish ($mode $*): exit status 5" "$rc" 5
		is "vanish ($mode $*): JSON says vanished" "$(json_get "$tmp/vanish-$mode-$2.json" vanished)" true
		is "vanish ($mode $*): no bad ranges reported" \
			"$(grep -o '"bad_ranges":\[[^]]*\]' "$tmp/vanish-$mode-$2.json")" '"bad_ranges":[]'
		is "vanish ($mode $*): one message says so" \
			"$(grep -c "went away (" "$tmp/vanish-$mode-$2.err")" 1
		ok "vanish ($mode $*): the message names the device and the error" \
			grep -qx "blkhydrate: $SIMVOL_DEV: the device went away (Input/output error): stopped" \
			"$tmp/vanish-$mode-$2.err"
		is "vanish ($mode $*): no per-sector error lines" \
			"$(grep -c unreadable "$tmp/vanish-$mode-$2.err")" 0
		bytes=$(json_get "$tmp/vanish-$mode-$2.json" bytes)
		if [ "$2" = 300 ]; then
			ok "vanish ($mode $*): not everything was read ($bytes)" \
				[ "${bytes:-0}" -lt 67108864 ]
		else
			ok "vanish ($mode $*): part of the volume was read first ($bytes)" \
				test "${bytes:-0}" -gt 0 -a "${bytes:-0}" -lt 67108864
		fi
		# The reads in flight are retried until the probe fails, never split:
		# at most their three retries each (64 in flight by default).
		ok "vanish ($mode $*): no more than 3 retries per read in flight" \
			[ "$(json_get "$tmp/vanish-$mode-$2.json" retries)" -le 192 ]
		simvol_stop
	else
		tap_result 1 "simulator starts with --vanish-mode $mode"
	fi
	is "vanish ($mode $*): the image is unchanged" "$(sha256sum <"$big")" "$big_before"
done

# --- one volume vanishes while another is read in the same run ----------------
# The survivor is slow (16 MiB at 4 MiB/s): it must still be reading when the
# other vanishes, or the test could not tell a run that stops the rest.
if simvol_start "$img" --latency 2 --bandwidth 4M; then
	s_dev=$SIMVOL_DEV s_mnt=$SIMVOL_MNT s_pid=$SIMVOL_PID s_log=$SIMVOL_LOG s_dir=$SIMVOL_DIR
	SIMVOL_DEV= SIMVOL_MNT= SIMVOL_PID= SIMVOL_LOG= SIMVOL_DIR=
	if simvol_start "$big" --latency 2 --bandwidth 32M --vanish-after 20; then
		v_pid=$SIMVOL_PID
		"$BLKHYDRATE" hydrate --json --progress=never --read-mode full "$SIMVOL_DEV" "$s_dev" \
			>"$tmp/two.json" 2>"$tmp/two.err" &
		run_pid=$!
		while _simvol_alive "$v_pid"; do sleep 0.01; done
		warm_then=$(awk '$1 == "warm_data" { print $2 }' "$s_mnt/stats")
		wait $run_pid
		is "two targets, one vanishes: exit status 5" "$?" 5
		is "the vanished one is marked so, the other is complete" \
			"$(python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["targets"]
print(t[0]["vanished"], t[0]["complete"], t[1]["vanished"], t[1]["complete"], t[1]["bytes"])' \
				"$tmp/two.json")" "True False False True 16777216"
		ok "the survivor was still being read when the other vanished ($warm_then of 32 chunks warm)" \
			test "${warm_then:-32}" -lt 32
		simvol_stop
	else
		tap_result 1 "simulator starts for the vanishing target"
	fi
	SIMVOL_DEV=$s_dev SIMVOL_MNT=$s_mnt SIMVOL_PID=$s_pid SIMVOL_LOG=$s_log SIMVOL_DIR=$s_dir
	is "the survivor was read once, all of it" "$(simvol_stat fetches) $(simvol_stat warm)" "32 32"
	simvol_stop
else
	tap_result 1 "simulator starts for two targets"
fi
unchanged "two targets"
tap_done
