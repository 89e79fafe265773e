#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2034,SC2154 # globals of lib.sh and priority.sh
#
# reader-grid.sh - a model server reading beside the hydrator (issue 13),
# over a grid of simulated volumes.
#
#   bench/reader-grid.sh [--full] [BUILD_DIR]
#
# One ext4 volume of GRID_SIZE with a model of GRID_MODEL in four files
# (model-00001-of-00004.safetensors ...), written last, GRID_FREE% of the
# file system free. For each volume of the grid (fetch latency x fetches at
# once x shared bandwidth) and each hydrator, on a fresh simulated volume, a
# plain reader (cat of each model file in order) starts with the hydrator:
#
#   blkhydrate   blkhydrate hydrate -p 'MODELDIR/model-*.safetensors' DEV
#   baseline     the same with GRID_BASELINE (another build, e.g. main's)
#   fio          AWS's whole-device command (fio --rw=read --bs=1M --iodepth=32)
#   per-file fio fio over each model file in turn, then AWS's whole-device command
#
# Each row: the reader's time and the time until every model chunk (by
# filefrag) is warm, as multiples of the simulator's limit for the model's
# chunks (max(bytes / bandwidth, rounds of the fetch pool x latency)); the
# hydrator's time for the whole volume as a multiple of the whole volume's
# limit; the hydrator's CPU seconds. "target" is the issue's bound for the
# reader: 1.05 x the model's limit plus the reader's own time on a warm
# volume (measured after the blkhydrate run), as a multiple of the limit.
# "floor" bounds model warm from below: the earliest a model chunk was
# fetched in any run of the row (after the file system's metadata, a cold
# fetch a level, which every reader waits on) plus the limit, as a multiple.
#
# The reduced grid (default) is four volumes; --full runs latency 2 10 20 40 ms
# x 4 16 128 fetches x 200 500 1000 MiB/s. Knobs: GRID_SIZE=1G, GRID_MODEL=256M,
# GRID_FREE=25, GRID_BASELINE=(path to a blkhydrate binary, optional),
# GRID_ROWS="LAT:CONC:MIBS ..." (overrides the grid).

set -u
set -o pipefail
export LC_ALL=C

script_dir=$(cd "$(dirname "$0")" && pwd) || exit 2
srcdir=$(cd "$script_dir/.." && pwd)
# shellcheck source=lib.sh
. "$script_dir/lib.sh"
# shellcheck source=priority.sh
. "$script_dir/priority.sh"
grid_args reader-grid.sh "$@"

GRID_SIZE=${GRID_SIZE:-1G}
GRID_MODEL=${GRID_MODEL:-256M}
GRID_FREE=${GRID_FREE:-25}
GRID_BASELINE=${GRID_BASELINE:-}
BENCH_CHUNK_SIZE=512K
BENCH_READAHEAD_KB=${BENCH_READAHEAD_KB:-128}
if [ -n "${GRID_ROWS:-}" ]; then
	rows=$GRID_ROWS
elif [ "$full" = 1 ]; then
	rows=$(grid_full_rows)
else
	# The issue's volume, a fast wide one, a slow narrow one, a middle one.
	rows="20:16:300 2:128:1000 40:4:200 10:16:500"
fi

bench_setup "$srcdir" "$build"
why=$(simvol_need) || die "cannot simulate a lazy volume: $why"
if [ -n "$GRID_BASELINE" ]; then
	cp "$GRID_BASELINE" "$work/bin/baseline" || die "cannot copy $GRID_BASELINE"
	GRID_BASELINE=$work/bin/baseline
fi

# warm_read: the reader's own time on the warm volume left by the last run
# (remounted, so that nothing of it is in the page cache).
g_warm=-
warm_read() {
	g_warm=-
	umount "$prio_mnt" && mount -o ro,noload "$SIMVOL_DEV" "$prio_mnt" || return 1
	# shellcheck disable=SC2016 # the reader's own script
	timed "$work/grid.warm" sh -c 'for f; do cat "$f" >/dev/null || exit 1; done' reader \
		"${prio_models[@]}"
	[ "$r_rc" = 0 ] && g_warm=$r_wall
}

# grid_run NAME HYDRATOR...: prio_run, the reader's warm time after the
# blkhydrate run, and the whole-volume check.
grid_after() {
	[ "$1" != blkhydrate ] || warm_read
}
prio_after=grid_after
# grid_run also keeps g_first, the earliest model fetch of the row's runs.
grid_run() {
	local f

	prio_run "$@" || return 1
	f=$(first_fetch "$work/prio.model-chunks" "$work/prio.$1.chunks" "$prio_t0")
	g_first=$(awk -v a="$g_first" -v b="$f" 'BEGIN { print (a == "-" || (b != "-" && b < a)) ? b : a }')
	sim_check_whole "grid $1" "$work/prio.$1.stats" >/dev/null
}

