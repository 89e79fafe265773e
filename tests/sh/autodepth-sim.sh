#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: auto queue depth on the lazy-volume simulator. For two
# concurrency caps (4 and 32 fetches at once, 100 ms a fetch: far above what
# a busy test machine adds to a read) hydrate with the
# default --queue-depth auto: the depth chosen is reported in the progress
# lines and the JSON summary and lands near the cap's knee (between the cap
# and twice the cap: past the knee deeper only adds latency). A fixed depth
# stays fixed and says so.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT

# Volumes of data (no holes: a hole costs nothing and would teach nothing),
# large enough for the controller to settle in a few seconds at the cap.
image() {
	head -c "$2" /dev/zero | tr '\0' 'h' >"$1"
}

# converge CONCURRENCY SIZE LOW HIGH
converge() {
	local conc=$1 size=$2 lo=$3 hi=$4 depth

	image "$tmp/vol.img" "$size"
	simvol_start "$tmp/vol.img" --latency 100 --concurrency "$conc" --bandwidth 0 \
		--chunk-size 128K || skip_all "cannot start the simulator"
	"$BLKHYDRATE" hydrate --json --progress=always --read-mode full --block-size 128K "$SIMVOL_DEV" \
		>"$tmp/out.json" 2>"$tmp/err"
	is "concurrency $conc: hydrate exits 0" "$?" 0
	is "concurrency $conc: complete" "$(json_get "$tmp/out.json" complete)" true
	is "concurrency $conc: JSON says the depth was auto" \
		"$(json_get "$tmp/out.json" queue_depth_auto)" true
	depth=$(json_get "$tmp/out.json" queue_depth)
	diag "concurrency $conc: chosen depth $depth, $(json_get "$tmp/out.json" depth_changes) changes," \
		"mean latency $(json_get "$tmp/out.json" latency_ms) ms"
	ok "concurrency $conc: chosen depth $depth in [$lo, $hi]" \
		test "${depth:-0}" -ge "$lo" -a "${depth:-0}" -le "$hi"
	ok "concurrency $conc: progress lines show the depth and latency" \
		grep -q 'depth [0-9]* (auto.*MiB/s now, [0-9.]* ms a read' "$tmp/err"
	is "concurrency $conc: every chunk warm" "$(simvol_stat warm)" "$(simvol_stat chunks)"
	simvol_stop
}

converge 4 $((24 << 20)) 4 8
converge 32 $((192 << 20)) 32 64

image "$tmp/vol.img" $((8 << 20))
simvol_start "$tmp/vol.img" --latency 1 --concurrency 8 || skip_all "cannot start the simulator"
"$BLKHYDRATE" hydrate --json --progress=never --read-mode full --queue-depth 16 "$SIMVOL_DEV" >"$tmp/out.json" 2>"$tmp/err"
is "fixed depth: hydrate exits 0" "$?" 0
is "fixed depth: JSON queue_depth 16" "$(json_get "$tmp/out.json" queue_depth)" 16
is "fixed depth: not auto" "$(json_get "$tmp/out.json" queue_depth_auto)" false
is "fixed depth: never changed" "$(json_get "$tmp/out.json" depth_changes)" 0
tap_done
