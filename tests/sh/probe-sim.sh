#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: blkhydrate probe on partly hydrated simulated volumes. The
# true cold share comes from the simulator's counters just before each probe.
# Half hydrated (the first half read with dd): the truth lies in the stated
# interval. Hydrated at random places (40% of the chunks): with five seeds,
# the truth lies in at least four of the five 95% intervals (a 95% interval
# may miss; five of them missing twice happens 2% of the time, and the seeds
# and places are fixed, so the outcome is too). Probe says how much it read,
# and reads exactly that; the same seed reads the same places.
. "$(dirname "$0")/../lib/tap.sh"
. "$top_srcdir/tests/lib/simvol.sh"
why=$(simvol_need) || skip_all "$why"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/blkhydrate-test.XXXXXX")
trap 'simvol_stop; rm -rf "$tmp"' EXIT

# cold_share: the simulator's cold share of the data chunks now, e.g. 0.4873.
cold_share() {
	awk -v w="$(simvol_stat warm_data)" -v d="$(simvol_stat data_chunks)" \
		'BEGIN { printf "%.6f\n", (d - w) / d }'
}

# settle: wait until no chunk has warmed for half a second. Whoever probes a
# new block device (udev's blkid, if a udevd runs) reads its first and last
# blocks: that must be over before the truth is taken.
settle() {
	local last=-1 now i

	for ((i = 0; i < 40; i++)); do
		now=$(simvol_stat warm)
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 0.5
	done
}

# within X LOW HIGH
within() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

img=$tmp/vol.img
head -c $((64 << 20)) /dev/zero | tr '\0' 'p' >"$img"
sum_before=$(sha256sum <"$img")

# --- half hydrated ---
# 100 ms a cold fetch: far above what a busy test machine adds to a warm read.
simvol_start "$img" --latency 100 --concurrency 8 --chunk-size 64K || skip_all "cannot start the simulator"
dd if="$SIMVOL_DEV" of=/dev/null bs=1M count=32 iflag=direct status=none
settle
truth=$(cold_share)
ok "half hydrated: the simulator says about half is cold ($truth)" within "$truth" 0.45 0.5
read0=$(simvol_stat bytes_read)
"$BLKHYDRATE" probe --json --samples 100 "$SIMVOL_DEV" >"$tmp/p.json" 2>"$tmp/err"
is "probe exits 0" "$?" 0
low=$(json_get "$tmp/p.json" cold_share_low)
high=$(json_get "$tmp/p.json" cold_share_high)
diag "estimate $(json_get "$tmp/p.json" cold_share) in [$low, $high]," \
	"warm $(json_get "$tmp/p.json" warm_latency_ms) ms (slowest $(json_get "$tmp/p.json" warm_max_ms))," \
	"threshold $(json_get "$tmp/p.json" threshold_ms) ms"
ok "half hydrated: true cold share $truth in [$low, $high]" within "$truth" "$low" "$high"
said=$(json_get "$tmp/p.json" bytes_read)
is "probe reads what it says it read" "$(($(simvol_stat bytes_read) - read0))" "$said"
is "which is (samples + 16 re-reads) x 4 KiB" "$said" $(((100 + 16) * 4096))
is "probe says how many bytes it read" "$(json_get "$tmp/p.json" samples)" 100
ok "probe says it warmed what it read" grep -q '"warmed_by_probe":true' "$tmp/p.json"

"$BLKHYDRATE" probe --samples 20 --seed 9 "$SIMVOL_DEV" >"$tmp/p.txt" 2>&1
ok "text output: the interval" grep -q '^Cold: .* (95% interval .* to .*)$' "$tmp/p.txt"
ok "text output: the histogram" grep -q '^Latency histogram:' "$tmp/p.txt"
ok "text output: bytes read and the warming" grep -q '^Read 144.0 KiB in all. Probing warmed' "$tmp/p.txt"
simvol_stop

# --- hydrated at random places ---
simvol_start "$img" --latency 100 --concurrency 64 --chunk-size 64K || skip_all "cannot start the simulator"
awk 'BEGIN { srand(7); for (i = 0; i < 1024; i++) if (rand() < 0.4) print i }' |
	xargs -P 32 -I{} dd if="$SIMVOL_DEV" of=/dev/null bs=64K skip={} count=1 iflag=direct status=none
settle
covered=0
for seed in 1 2 3 4 5; do
	truth=$(cold_share)
	"$BLKHYDRATE" probe --json --samples 80 --seed "$seed" "$SIMVOL_DEV" >"$tmp/p.json"
	low=$(json_get "$tmp/p.json" cold_share_low)
	high=$(json_get "$tmp/p.json" cold_share_high)
	diag "seed $seed: truth $truth, estimate $(json_get "$tmp/p.json" cold_share) in [$low, $high]"
	within "$truth" "$low" "$high" && covered=$((covered + 1))
done
ok "random places: the truth in $covered of 5 intervals (at least 4)" [ "$covered" -ge 4 ]

# The same seed reads the same places: the simulator fetches nothing for
# them. Probe's own count is timing: on a loaded host (or under ASan) a warm
# read now and then takes longer than the threshold, so it need only be far
# below the 40% a new set of places would show.
fetches=$(simvol_stat fetches)
"$BLKHYDRATE" probe --json --samples 80 --seed 1 "$SIMVOL_DEV" >"$tmp/p.json"
is "the same seed and samples again: the same places, nothing fetched" \
	"$(simvol_stat fetches)" "$fetches"
cold=$(json_get "$tmp/p.json" cold)
ok "... and probe finds them warm ($cold of 80 cold, at most 16)" [ "$cold" -le 16 ]
simvol_stop
is "the image is unchanged" "$(sha256sum <"$img")" "$sum_before"

"$BLKHYDRATE" probe --samples 0 "$img" >/dev/null 2>"$tmp/err"
is "--samples 0 is refused" "$?" 1
ok "with a reason" grep -q "invalid samples '0': out of range" "$tmp/err"
"$BLKHYDRATE" probe "$img" "$img" >/dev/null 2>"$tmp/err"
is "two targets are refused" "$?" 1
tap_done
