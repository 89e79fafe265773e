#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: touch mode's start is cheap. The granularity probe reads
# its first three places' first reads at once; when those fetched, the other
# places' first reads go at once too: in the simulator's record the first 3
# fetches start within half a fetch of one another, and 5 more together
# (one at a time: one), with whole fetches and with
# partial ones (where each far end is a fetch of its own, read one at a
# time). Where no first read is slower than a warm one (a fetch costs
# nothing, an IOPS cap queues reads) the rest go one at a time. Its
# warm reads go one at a time: under an IOPS cap, 32 blocks wanted are all
# told cold (read at once, the warm reference would grow with the batch
# past a fetch). A hydrate that touches starts at 8, the probe having
# measured the unloaded latency: in the fetch log, the first waves after the
# probe fetch twice what a ramp from depth 4 would. Each fetch costs 200 ms
# (20 ms under the IOPS cap), far above what a loaded machine adds.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

simvol_workdir
LAT=200
img=$tmp/vol.img
head -c $((128 << 20)) /dev/urandom >"$img"
log=$tmp/fetch.log
SIM=(--latency $LAT --concurrency 128 --bandwidth 0 --chunk-size 512K --fetch-log "$log")
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# together: the most fetches in the simulator's record that started within
# half a fetch's latency of one another.
together() {
	simvol_chunks | awk -v w=$((LAT * 1000 / 2)) '{ s[NR] = $3 } END {
		for (i = 1; i <= NR; i++) { n = 0; for (j = 1; j <= NR; j++) n += s[j] >= s[i] && s[j] < s[i] + w
			if (n > best) best = n }
		print best + 0 }'
}

# lead: how many of the first 3 fetches started within half a fetch's
# latency of the first.
lead() {
	simvol_chunks | awk '{ print $3 }' | sort -n | head -n 3 |
		awk -v w=$((LAT * 1000 / 2)) 'NR == 1 { a = $1 } $1 < a + w { n++ } END { print n + 0 }'
}

# 1. Whole fetches: the first three places' first reads at once, then the other 5.
simvol_start "$img" "${SIM[@]}" || skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json "$SIMVOL_DEV" >"$tmp/whole.json" 2>"$tmp/err"
is "whole: probe exits 0" "$?" 0
is "whole: the verdict" "$(json_get "$tmp/whole.json" verdict)" whole
[ "$(json_get "$tmp/whole.json" verdict)" = whole ] || diag "$(cat "$tmp/whole.json")"
is "whole: 8 blocks fetched by the probe" "$(simvol_stat fetches)" 8
n=$(together)
is "whole: 5 of the probe's fetches started within $((LAT / 2)) ms of one another (one at a time: 1)" "$n" 5
is "whole: the first 3 fetches started within $((LAT / 2)) ms of the first (one at a time: 1)" "$(lead)" 3
simvol_stop

# 1b. Three blocks wanted: the lead's three are cold, but from one round of
# reads at once; one more place makes a second round and the verdict.
simvol_start "$img" "${SIM[@]}" || skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json --samples 3 "$SIMVOL_DEV" >"$tmp/three.json" 2>"$tmp/err"
is "3 blocks wanted: the verdict" "$(json_get "$tmp/three.json" verdict)" whole
is "3 blocks wanted: a fourth place read, a round of its own" \
	"$(json_get "$tmp/three.json" tried) $(json_get "$tmp/three.json" cold_rounds) $(simvol_stat fetches)" "4 2 4"
simvol_stop

# 1c. A fetch of 4 ms, under the 5 ms a warm read could once not pass: the
# lead's first reads are still slower than the threshold over their warm
# reads again, so the next 5 first reads go at once: more fetches in flight
# at once than the lead's 3 (the simulator's start times jitter by
# milliseconds, so its peak count tells, not the fetch log). A 4 ms fetch is
# near a warm read on a loaded machine (CI once saw one warm read slow
# enough): up to three fresh volumes; the old threshold, or reading one at a
# time, gives 3 on every one.
for try in 1 2 3; do
	simvol_start "$img" --latency 4 --concurrency 128 --bandwidth 0 --chunk-size 512K ||
		skip_all "cannot start the simulator"
	"$BLKHYDRATE" probe --granularity --json "$SIMVOL_DEV" >"$tmp/fast.json" 2>"$tmp/err"
	v=$(json_get "$tmp/fast.json" verdict)
	n=$(simvol_stat max_inflight)
	simvol_stop
	[ "$v" = whole ] && [ "$n" -ge 4 ] && break
	diag "4 ms fetches, volume $try: verdict $v, $n in flight at most"
done
is "4 ms fetches: the verdict" "$v" whole
ok "4 ms fetches: $n fetches in flight at once at most (>= 4; one at a time after the lead: 3; volume $try of 3)" \
	[ "$n" -ge 4 ]