# cells LIMIT WHOLE_LIMIT: "reader warm whole cpu" of the last run as multiples.
cells() {
	awk -v r="$p_reader" -v w="$p_warm" -v h="$p_hwall" -v c="$p_cpu" -v l="$1" -v wl="$2" '
		function x(v, d) { return (v == "-" || d <= 0) ? "-" : sprintf("%.2f", v / d) }
		BEGIN { printf "%5s %5s %5s %5s", x(r, l), x(w, l), x(h, wl), c }'
}

fio_whole='fio --name=read_test --filename=@DEV@ --rw=read --bs=1M --ioengine=libaio --iodepth=32 --direct=1 --readonly --output-format=json'
BENCH_PRIO_SIZE=$GRID_SIZE BENCH_PRIO_MODEL=$GRID_MODEL BENCH_PRIO_FREE=$GRID_FREE
PRIO_NAMES="model-00001-of-00004 model-00002-of-00004 model-00003-of-00004 model-00004-of-00004"
prio_build
echo "Reader beside the hydrator: $GRID_SIZE ext4 volume, model $GRID_MODEL in 4 files written last"
echo "($model_chunks chunks of 512 KiB by filefrag), $GRID_FREE% free; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blkhydrate: $BLKHYDRATE (copy of $build/blkhydrate)${GRID_BASELINE:+; baseline: $GRID_BASELINE}"
echo "Columns per hydrator: reader, model warm (x the model's limit), whole (x the volume's"
echo "limit), CPU s. target: the issue's bound for the reader (1.05 x limit + warm read)."
echo "floor: model warm can be no sooner (first model fetch of any run + limit, x the limit)."
echo
hdr=$(printf '%-13s %6s %6s %5s %5s' "lat:conc:MiBs" "lim s" "whole" target floor)
for h in blkhydrate ${GRID_BASELINE:+baseline} fio per-file-fio; do
	hdr="$hdr | $(printf '%-23s' "$h")"
done
echo "$hdr"
for row in $rows; do
	IFS=: read -r lat conc mibs <<<"$row"
	sim_opts=(--latency "$lat" --concurrency "$conc" --bandwidth "${mibs}M" --chunk-size 512K)
	lim=$(awk -v n="$model_chunks" -v cs="$prio_chunk" -v bw="$((mibs * MiB))" -v c="$conc" \
		-v l="$lat" 'BEGIN { a = n * cs / bw; p = int((n + c - 1) / c) * l / 1000
		printf "%.3f\n", (a > p ? a : p) }')
	line= g_first=-
	grid_run blkhydrate "$BLKHYDRATE" hydrate --json --progress=never \
		-p "$prio_mnt/opt/models/model-*.safetensors" @DEV@
	read -r _ _ wlim < <(sim_floor "$work/prio.blkhydrate.stats")
	target=$(awk -v l="$lim" -v w="$g_warm" 'BEGIN { if (w == "-") print "-"; else printf "%.2f", (1.05 * l + w) / l }')
	line="$line | $(cells "$lim" "$wlim")"
	if [ -n "$GRID_BASELINE" ]; then
		grid_run baseline "$GRID_BASELINE" hydrate --json --progress=never \
			-p "$prio_mnt/opt/models/model-*.safetensors" @DEV@
		line="$line | $(cells "$lim" "$wlim")"
	fi
	# shellcheck disable=SC2086 # the command's words
	grid_run fio $fio_whole
	line="$line | $(cells "$lim" "$wlim")"
	# shellcheck disable=SC2016 # the per-file script
	grid_run per-file-fio sh -c 'dev=$1; shift; for f; do
		fio --name=file --filename="$f" --rw=read --bs=1M --ioengine=libaio --iodepth=32 \
		    --direct=1 --readonly --output-format=json >/dev/null || exit 1; done
		fio --name=read_test --filename="$dev" --rw=read --bs=1M --ioengine=libaio \
		    --iodepth=32 --direct=1 --readonly --output-format=json' perfile @DEV@ "${prio_models[@]}"
	line="$line | $(cells "$lim" "$wlim")"
	floor=$(awk -v l="$lim" -v f="$g_first" 'BEGIN { if (f == "-") print "-"; else printf "%.2f", (f + l) / l }')
	printf '%-13s %6.2f %6.2f %5s %5s%s\n' "$row" "$lim" "$wlim" "$target" "$floor" "$line"
done
echo
echo "Issue 13's targets: reader <= target, model warm <= 1.03, whole <= 1.03, no row worse"
echo "than today's (the baseline), CPU no more than fio's."
if [ ${#failures[@]} -gt 0 ]; then
	echo "FAILED runs:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
