#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: yielding to the device's other readers, on the lazy-volume
# simulator. Alone on the device, hydrate never yields. With a fixed depth
# and a competing reader (dd on the same device for about two seconds),
# hydrate sees reads that are not its own in the device's sysfs statistics,
# drops to one read in flight while they go on, and resumes when they stop:
# it yielded, for less than the whole run, and still read everything. With
# the default (auto depth, yielding on) and a foreign QD1 reader of 4 KiB
# (fio) on a volume that serves 16 fetches' worth at once: while it reads,
# the fetches in flight (the simulator's record, theirs included) stay below
# the 16 served (ours one fewer less an eighth, and theirs) and do not fall
# far below it, as the cap's own windows once walked it down; a second after it stopped
# the depth is back above the knee; with --no-yield it never dropped.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
competitor=
trap '[ -n "$competitor" ] && kill "$competitor" 2>/dev/null; wait; simvol_stop; rm -rf "$tmp"' EXIT

# json_yield FILE KEY: KEY of the "yield" object.
json_yield() {
	grep -o '"yield":{[^}]*}' "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2
}

img=$tmp/vol.img
head -c $((256 << 20)) /dev/zero | tr '\0' 'y' >"$img"

simvol_start "$img" --latency 20 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
"$BLKHYDRATE" hydrate --yield --queue-depth 16 --json --progress=never "$SIMVOL_DEV" \
	>"$tmp/alone.json" 2>"$tmp/err"
is "alone: hydrate exits 0" "$?" 0
is "alone: one device watched" "$(json_yield "$tmp/alone.json" watched)" 1
is "alone: never yielded" "$(json_yield "$tmp/alone.json" events)" 0
simvol_stop

simvol_start "$img" --latency 20 --concurrency 16 --bandwidth 0 || skip_all "cannot start the simulator"
dev=$SIMVOL_DEV
# The application: reads the first 16 MiB over and over for two seconds.
timeout 2 bash -c "while :; do dd if=$dev of=/dev/null bs=1M count=16 iflag=direct status=none; done" &
competitor=$!
sleep 0.3
"$BLKHYDRATE" hydrate --yield --queue-depth 16 --json --progress=always "$dev" \
	>"$tmp/busy.json" 2>"$tmp/err"
is "busy: hydrate exits 0" "$?" 0
wait "$competitor"
competitor=
events=$(json_yield "$tmp/busy.json" events)
yielded=$(json_yield "$tmp/busy.json" seconds)
total=$(json_get "$tmp/busy.json" seconds)
others=$(json_yield "$tmp/busy.json" others_bytes)
diag "yielded $events times, $yielded s of $total s; others read $others bytes"
ok "busy: yielded at least once" [ "${events:-0}" -ge 1 ]
ok "busy: saw others' bytes (at least 1 MiB)" [ "${others:-0}" -ge 1048576 ]
ok "busy: yielded for some time" awk -v y="$yielded" 'BEGIN { exit !(y > 0) }'
ok "busy: and resumed before the end" awk -v y="$yielded" -v t="$total" 'BEGIN { exit !(y < t) }'
ok "busy: the progress line said so" grep -q 'yielding to other I/O' "$tmp/err"
is "busy: complete all the same" "$(json_get "$tmp/busy.json" complete)" true
is "busy: every chunk warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
simvol_stop

# most_inflight FROM_US TO_US: the most fetches the simulator had in flight
# at once between two of its clock's times (every fetch counts, theirs too).
most_inflight() {
	simvol_chunks | awk -v a="$1" -v b="$2" '{ s = $3; e = $4
		if (e <= a || s >= b) next
		if (s < a) s = a; if (e > b) e = b
		t[++n] = s " 1"; t[++n] = e " -1" }
		END { for (i = 1; i <= n; i++) print t[i] }' |
		sort -k1,1n -k2,2n | awk '{ c += $2; if (c > m) m = c } END { print m + 0 }'
}