# 2. Partial fetches: the same, each far end then a fetch of its own.
simvol_start "$img" "${SIM[@]}" --fetch partial || skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json "$SIMVOL_DEV" >"$tmp/partial.json" 2>"$tmp/err"
is "partial: probe exits 0" "$?" 0
is "partial: the verdict" "$(json_get "$tmp/partial.json" verdict)" partial
[ "$(json_get "$tmp/partial.json" verdict)" = partial ] || diag "$(cat "$tmp/partial.json")"
is "partial: 8 cold blocks, each far end cold" "$(json_get "$tmp/partial.json" far_cold)" 8
is "partial: 16 fetches" "$(simvol_stat fetches)" 16
n=$(together)
is "partial: 5 of them started within $((LAT / 2)) ms of one another (one at a time: 1)" "$n" 5
is "partial: the first 3 fetches started within $((LAT / 2)) ms of the first (one at a time: 1)" "$(lead)" 3
simvol_stop

# 2b. A volume that costs nothing to fetch, under an IOPS cap of 800 (1.25
# ms a read): the first places' first reads are no slower than a warm one,
# so the others go one at a time, each warm. Read at once, each would wait on
# those before it (8 at once: up to 10 ms, past the threshold): cold, with
# warm far ends, the verdict would be whole.
simvol_start "$img" --latency 0 --concurrency 128 --bandwidth 0 --guest-iops 800 ||
	skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json "$SIMVOL_DEV" >"$tmp/free.json" 2>"$tmp/err"
is "fetches free: probe exits 0" "$?" 0
is "fetches free: the verdict" "$(json_get "$tmp/free.json" verdict)" unsure
[ "$(json_get "$tmp/free.json" verdict)" = unsure ] || diag "$(cat "$tmp/free.json")"
simvol_stop

# 3. Under an IOPS cap each read at once waits on those before it: warm
# reads one at a time keep the reference the device's, below a fetch.
simvol_start "$img" --latency 20 --concurrency 128 --bandwidth 0 --guest-iops 1000 ||
	skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json --samples 32 "$SIMVOL_DEV" >"$tmp/capped.json" 2>"$tmp/err"
is "IOPS cap, 32 blocks wanted: probe exits 0" "$?" 0
is "IOPS cap, 32 blocks wanted: the verdict" "$(json_get "$tmp/capped.json" verdict)" whole
is "IOPS cap, 32 blocks wanted: every block cold" "$(json_get "$tmp/capped.json" cold)" 32
simvol_stop

# 3b. The same cap over a volume warm but for the lead's three places (the
# first 3 of 32 strata of 4 MiB: the probe's places for 16 blocks wanted):
# the lead fetched, so the next 13 first reads go at once, and the cap
# serves them one after another, the last 16 ms after they were sent, past
# the threshold. Sorted, their latencies rise a warm read at a time, no step
# a fetch: warm. 3 cold blocks, from one round, no verdict.
simvol_start "$img" --latency 20 --concurrency 128 --bandwidth 0 --guest-iops 800 ||
	skip_all "cannot start the simulator"
dd if="$SIMVOL_DEV" of=/dev/null bs=1M skip=12 iflag=direct status=none
"$BLKHYDRATE" probe --granularity --json --samples 16 "$SIMVOL_DEV" >"$tmp/queued.json" 2>"$tmp/err"
is "IOPS cap, warm but the lead: 3 cold blocks, in 1 round" \
	"$(json_get "$tmp/queued.json" cold) $(json_get "$tmp/queued.json" cold_rounds)" "3 1"
is "IOPS cap, warm but the lead: the verdict" "$(json_get "$tmp/queued.json" verdict)" unsure
simvol_stop

# 4. A run that touches starts at 8: the probe measured the unloaded latency.
simvol_start "$img" "${SIM[@]}" || skip_all "cannot start the simulator"
"$BLKHYDRATE" hydrate --json --progress=never --read-mode auto "$SIMVOL_DEV" \
	>"$tmp/hydrate.json" 2>"$tmp/err"
is "hydrate: exit 0" "$?" 0
is "hydrate: it touched" "$(sed 's/.*"targets":\[//' "$tmp/hydrate.json" |
	grep -o '"read_mode":"[a-z]*"' | head -n 1 | cut -d'"' -f4)" touch
is "hydrate: every data chunk warm" "$(simvol_stat warm_data)" "$(simvol_stat data_chunks)"
# The probe's fetches come first (one a place probed: probe_places, each a
# cold snapshot block on this fresh volume); from the last of them on, three
# and a half fetches: a first wave of 8 touches (twice the ramp's 4: the
# probe measured the unloaded latency), its refill while the first sample
# drains the queue, then doubled once it came back in the probe's latency
# (30 or so; a start at 4: 16).
probed=$(json_get "$tmp/hydrate.json" probe_places)
early=$(sort -n "$log" | awk -v p="$probed" -v w=$((LAT * 7 / 2)) 'NR == p { a = $1 }
	NR > p && ($1 - a) / 1e6 <= w { n++ } END { print n + 0 }')
ok "hydrate: $early chunks fetched within $((LAT * 7 / 2)) ms after the probe's $probed (>= 24; from 4: 16)" \
	[ "$early" -ge 24 ]
simvol_stop
tap_done
