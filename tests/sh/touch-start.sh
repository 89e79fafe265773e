#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: touch mode's start is cheap. The granularity probe reads
# its first three places alone; when those reads fetched, the other places'
# first reads go at once: in the simulator's record 5 fetches start within
# half a fetch of one another (one at a time: one), with whole fetches and with
# partial ones (where each far end is a fetch of its own, read one at a
# time). Where no first read is slower than a warm one (a fetch costs
# nothing, an IOPS cap queues reads) they stay one at a time. Its
# warm reads go one at a time: under an IOPS cap, 32 blocks wanted are all
# told cold (read at once, the warm reference would grow with the batch
# past a fetch). A hydrate that touches starts at full depth: in the fetch
# log, the first wave after the probe fetches dozens of blocks at once,
# where a ramp from depth 4 would fetch a handful. Each fetch costs 200 ms
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

# 1. Whole fetches: the first three places alone, then the other 5 first reads at once.
simvol_start "$img" "${SIM[@]}" || skip_all "cannot start the simulator"
"$BLKHYDRATE" probe --granularity --json "$SIMVOL_DEV" >"$tmp/whole.json" 2>"$tmp/err"
is "whole: probe exits 0" "$?" 0
is "whole: the verdict" "$(json_get "$tmp/whole.json" verdict)" whole
[ "$(json_get "$tmp/whole.json" verdict)" = whole ] || diag "$(cat "$tmp/whole.json")"
is "whole: 8 blocks fetched by the probe" "$(simvol_stat fetches)" 8
n=$(together)
is "whole: 5 of the probe's fetches started within $((LAT / 2)) ms of one another (one at a time: 1)" "$n" 5
simvol_stop

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

# 4. A run that touches starts at full depth.
simvol_start "$img" "${SIM[@]}" || skip_all "cannot start the simulator"
"$BLKHYDRATE" hydrate --json --progress=never --read-mode auto "$SIMVOL_DEV" \
	>"$tmp/hydrate.json" 2>"$tmp/err"
is "hydrate: exit 0" "$?" 0
is "hydrate: it touched" "$(sed 's/.*"targets":\[//' "$tmp/hydrate.json" |
	grep -o '"read_mode":"[a-z]*"' | head -n 1 | cut -d'"' -f4)" touch
is "hydrate: every data chunk warm" "$(simvol_stat warm_data)" "$(simvol_stat data_chunks)"
# The probe's fetches come first (one a place probed: probe_places, each a
# cold snapshot block on this fresh volume); from the last of them on, two and a half fetches: the
# first wave of touches, the second started (a ramp: 4, then at most 16).
probed=$(json_get "$tmp/hydrate.json" probe_places)
early=$(sort -n "$log" | awk -v p="$probed" -v w=$((LAT * 5 / 2)) 'NR == p { a = $1 }
	NR > p && ($1 - a) / 1e6 <= w { n++ } END { print n + 0 }')
ok "hydrate: $early chunks warm within $((LAT * 5 / 2)) ms after the probe's $probed (>= 48: a full first wave; a ramp from 4: at most 20)" \
	[ "$early" -ge 48 ]
simvol_stop
tap_done