# auto_run NAME [OPTIONS]: the default hydrate beside fio's QD1 random reader
# for 2.5 s; sets during and after: the most fetches in flight while it read
# (from a second in: what was asked before it began has drained) and from a
# second and a half after it stopped.
auto_run() {
	local name=$1 t0 t1 end

	shift
	simvol_start "$img2" --latency 40 --concurrency 128 --bandwidth 200M ||
		skip_all "cannot start the simulator"
	t0=$(simvol_stat elapsed_us)
	fio --name=foreign --filename="$SIMVOL_DEV" --rw=randread --bs=4k --iodepth=1 \
		--ioengine=psync --direct=1 --readonly --time_based --runtime=2.5 \
		--output-format=terse >/dev/null 2>&1 &
	competitor=$!
	"$BLKHYDRATE" hydrate --json --progress=never "$@" "$SIMVOL_DEV" \
		>"$tmp/$name.json" 2>"$tmp/$name.err"
	is "$name: hydrate exits 0" "$?" 0
	wait "$competitor"
	competitor=
	end=$(simvol_stat elapsed_us)
	t1=$((t0 + 2500000))
	# Before its first knee auto depth has nothing to cap by: from 0.2 s
	# after it (the reading began "seconds" before the end) or a second in.
	knee=$(grep -o '"knee_s":[0-9.]*' "$tmp/$name.json" | cut -d: -f2)
	from=$(awk -v e="$end" -v s="$(json_get "$tmp/$name.json" seconds)" -v k="${knee:-0}" \
		-v t="$t0" 'BEGIN { f = e - s * 1e6 + k * 1e6 + 200000
			if (f < t + 1000000) f = t + 1000000; printf "%d", f }')
	during=$(most_inflight "$from" "$t1")
	late=$(most_inflight $((t1 - 500000)) "$t1")
	after=$(most_inflight $((t1 + 1500000)) $((end - 300000)))
	diag "$name: $(grep -o '"auto_depth":{[^}]*}' "$tmp/$name.json"), yield: $(json_yield_raw "$tmp/$name.json");" \
		"fetches in flight: $during while fio read (from $(((from - t0) / 1000)) ms), $late in its last 0.5 s, $after after"
	is "$name: every chunk warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
	simvol_stop
}

json_yield_raw() {
	grep -o '"yield":\({[^}]*}\|null\)' "$1"
}

need_tools fio
img2=$tmp/vol2.img
head -c $((1 << 30)) /dev/zero | tr '\0' 'a' >"$img2"
auto_run default
knee=$(grep -o '"knee_s":[0-9.]*' "$tmp/default.json" | cut -d: -f2)
ok "default: the first knee judged within 1.5 s of reading (${knee:-none})" \
	awk -v k="${knee:-9}" 'BEGIN { exit !(k <= 1.5) }'
ok "default: yielded once the QD1 reader read" [ "$(json_yield "$tmp/default.json" events)" -ge 1 ]
# Ours one fewer than the 16 served less an eighth, and theirs: 14; an
# estimate of 18 (CI saw one) gives 16, of 19 still 17. Not cutting gives
# the held depth, a tenth over the knee, and theirs: 19 or more.
ok "default: at most 17 in flight while it read ($during; the volume serves 16)" [ "$during" -le 17 ]
# The cap's own windows must not walk it down (they did, to 1 or 2 by the end).
ok "default: still 9 or more in flight in fio's last half second ($late)" [ "$late" -ge 9 ]
ok "default: above the knee again after it stopped ($after)" [ "$after" -ge 18 ]
ok "default: the summary says how long it made room" \
	grep -q 'made room for other readers for [0-9.]* s' "$tmp/default.err"
auto_run no-yield --no-yield
is "--no-yield: nothing watched" "$(json_yield_raw "$tmp/no-yield.json")" '"yield":null'
ok "--no-yield: more than 16 in flight while it read ($during)" [ "$during" -ge 18 ]

"$BLKHYDRATE" hydrate --yield --progress=never "$img" >/dev/null 2>"$tmp/err"
is "a file: hydrate exits 0" "$?" 0
ok "a file: says it cannot yield" grep -q -- '--yield: no target is a block device' "$tmp/err"
tap_done
